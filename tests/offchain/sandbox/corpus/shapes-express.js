// Express shape: (req, res) with res.status().set().json().
export default async (req, res) => {
  await Promise.resolve();
  res.status(201).set("x-shape", "express").json({ method: req.method, path: req.path, query: req.query, hello: req.body.hello });
};
