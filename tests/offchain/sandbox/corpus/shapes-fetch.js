// Fetch API shape: a Request in, a Response out, env holds the secrets.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const body = await request.json();
    ctx.waitUntil(Promise.resolve());
    return Response.json({ method: request.method, path: url.pathname, query: url.search, body, secrets: Object.keys(env) }, { status: 202, headers: { "x-shape": "fetch" } });
  },
};
