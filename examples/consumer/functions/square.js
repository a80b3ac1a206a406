// square: answers n * n as one 32-byte big-endian word (Solidity's abi.encode(uint256)). Runtime "js".
//
// A contract's request reaches the function as its request JSON: the consumer contract sends
// {"query":{"n":"12"}} as the input. A binary body travels base64-encoded in the result envelope
// (`body_encoding: "base64"`), and the router hands the consumer exactly these 32 bytes.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function base64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(chunk >> 18) & 63] + ALPHABET[(chunk >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(chunk >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? ALPHABET[chunk & 63] : "=";
  }
  return out;
}

export async function handler(req) {
  const n = BigInt((req.query && req.query.n) || "0");
  let value = n * n;
  const word = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    word[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return { status: 200, body: base64(word), body_encoding: "base64" };
}
