// square: answers n * n as one 32-byte big-endian word (Solidity's abi.encode(uint256)). Runtime "js".
//
// A contract's request reaches the function as its request JSON: the consumer contract sends
// {"query":{"n":"12"}} as the input. A binary body (a Uint8Array) travels base64-encoded in the
// result envelope, and the router hands the consumer exactly these 32 bytes.

export async function handler(req) {
  const n = BigInt((req.query && req.query.n) || "0");
  let value = n * n;
  const word = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    word[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return { status: 200, body: word };
}
