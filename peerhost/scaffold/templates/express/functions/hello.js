// A PeerHost function in the Express style: `req` has method, path, query, headers and the
// parsed body; answer with `res.status(…).json(…)`, `res.send(…)`, `res.set(…)`, `res.end()`.
// console.log lines are this function's log: `ape run logs {{project}} hello --account …`.
export default (req, res) => {
  const name = req.query.name ?? "world";
  console.log(`greeting ${name}`);
  res.status(200).json({ hello: name, method: req.method, path: req.path });
};
