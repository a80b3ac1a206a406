// Every new runtime API at once; the answer is pinned byte for byte, so any
// drift of SHA-2, HMAC, the seeded random stream, URL or UTF-8 shows up.
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (s) => new TextEncoder().encode(s);

export async function handler(req) {
  const digests = {};
  for (const name of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    digests[name] = hex(await crypto.subtle.digest(name, utf8("abc")));
  }
  const key = await crypto.subtle.importKey("raw", utf8("key"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const message = utf8("The quick brown fox jumps over the lazy dog");
  const mac = await crypto.subtle.sign("HMAC", key, message);
  const long = await crypto.subtle.importKey("raw", new Uint8Array(200).fill(7), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
  const url = new URL("../b/./c?x=1&y=a+b#frag", "https://example.com/a/z");
  url.searchParams.append("z", "é&=");
  const headers = new Headers({ "X-B": "2", "x-a": "1" });
  headers.append("x-a", "3");
  return {
    digests,
    hmac_sha256: hex(mac),
    hmac_verified: await crypto.subtle.verify("HMAC", key, mac, message),
    hmac_tampered: await crypto.subtle.verify("HMAC", key, mac, utf8("The quick brown fox jumps over the lazy cog")),
    hmac_sha512_long_key: hex(await crypto.subtle.sign({ name: "HMAC" }, long, message)),
    random: Array.from(crypto.getRandomValues(new Uint8Array(8))),
    uuid: crypto.randomUUID(),
    url: url.href,
    params: [...url.searchParams],
    headers: [...headers],
    text: new TextDecoder().decode(utf8("zß水🍌")),
    lossy: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62, 0xe6, 0xb0])),
    request_id: req.metadata.request_id,
  };
}
