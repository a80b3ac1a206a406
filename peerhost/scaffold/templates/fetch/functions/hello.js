// A PeerHost function in the Fetch API shape (as on Cloudflare Workers): a Request comes in,
// a Response goes out; `env` holds the project's secrets.
// console.log lines are this function's log: `ape run logs {{project}} hello --account …`.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "world";
    console.log(`greeting ${name}`);
    return Response.json({ hello: name, method: request.method, path: url.pathname });
  },
};
