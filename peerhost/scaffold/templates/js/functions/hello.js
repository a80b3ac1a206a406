// A PeerHost function: the request comes in as `req`, the response goes out as the return value.
// console.log lines are this function's log: `ape run logs {{project}} hello --account …`.
export async function handler(req) {
  const name = req.query.name ?? "world";
  console.log(`greeting ${name}`);
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: { hello: name, method: req.method, path: req.path },
  };
}
