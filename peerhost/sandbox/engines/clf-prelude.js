export async function handler(request) { const [args, bytesArgs, secrets, Functions] = __clf.begin(request); return __clf.finish(await (async () => {
//@@PEERHOST-CLF-SOURCE@@
})()); }
// PeerHost clf runtime: a Chainlink-Functions-style source (a script body with top-level
// `return` and `await`) runs unchanged as the body of the async function above; the first line
// holds the source's first line, so its line numbers stay as written. This file's sha256 is the
// runtime's identity (RUNTIME_ENGINE_SHA256["clf"] in peerhost/wire/feed.py): it runs on the
// js engine, whose own sha256 is pinned beside it.
const __clf = (() => {
  "use strict";
  const MAX_UINT256 = (1n << 256n) - 1n;
  const MIN_INT256 = -(1n << 255n);
  const MAX_INT256 = (1n << 255n) - 1n;
  const ARG_KEYS = new Set(["args", "bytesArgs"]);
  const FORMAT =
    'send a JSON object {"args": ["..."], "bytesArgs": ["0x..."]} or the ABI encoding of ' +
    "(string[] args, bytes[] bytesArgs)";

  function shown(value) {
    const text = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
    return text.length > 90 ? text.slice(0, 87) + "..." : text;
  }
  function integer(name, value) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number") {
      if (!Number.isInteger(value))
        throw new RangeError(`Functions.${name}: ${shown(value)} is not an integer (round it first, or pass a BigInt)`);
      return BigInt(value);
    }
    throw new TypeError(`Functions.${name} takes a number or a BigInt, not ${value === null ? "null" : typeof value}`);
  }
  function word(value) {
    const hex = value.toString(16).padStart(64, "0");
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  function encodeUint256(value) {
    const n = integer("encodeUint256", value);
    if (n < 0n || n > MAX_UINT256)
      throw new RangeError(`Functions.encodeUint256: ${shown(value)} is out of range (a uint256 is 0 to 2^256 - 1)`);
    return word(n);
  }
  function encodeInt256(value) {
    const n = integer("encodeInt256", value);
    if (n < MIN_INT256 || n > MAX_INT256)
      throw new RangeError(`Functions.encodeInt256: ${shown(value)} is out of range (an int256 is -2^255 to 2^255 - 1)`);
    return word(n < 0n ? n + (1n << 256n) : n);
  }
  function encodeString(value) {
    if (typeof value !== "string")
      throw new TypeError(`Functions.encodeString takes a string, not ${value === null ? "null" : typeof value}`);
    return new TextEncoder().encode(value);
  }
  async function makeHttpRequest() {
    throw new Error(
      "Functions.makeHttpRequest is not available in PeerHost: functions have no network access " +
        "(every worker must compute the same bytes, and outbound I/O with consensus is not built yet). " +
        "Fetch the data before the request and pass it in args or bytesArgs."
    );
  }
  const Functions = Object.freeze({ encodeUint256, encodeInt256, encodeString, makeHttpRequest });

  function hex(bytes) {
    let out = "0x";
    for (const b of bytes) out += b.toString(16).padStart(2, "0");
    return out;
  }
  function bytesOf(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  // (string[] args, bytes[] bytesArgs), ABI-encoded: what abi.encode(args, bytesArgs) gives.
  function abiArgs(data) {
    const bad = (what) => new Error(`the request body is not a valid ABI encoding of (string[], bytes[]): ${what}; ${FORMAT}`);
    const uint = (at) => {
      if (at + 32 > data.length) throw bad("it ends early");
      for (let i = at; i < at + 24; i++) if (data[i] !== 0) throw bad("an offset or length is too large");
      let n = 0;
      for (let i = at + 24; i < at + 32; i++) n = n * 256 + data[i];
      if (n > data.length) throw bad("an offset or length points past its end");
      return n;
    };
    const list = (head) => {
      const base = uint(head);
      const count = uint(base);
      const items = [];
      for (let i = 0; i < count; i++) {
        const start = base + 32 + uint(base + 32 + 32 * i);
        const size = uint(start);
        if (start + 32 + size > data.length) throw bad("an item points past its end");
        items.push(data.subarray(start + 32, start + 32 + size));
      }
      return items;
    };
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const args = list(0).map((b) => {
      try { return decoder.decode(b); } catch { throw bad("a string argument is not UTF-8"); }
    });
    return [args, list(32).map(hex)];
  }
  function jsonArgs(text) {
    let doc;
    try { doc = JSON.parse(text); } catch { throw new Error(`the request body is not valid JSON; ${FORMAT}`); }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`the request body is not a JSON object; ${FORMAT}`);
    for (const key of Object.keys(doc))
      if (!ARG_KEYS.has(key)) throw new Error(`the request body has an unknown key ${JSON.stringify(key)}; ${FORMAT}`);
    return checkedArgs(doc);
  }
  function checkedArgs(doc) {
    const args = doc.args === undefined ? [] : doc.args;
    const bytesArgs = doc.bytesArgs === undefined ? [] : doc.bytesArgs;
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string"))
      throw new Error(`"args" must be a list of strings; ${FORMAT}`);
    if (!Array.isArray(bytesArgs) || !bytesArgs.every((b) => typeof b === "string" && /^0x([0-9a-fA-F]{2})*$/.test(b)))
      throw new Error(`"bytesArgs" must be a list of 0x-prefixed hex strings of whole bytes; ${FORMAT}`);
    return [args, bytesArgs.map((b) => b.toLowerCase())];
  }
  function requestArgs(request) {
    const raw = typeof request.rawBody === "string" ? request.rawBody : "";
    // A contract's request JSON may carry them at its top level (a canonical HTTP request never does).
    if (request.args !== undefined || request.bytesArgs !== undefined) {
      if (raw.trim() !== "") throw new Error(`the request carries args both at its top level and in its body; ${FORMAT}`);
      return checkedArgs(request);
    }
    if (request.body_encoding === "base64") return abiArgs(bytesOf(raw));
    if (raw.trim() === "") return [[], []];
    if (/^\s*[[{]/.test(raw)) return jsonArgs(raw);
    if (raw.charCodeAt(0) === 0) return abiArgs(new TextEncoder().encode(raw));
    throw new Error(`the request body holds no arguments in a known form; ${FORMAT}`);
  }

  function begin(request) {
    const [args, bytesArgs] = requestArgs(request);
    const secrets = Object.freeze(Object.assign({}, globalThis.process && globalThis.process.env));
    return [Object.freeze(args), Object.freeze(bytesArgs), secrets, Functions];
  }
  function finish(value) {
    let bytes;
    if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else {
      const what = value === null ? "null" : value === undefined ? "nothing" : typeof value === "object" ? "an object" : `a ${typeof value}`;
      throw new TypeError(
        `the source returned ${what}: a Chainlink Functions source must return bytes (a Uint8Array), ` +
          "e.g. return Functions.encodeString(text) or Functions.encodeUint256(n)"
      );
    }
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return {
      status: 200,
      headers: { "content-type": "application/octet-stream" },
      body: btoa(bin),
      body_encoding: "base64",
    };
  }
  return Object.freeze({ begin, finish });
})();
