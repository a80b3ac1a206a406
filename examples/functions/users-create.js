// users-create: the founding model as written. Runtime "js".
//
// POST {"email": "Ada@Example.com", "name": "Ada Lovelace"}
// req.body is already parsed (the request says JSON); the returned object is
// the JSON body of a 200. It imports project code (../lib/users.js) and an npm
// package (slugify): publishing bundles them into one module.
import slugify from "slugify";
import { normalizeEmail, userIdFor } from "../lib/users.js";

export async function handler(req) {
  const email = normalizeEmail(req.body.email);
  const name = String(req.body.name ?? email.split("@")[0]);
  const user = {
    id: await userIdFor(email),
    email,
    name,
    handle: slugify(name, { lower: true, strict: true }),
    created_at: new Date().toISOString(),
  };
  return user;
}
