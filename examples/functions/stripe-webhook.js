// stripe-webhook: verifies a Stripe-style signed webhook. Runtime "js", Fetch API shape.
//
// The sender signs `${t}.${rawBody}` with HMAC-SHA256 under a shared secret and sends
//   Stripe-Signature: t=1767225600,v1=<hex signature>
// project.json declares the `stripe-signature` header (only declared headers reach a
// function); the secret is the project secret STRIPE_WEBHOOK_SECRET (env in the Fetch
// shape, process.env elsewhere): `ape run secrets set ... STRIPE_WEBHOOK_SECRET=whsec_...`.
const TOLERANCE_SECONDS = 300;

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

function parseSignature(header) {
  const fields = { v1: [] };
  for (const part of (header ?? "").split(",")) {
    const [key, value] = part.split("=", 2).map((s) => s?.trim());
    if (key === "t") fields.t = Number(value);
    else if (key === "v1" && value) fields.v1.push(value);
  }
  return fields;
}

async function verify(secret, header, payload) {
  const { t, v1 } = parseSignature(header);
  if (!Number.isInteger(t) || v1.length === 0) return "the stripe-signature header is missing or malformed";
  // The clock reads the request's block time: the same on every worker.
  if (Math.abs(Date.now() / 1000 - t) > TOLERANCE_SECONDS) return "the signature's timestamp is too old";
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = hex(await crypto.subtle.sign("HMAC", key, encoder.encode(`${t}.${payload}`)));
  return v1.includes(expected) ? null : "no v1 signature matches the payload";
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("use POST", { status: 405, headers: { allow: "POST" } });
    if (!env.STRIPE_WEBHOOK_SECRET) return Response.json({ error: "STRIPE_WEBHOOK_SECRET is not set" }, { status: 500 });
    const payload = await request.text(); // the exact bytes that were signed
    const problem = await verify(env.STRIPE_WEBHOOK_SECRET, request.headers.get("stripe-signature"), payload);
    if (problem) return Response.json({ error: "invalid_signature", detail: problem }, { status: 400 });
    const event = JSON.parse(payload);
    console.log(`webhook ${event.type} ${event.id}`);
    return Response.json({ received: true, id: event.id, type: event.type });
  },
};
