// PeerHost js runtime prelude: compiled into the engine (harness.c embeds it),
// so its bytes are part of the engine's identity (ENGINE_SHA256).
//
// Evaluated as a script before the function's module. It installs the web
// APIs functions expect (TextEncoder/TextDecoder, URL, URLSearchParams,
// Headers, Request, Response, crypto) and returns the harness's entry points:
//   begin(requestText)  parses the canonical request (before the module runs)
//   run(namespace)      picks the handler shape, calls it, returns
//                       [exitCode, stdoutText]
//   describe(error)     the error's text with a stack mapped to the original
//                       files (through the bundle's inline source map)
// Everything here is deterministic: no clock but the frozen one, random bytes
// from SHA-256 over the request id, no I/O but the log.
(function (global) {
  "use strict";
  const native = global.__peerhost_native;
  delete global.__peerhost_native;
  const writeLog = native.write;
  const moduleSource = native.source;
  const nativeDigest = native.digest; // (bits, Uint8Array) -> Uint8Array: SHA-256/384/512 in C
  const hidden = (obj, name, value) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  const FILE = "function.js";
  const MAX_FRAMES = 10;

  // ---------------------------------------------------------------- bytes
  function utf8Encode(str) {
    str = String(str);
    const out = [];
    for (let i = 0; i < str.length; i++) {
      let c = str.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
        const d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }

  // Returns the decoded string, or null when `fatal` and the bytes are not UTF-8.
  function utf8Decode(bytes, fatal) {
    let out = "";
    const n = bytes.length;
    for (let i = 0; i < n; ) {
      const b = bytes[i];
      let cp = -1, need = 0, min = 0;
      if (b < 0x80) { cp = b; need = 0; }
      else if (b >= 0xc2 && b < 0xe0) { cp = b & 31; need = 1; min = 0x80; }
      else if (b >= 0xe0 && b < 0xf0) { cp = b & 15; need = 2; min = 0x800; }
      else if (b >= 0xf0 && b < 0xf5) { cp = b & 7; need = 3; min = 0x10000; }
      let j = i + 1;
      let ok = cp >= 0;
      for (let k = 0; ok && k < need; k++, j++) {
        if (j >= n || (bytes[j] & 0xc0) !== 0x80) ok = false;
        else cp = (cp << 6) | (bytes[j] & 63);
      }
      if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
      if (!ok) {
        if (fatal) return null;
        out += "\ufffd";
        i = j > i + 1 ? j - 1 : i + 1; // resume at the byte that broke the sequence
        continue;
      }
      out += String.fromCodePoint(cp);
      i = j;
    }
    return out;
  }

  function toBytes(data, what) {
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError(`${what} must be an ArrayBuffer, a TypedArray or a DataView`);
  }
  const copyBuffer = (bytes) => bytes.slice().buffer;

  function base64Encode(bytes) {
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000)
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }
  function base64Decode(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return utf8Encode(input); }
    encodeInto(input, dest) {
      const bytes = utf8Encode(input);
      const n = Math.min(bytes.length, dest.length);
      dest.set(bytes.subarray(0, n));
      return { read: n === bytes.length ? String(input).length : undefined, written: n };
    }
  }
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const name = String(label).trim().toLowerCase();
      if (name !== "utf-8" && name !== "utf8" && name !== "unicode-1-1-utf-8")
        throw new RangeError(`TextDecoder supports only utf-8, not '${label}'`);
      this.fatal = Boolean(options.fatal);
      this.ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() { return "utf-8"; }
    decode(input = new Uint8Array(0)) {
      let bytes = toBytes(input, "TextDecoder.decode input");
      if (!this.ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      const text = utf8Decode(bytes, this.fatal);
      if (text === null) throw new TypeError("The encoded data was not valid utf-8");
      return text;
    }
  }

  // ---------------------------------------------------------------- hashes
  // SHA-1 (FIPS 180-4) in JavaScript for legacy webhooks; SHA-2 in C (native.digest).
  function pad(bytes, block, lenBytes) {
    const n = bytes.length;
    const total = Math.ceil((n + 1 + lenBytes) / block) * block;
    const out = new Uint8Array(total);
    out.set(bytes);
    out[n] = 0x80;
    const bits = n * 8;
    const hi = Math.floor(bits / 0x100000000), lo = bits >>> 0;
    out[total - 8] = hi >>> 24; out[total - 7] = hi >>> 16; out[total - 6] = hi >>> 8; out[total - 5] = hi;
    out[total - 4] = lo >>> 24; out[total - 3] = lo >>> 16; out[total - 2] = lo >>> 8; out[total - 1] = lo;
    return out;
  }
  const word = (b, i) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) | 0;
  function words32(h, count) {
    const out = new Uint8Array(count * 4);
    for (let i = 0; i < count; i++) {
      out[i * 4] = h[i] >>> 24; out[i * 4 + 1] = h[i] >>> 16; out[i * 4 + 2] = h[i] >>> 8; out[i * 4 + 3] = h[i];
    }
    return out;
  }

  function sha1(bytes) {
    const m = pad(bytes, 64, 8);
    const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
    const w = new Int32Array(80);
    for (let off = 0; off < m.length; off += 64) {
      for (let i = 0; i < 16; i++) w[i] = word(m, off + i * 4);
      for (let i = 16; i < 80; i++) { const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]; w[i] = (x << 1) | (x >>> 31); }
      let [a, b, c, d, e] = h;
      for (let i = 0; i < 80; i++) {
        let f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = b ^ c ^ d; k = 0xca62c1d6; }
        const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
        e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0; h[4] = (h[4] + e) | 0;
    }
    return words32(h, 5);
  }

  // SHA-256/384/512 run in C (harness.c): far less fuel than interpreted JavaScript.
  const sha256 = (bytes) => nativeDigest(256, bytes);

  const HASHES = {
    "SHA-1": { digest: sha1, block: 64, size: 20 },
    "SHA-256": { digest: sha256, block: 64, size: 32 },
    "SHA-384": { digest: (b) => nativeDigest(384, b), block: 128, size: 48 },
    "SHA-512": { digest: (b) => nativeDigest(512, b), block: 128, size: 64 },
  };
  function hashOf(algorithm) {
    const name = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
    const hash = HASHES[name];
    if (!hash) throw new DOMException(`Unsupported hash '${name}': use SHA-1, SHA-256, SHA-384 or SHA-512`, "NotSupportedError");
    return [name, hash];
  }
  function hmac(hash, key, message) {
    let k = key.length > hash.block ? hash.digest(key) : key;
    const padded = new Uint8Array(hash.block);
    padded.set(k);
    const inner = new Uint8Array(hash.block + message.length);
    const outer = new Uint8Array(hash.block + hash.size);
    for (let i = 0; i < hash.block; i++) {
      inner[i] = padded[i] ^ 0x36;
      outer[i] = padded[i] ^ 0x5c;
    }
    inner.set(message, hash.block);
    outer.set(hash.digest(inner), hash.block);
    return hash.digest(outer);
  }

  // ---------------------------------------------------------------- crypto
  let request = null; // the parsed canonical request (begin)
  let randomPool = new Uint8Array(0), randomCounter = 0;
  function randomBytes(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    const rid = request && request.metadata && typeof request.metadata.request_id === "string" ? request.metadata.request_id : "";
    while (filled < n) {
      if (randomPool.length === 0) {
        randomPool = sha256(utf8Encode(`peerhost/crypto-random/v1:${rid}:${randomCounter++}`));
      }
      const take = Math.min(randomPool.length, n - filled);
      out.set(randomPool.subarray(0, take), filled);
      randomPool = randomPool.subarray(take);
      filled += take;
    }
    return out;
  }

  class CryptoKey {
    constructor(algorithm, extractable, usages, bytes) {
      hidden(this, "_bytes", bytes);
      this.type = "secret";
      this.extractable = extractable;
      this.algorithm = algorithm;
      this.usages = usages;
    }
  }
  const algorithmName = (a) => String(typeof a === "object" && a !== null ? a.name : a).toUpperCase();
  function hmacKey(key, usage) {
    if (!(key instanceof CryptoKey) || key.algorithm.name !== "HMAC")
      throw new DOMException("the key is not an HMAC CryptoKey from crypto.subtle.importKey", "InvalidAccessError");
    if (!key.usages.includes(usage))
      throw new DOMException(`the key's usages do not include '${usage}'`, "InvalidAccessError");
    return key;
  }
  const subtle = {
    async digest(algorithm, data) {
      const [, hash] = hashOf(algorithm);
      return copyBuffer(hash.digest(toBytes(data, "digest data")));
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (format !== "raw") throw new DOMException(`importKey supports the 'raw' format, not '${format}'`, "NotSupportedError");
      if (algorithmName(algorithm) !== "HMAC")
        throw new DOMException(`importKey supports HMAC keys, not '${algorithmName(algorithm)}'`, "NotSupportedError");
      const [hashName] = hashOf(algorithm.hash);
      const bytes = toBytes(keyData, "key data").slice();
      const list = Array.from(usages || []);
      for (const u of list) if (u !== "sign" && u !== "verify") throw new SyntaxError(`HMAC keys cannot be used to '${u}'`);
      const alg = { name: "HMAC", hash: { name: hashName }, length: bytes.length * 8 };
      return new CryptoKey(alg, Boolean(extractable), list, bytes);
    },
    async exportKey(format, key) {
      if (format !== "raw") throw new DOMException(`exportKey supports the 'raw' format, not '${format}'`, "NotSupportedError");
      if (!key.extractable) throw new DOMException("the key is not extractable", "InvalidAccessError");
      return copyBuffer(key._bytes);
    },
    async sign(algorithm, key, data) {
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("sign supports HMAC", "NotSupportedError");
      hmacKey(key, "sign");
      return copyBuffer(hmac(HASHES[key.algorithm.hash.name], key._bytes, toBytes(data, "data")));
    },
    async verify(algorithm, key, signature, data) {
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("verify supports HMAC", "NotSupportedError");
      hmacKey(key, "verify");
      const expected = hmac(HASHES[key.algorithm.hash.name], key._bytes, toBytes(data, "data"));
      const given = toBytes(signature, "signature");
      let diff = expected.length ^ given.length;
      for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ (given[i] | 0);
      return diff === 0;
    },
  };
  const crypto = {
    subtle,
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView)
        throw new DOMException("getRandomValues needs an integer TypedArray", "TypeMismatchError");
      if (array.byteLength > 65536) throw new DOMException("getRandomValues takes at most 65536 bytes", "QuotaExceededError");
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
      return array;
    },
    randomUUID() {
      const b = randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };

  // ---------------------------------------------------------------- URL
  function formEncode(s) {
    return encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
  function formDecode(s) {
    const text = s.replace(/\+/g, " ");
    try { return decodeURIComponent(text); } catch { return text; }
  }
  class URLSearchParams {
    constructor(init = "") {
      hidden(this, "_list", []);
      hidden(this, "_url", null);
      if (init instanceof URLSearchParams) this._list = init._list.map((p) => p.slice());
      else if (typeof init === "object" && init !== null && typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("each URLSearchParams pair needs exactly two items");
          this._list.push([String(p[0]), String(p[1])]);
        }
      } else if (typeof init === "object" && init !== null) {
        for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
      } else this._parse(String(init));
    }
    _parse(text) {
      this._list = [];
      for (const part of text.replace(/^\?/, "").split("&")) {
        if (!part) continue;
        const eq = part.indexOf("=");
        this._list.push(eq < 0 ? [formDecode(part), ""] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
      }
    }
    _changed() { if (this._url) this._url._search = this._list.length ? "?" + this.toString() : ""; }
    get size() { return this._list.length; }
    append(k, v) { this._list.push([String(k), String(v)]); this._changed(); }
    delete(k) { this._list = this._list.filter((p) => p[0] !== String(k)); this._changed(); }
    get(k) { const p = this._list.find((q) => q[0] === String(k)); return p ? p[1] : null; }
    getAll(k) { return this._list.filter((p) => p[0] === String(k)).map((p) => p[1]); }
    has(k) { return this._list.some((p) => p[0] === String(k)); }
    set(k, v) {
      k = String(k);
      const i = this._list.findIndex((p) => p[0] === k);
      if (i < 0) this._list.push([k, String(v)]);
      else { this._list[i][1] = String(v); this._list = this._list.filter((p, j) => j <= i || p[0] !== k); }
      this._changed();
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, self) { for (const [k, v] of this._list) fn.call(self, v, k, this); }
    *entries() { for (const p of this._list) yield [p[0], p[1]]; }
    *keys() { for (const p of this._list) yield p[0]; }
    *values() { for (const p of this._list) yield p[1]; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this._list.map(([k, v]) => formEncode(k) + "=" + formEncode(v)).join("&"); }
  }

  const SPECIAL_PORTS = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443" };
  const URL_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*:)(?:\/\/([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/;
  function removeDots(path) {
    const out = [];
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const seg = parts[i];
      if (seg === "..") { if (out.length > 1) out.pop(); if (i === parts.length - 1) out.push(""); }
      else if (seg === ".") { if (i === parts.length - 1) out.push(""); }
      else out.push(seg);
    }
    const joined = out.join("/");
    return joined.startsWith("/") ? joined : "/" + joined;
  }
  const encodePath = (p) => p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c));
  const encodeQuery = (q) => q.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/g, (c) => encodeURIComponent(c));
  class URL {
    constructor(input, base) {
      input = String(input).trim();
      let m = URL_RE.exec(input);
      if (!m || (m[2] === undefined && SPECIAL_PORTS[m[1].toLowerCase()] !== undefined)) {
        if (base === undefined) throw new TypeError(`Invalid URL: '${input}'`);
        const b = base instanceof URL ? base : new URL(base);
        let path, search, hash;
        const rel = /^([^?#]*)(\?[^#]*)?(#.*)?$/.exec(input);
        if (input.startsWith("//")) return new URL(b.protocol + input);
        if (rel[1] === "") { path = b.pathname; search = rel[2] !== undefined ? rel[2] : b.search; hash = rel[3] || ""; }
        else {
          path = rel[1].startsWith("/") ? rel[1] : b.pathname.replace(/[^/]*$/, "") + rel[1];
          search = rel[2] || ""; hash = rel[3] || "";
        }
        m = URL_RE.exec(`${b.protocol}//${b.host}${removeDots(path)}${search}${hash}`);
      }
      this._protocol = m[1].toLowerCase();
      let authority = m[2] || "";
      const at = authority.lastIndexOf("@");
      this._username = at >= 0 ? authority.slice(0, at).split(":")[0] : "";
      this._password = at >= 0 && authority.slice(0, at).includes(":") ? authority.slice(0, at).split(":").slice(1).join(":") : "";
      if (at >= 0) authority = authority.slice(at + 1);
      const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
      if (!pm) throw new TypeError(`Invalid URL: '${input}'`);
      this._hostname = pm[1].toLowerCase();
      this._port = pm[2] && pm[2] !== SPECIAL_PORTS[this._protocol] ? String(Number(pm[2])) : "";
      const special = SPECIAL_PORTS[this._protocol] !== undefined;
      if (special && !this._hostname) throw new TypeError(`Invalid URL: '${input}'`);
      this._pathname = special ? removeDots(encodePath(m[3] || "/")) : encodePath(m[3] || "");
      this._search = m[4] && m[4] !== "?" ? encodeQuery(m[4]) : "";
      this._hash = m[5] && m[5] !== "#" ? m[5] : "";
      hidden(this, "_params", null);
      for (const k of ["_protocol", "_username", "_password", "_hostname", "_port", "_pathname", "_search", "_hash"])
        Object.defineProperty(this, k, { enumerable: false });
    }
    static canParse(input, base) { try { new URL(input, base); return true; } catch { return false; } }
    get protocol() { return this._protocol; }
    get username() { return this._username; }
    get password() { return this._password; }
    get hostname() { return this._hostname; }
    set hostname(v) { this._hostname = String(v).toLowerCase(); }
    get port() { return this._port; }
    set port(v) { this._port = String(v); }
    get host() { return this._hostname + (this._port ? ":" + this._port : ""); }
    get origin() { return SPECIAL_PORTS[this._protocol] !== undefined ? `${this._protocol}//${this.host}` : "null"; }
    get pathname() { return this._pathname; }
    set pathname(v) { this._pathname = removeDots(encodePath(String(v))); }
    get search() { return this._search; }
    set search(v) { v = String(v); this._search = v && v !== "?" ? encodeQuery(v.startsWith("?") ? v : "?" + v) : ""; if (this._params) this._params._parse(this._search); }
    get searchParams() {
      if (!this._params) { this._params = new URLSearchParams(this._search); this._params._url = this; }
      return this._params;
    }
    get hash() { return this._hash; }
    set hash(v) { v = String(v); this._hash = v && v !== "#" ? (v.startsWith("#") ? v : "#" + v) : ""; }
    get href() {
      const auth = this._username ? this._username + (this._password ? ":" + this._password : "") + "@" : "";
      const slashes = this._hostname || SPECIAL_PORTS[this._protocol] !== undefined ? "//" : "";
      return `${this._protocol}${slashes}${auth}${this.host}${this._pathname}${this._search}${this._hash}`;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }

  // ---------------------------------------------------------------- Fetch API
  const normalizeName = (name) => {
    const n = String(name).toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n)) throw new TypeError(`'${name}' is not a valid header name`);
    return n;
  };
  class Headers {
    constructor(init) {
      hidden(this, "_map", new Map());
      if (init instanceof Headers) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init[Symbol.iterator] === "function") for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(name, value) {
      const n = normalizeName(name);
      const v = String(value).trim();
      this._map.set(n, this._map.has(n) ? `${this._map.get(n)}, ${v}` : v);
    }
    set(name, value) { this._map.set(normalizeName(name), String(value).trim()); }
    get(name) { const v = this._map.get(String(name).toLowerCase()); return v === undefined ? null : v; }
    has(name) { return this._map.has(String(name).toLowerCase()); }
    delete(name) { this._map.delete(String(name).toLowerCase()); }
    forEach(fn, self) { for (const [k, v] of this) fn.call(self, v, k, this); }
    *entries() { for (const k of [...this._map.keys()].sort()) yield [k, this._map.get(k)]; }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
  }

  // Body: stored as a string (text) or a Uint8Array (bytes), or null.
  function bodyInit(body, headers) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string") {
      if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      return body;
    }
    if (body instanceof URLSearchParams) {
      if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
      return body.toString();
    }
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return toBytes(body, "body").slice();
    const text = String(body);
    if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
    return text;
  }
  class Body {
    _take() {
      if (this.bodyUsed) throw new TypeError("the body has already been read");
      hidden(this, "_used", true);
      return this._body;
    }
    get bodyUsed() { return Boolean(this._used); }
    get body() { return this._body === null ? null : this._body; }
    async text() { const b = this._take(); return b === null ? "" : typeof b === "string" ? b : utf8Decode(b, false); }
    async json() { return JSON.parse(await this.text()); }
    async arrayBuffer() { return copyBuffer(await this.bytes()); }
    async bytes() { const b = this._take(); return b === null ? new Uint8Array(0) : typeof b === "string" ? utf8Encode(b) : b.slice(); }
  }
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const from = input instanceof Request ? input : null;
      this.url = from ? from.url : new URL(String(input)).href;
      this.method = String(init.method || (from ? from.method : "GET")).toUpperCase();
      this.headers = new Headers(init.headers || (from ? from.headers : undefined));
      const body = init.body !== undefined ? init.body : from ? from._body : null;
      if (body !== null && body !== undefined && (this.method === "GET" || this.method === "HEAD"))
        throw new TypeError("a GET or HEAD request cannot have a body");
      hidden(this, "_body", bodyInit(body, this.headers));
      this.signal = null;
    }
    clone() { return new Request(this); }
  }
  const STATUS_TEXT = { 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
    303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable" };
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`Response status must be 200-599, not ${init.status}`);
      this.status = status;
      this.statusText = init.statusText === undefined ? "" : String(init.statusText);
      this.headers = new Headers(init.headers);
      hidden(this, "_body", bodyInit(body, this.headers));
      this.type = "default";
      this.url = "";
      this.redirected = false;
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    clone() { return new Response(this._body, this); }
    static json(data, init = {}) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("Response.json: the data is not JSON-serializable");
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(text, { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`invalid redirect status ${status}`);
      return new Response(null, { status, headers: { location: new URL(String(url)).href } });
    }
  }

  // ---------------------------------------------------------------- console
  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return typeof value.stack === "string" && value.stack ? value.stack : String(value);
    if (typeof value === "object" && value !== null && !(value instanceof Date)) {
      try {
        const text = JSON.stringify(value, (k, v) => (typeof v === "bigint" ? `${v}n` : v));
        if (text !== undefined) return text;
      } catch { /* cycles: fall through */ }
    }
    return String(value);
  }
  const console = {};
  for (const name of ["log", "info", "warn", "error", "debug"])
    console[name] = (...args) => writeLog(args.map(show).join(" "));

  // ---------------------------------------------------------------- stacks
  let sourceMap; // undefined: not loaded yet; null: none
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function loadSourceMap() {
    if (sourceMap !== undefined) return sourceMap;
    sourceMap = null;
    try {
      const text = moduleSource();
      const marker = "//# sourceMappingURL=data:application/json;base64,";
      const at = text.lastIndexOf(marker);
      if (at < 0) return null;
      const map = JSON.parse(utf8Decode(base64Decode(text.slice(at + marker.length).trim()), false));
      const lines = [];
      let src = 0, sLine = 0, sCol = 0;
      for (const line of String(map.mappings).split(";")) {
        const segs = [];
        let gCol = 0;
        for (const seg of line.split(",")) {
          if (!seg) continue;
          const v = [];
          let value = 0, shift = 0;
          for (const ch of seg) {
            const d = B64.indexOf(ch);
            value += (d & 31) << shift;
            if (d & 32) shift += 5;
            else { v.push(value & 1 ? -(value >>> 1) : value >>> 1); value = 0; shift = 0; }
          }
          gCol += v[0];
          if (v.length >= 4) { src += v[1]; sLine += v[2]; sCol += v[3]; segs.push([gCol, src, sLine, sCol]); }
        }
        lines.push(segs);
      }
      sourceMap = { sources: map.sources || [], lines };
    } catch {
      sourceMap = null;
    }
    return sourceMap;
  }
  function mapPosition(line, col) {
    const map = loadSourceMap();
    if (!map || line < 1 || line > map.lines.length) return null;
    let best = null;
    for (const seg of map.lines[line - 1]) if (seg[0] <= col - 1) best = seg; else break;
    if (!best) return null;
    return `${map.sources[best[1]] || "?"}:${best[2] + 1}:${best[3] + 1}`;
  }
  function frameText(site) {
    const file = site.getFileName();
    if (typeof file === "string" && file.startsWith("peerhost:")) return null;
    const fn = site.getFunctionName() || "<anonymous>";
    if (site.isNative()) return `    at ${fn} (native)`;
    const line = site.getLineNumber(), col = site.getColumnNumber();
    const mapped = file === FILE && line > 0 ? mapPosition(line, col) : null;
    return `    at ${fn} (${mapped || `${file}:${line}:${col}`})`;
  }
  function errorHeader(error) {
    try { return String(error); } catch { return "Error"; }
  }
  Error.prepareStackTrace = (error, sites) => {
    const frames = [];
    for (const site of sites) {
      if (frames.length >= MAX_FRAMES) break;
      const text = frameText(site);
      if (text) frames.push(text);
    }
    return [errorHeader(error), ...frames].join("\n");
  };

  // The detail of a js_error: the error's text and its (mapped) stack.
  function describe(error) {
    try {
      if (error instanceof Error && typeof error.stack === "string" && error.stack) {
        const header = errorHeader(error);
        return error.stack.startsWith(header) ? error.stack : `${header}\n${error.stack}`;
      }
      return String(error);
    } catch {
      return "uncaught exception";
    }
  }

  // ---------------------------------------------------------------- dispatch
  const RESPONSE_KEYS = new Set(["status", "headers", "body", "body_encoding"]);
  const SHAPES =
    "the module matches no handler shape; export one of: " +
    "`export async function handler(req)` (or `export default async function (req)`), " +
    "`export default { async fetch(request, env, ctx) }` (Fetch API), " +
    "`export default (req, res) => …` (Express style)";

  class NoShape extends Error {}

  function mediaType(headers) {
    const ct = headers["content-type"];
    return typeof ct === "string" ? ct.split(";")[0].trim().toLowerCase() : "";
  }
  const isJsonType = (t) => t === "application/json" || (t.startsWith("application/") && t.endsWith("+json"));
  function rawBytes(req) {
    return req.body_encoding === "base64" ? base64Decode(req.body) : utf8Encode(req.body);
  }
  function badJson() {
    return {
      status: 400,
      headers: { "content-type": "application/json" },
      body: { error: "invalid_json", detail: "The request's content-type says JSON but its body is not valid JSON." },
    };
  }

  // A value is the response itself when it is response-shaped (see docs/functions.md).
  function isResponseShaped(value) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
    const keys = Object.keys(value);
    if (keys.length === 0 || !keys.every((k) => RESPONSE_KEYS.has(k))) return false;
    return value.status === undefined || Number.isInteger(value.status);
  }
  function outputOf(value) {
    if (value instanceof Response) return responseOutput(value);
    if (value === undefined)
      throw new TypeError("the handler returned undefined: return a value (the body of a 200) or a response {status, headers, body}");
    if (isResponseShaped(value)) return value;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value))
      return { status: 200, body: base64Encode(toBytes(value, "body")), body_encoding: "base64" };
    return { status: 200, body: value };
  }
  function responseOutput(response) {
    const headers = {};
    for (const [k, v] of response.headers) headers[k] = v;
    const body = response._body;
    if (body === null) return { status: response.status, headers, body: null };
    if (typeof body === "string") return { status: response.status, headers, body };
    return { status: response.status, headers, body: base64Encode(body), body_encoding: "base64" };
  }

  function handlerRequest(req) {
    const out = Object.assign({}, req);
    out.rawBody = req.body;
    if (isJsonType(mediaType(req.headers)) && req.body_encoding === "utf8") {
      if (req.body === "") out.body = null;
      else {
        try { out.body = JSON.parse(req.body); } catch { return null; }
      }
    }
    return out;
  }

  function queryString(query) {
    const params = new URLSearchParams();
    for (const k of Object.keys(query || {})) {
      const v = query[k];
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
    }
    const s = params.toString();
    return s ? "?" + s : "";
  }
  const BASE_URL = "https://function.peerhost.invalid";

  function fetchRequest(req) {
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== "";
    return new Request(BASE_URL + encodePath(req.path || "/") + queryString(req.query), {
      method: req.method,
      headers: req.headers,
      body: hasBody ? rawBytes(req) : null,
    });
  }

  function expressPair(req) {
    const type = mediaType(req.headers);
    let body = req.body;
    if (req.body_encoding === "base64") body = base64Decode(req.body);
    else if (isJsonType(type)) {
      if (req.body === "") body = {};
      else {
        try { body = JSON.parse(req.body); } catch { return null; }
      }
    } else if (type === "application/x-www-form-urlencoded") {
      body = {};
      for (const [k, v] of new URLSearchParams(req.body)) body[k] = k in body ? [].concat(body[k], v) : v;
    }
    const headerOf = (name) => {
      const v = req.headers[String(name).toLowerCase()];
      return v === undefined ? undefined : v;
    };
    const url = (req.path || "/") + queryString(req.query);
    const xreq = {
      method: req.method, path: req.path || "/", url, originalUrl: url, query: req.query || {},
      headers: req.headers, body, rawBody: req.body, params: {}, metadata: req.metadata,
      protocol: "https", secure: true, get: headerOf, header: headerOf,
      is(t) { return type === t || type.endsWith("/" + t) || (t === "json" && isJsonType(type)); },
    };
    const state = { status: 200, headers: new Headers(), body: null, ended: false };
    const res = {
      locals: {},
      get statusCode() { return state.status; },
      set statusCode(v) { state.status = v; },
      get headersSent() { return state.ended; },
      get finished() { return state.ended; },
      status(code) { state.status = code; return res; },
      set(name, value) {
        if (typeof name === "object") { for (const k of Object.keys(name)) state.headers.set(k, name[k]); }
        else state.headers.set(name, value);
        return res;
      },
      header(name, value) { return res.set(name, value); },
      setHeader(name, value) { state.headers.set(name, value); return res; },
      get(name) { return state.headers.get(name) || undefined; },
      getHeader(name) { return state.headers.get(name) || undefined; },
      removeHeader(name) { state.headers.delete(name); },
      append(name, value) { state.headers.append(name, value); return res; },
      type(t) { state.headers.set("content-type", t.includes("/") ? t : t === "json" ? "application/json" : t === "html" ? "text/html; charset=utf-8" : "text/plain; charset=utf-8"); return res; },
      location(url) { state.headers.set("location", url); return res; },
      end(data) {
        if (state.ended) throw new Error("res.end: the response was already sent");
        state.ended = true;
        if (data !== undefined && data !== null) state.body = typeof data === "string" ? data : toBytes(data, "res.end data").slice();
        return res;
      },
      json(value) {
        if (!state.headers.has("content-type")) state.headers.set("content-type", "application/json; charset=utf-8");
        const text = JSON.stringify(value);
        return res.end(text === undefined ? "" : text);
      },
      send(value) {
        if (typeof value === "string") {
          if (!state.headers.has("content-type")) state.headers.set("content-type", "text/html; charset=utf-8");
          return res.end(value);
        }
        if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
          if (!state.headers.has("content-type")) state.headers.set("content-type", "application/octet-stream");
          return res.end(value);
        }
        if (value === undefined || value === null) return res.end();
        return res.json(value);
      },
      sendStatus(code) {
        state.status = code;
        if (!state.headers.has("content-type")) state.headers.set("content-type", "text/plain; charset=utf-8");
        return res.end(STATUS_TEXT[code] || String(code));
      },
      redirect(a, b) {
        const [status, url] = b === undefined ? [302, a] : [a, b];
        state.status = status;
        state.headers.set("location", url);
        return res.end();
      },
    };
    const finish = () => {
      if (!state.ended)
        throw new Error("the Express-style handler finished without sending a response: call res.send(), res.json() or res.end()");
      const headers = {};
      for (const [k, v] of state.headers) headers[k] = v;
      const body = state.body;
      if (body === null || typeof body === "string") return { status: state.status, headers, body };
      return { status: state.status, headers, body: base64Encode(body), body_encoding: "base64" };
    };
    return [xreq, res, finish];
  }

  function pick(ns) {
    const named = ns.handler;
    const def = ns.default;
    const fn = typeof named === "function" ? named : typeof def === "function" ? def : null;
    if (fn) return [fn.length >= 2 ? "express" : "handler", fn];
    if (def !== null && typeof def === "object" && typeof def.fetch === "function") return ["fetch", def];
    throw new NoShape(SHAPES);
  }

  const stdoutOf = (output) => {
    const text = JSON.stringify(output);
    if (text === undefined) throw new TypeError("the response is not JSON-serializable");
    return text;
  };

  async function run(ns) {
    let shape, target;
    try {
      [shape, target] = pick(ns);
    } catch (error) {
      if (error instanceof NoShape) return [4, JSON.stringify(SHAPES)];
      throw error;
    }
    if (shape === "handler") {
      const req = handlerRequest(request);
      if (req === null) return [0, stdoutOf(badJson())];
      return [0, stdoutOf(outputOf(await target(req)))];
    }
    if (shape === "express") {
      const pair = expressPair(request);
      if (pair === null) return [0, stdoutOf(badJson())];
      const [xreq, res, finish] = pair;
      await target(xreq, res, (err) => { if (err) throw err; });
      return [0, stdoutOf(finish())];
    }
    const env = Object.freeze(Object.assign({}, global.process && global.process.env));
    const waits = [];
    const ctx = Object.freeze({
      waitUntil(promise) { waits.push(Promise.resolve(promise)); },
      passThroughOnException() {},
    });
    const response = await target.fetch(fetchRequest(request), env, ctx);
    await Promise.all(waits);
    if (!(response instanceof Response)) throw new TypeError("fetch() must return a Response");
    return [0, stdoutOf(responseOutput(response))];
  }

  function begin(text) {
    request = JSON.parse(text);
    if (request === null || typeof request !== "object") request = { body: "", body_encoding: "utf8", headers: {}, query: {} };
    if (typeof request.headers !== "object" || request.headers === null) request.headers = {};
    if (typeof request.body !== "string") request.body = request.body === undefined ? "" : String(request.body);
  }

  const define = (name, value) => hidden(global, name, value);
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);
  define("URL", URL);
  define("URLSearchParams", URLSearchParams);
  define("Headers", Headers);
  define("Request", Request);
  define("Response", Response);
  define("CryptoKey", CryptoKey);
  define("crypto", crypto);
  define("console", console);
  return { begin, run, describe };
})(globalThis);
