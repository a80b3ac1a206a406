/*
 * PeerHost JS runtime harness: QuickJS-NG built as a WASI preview1 reactor, then
 * snapshotted once initialized (peerhost/sandbox/js_snapshot.py).
 *
 * peerhost_init (called once, at build time): starts the engine, installs the
 *         native helpers and evaluates the prelude; the builder then writes the
 *         instance's memory and globals as a new module (the shipped engine)
 *         whose _start calls peerhost_run and exits with its code. Nothing the
 *         init does may depend on a request: each run starts from these bytes.
 * peerhost_run (each request, on a fresh instance of the snapshot):
 *
 * stdin : u32 little-endian source length, the user's ES module source, then
 *         the canonical request JSON (the rest of stdin).
 * stdout: on success, the normalized response {status, headers, body,
 *         body_encoding?} as JSON; on failure, a JSON string holding the
 *         error's text (with its stack, mapped to the original files).
 * stderr: console.log / console.error output (the function's log).
 * env   : the function's secrets, exposed to JS as process.env.
 * exit  : 0 success, 3 the function threw or returned nothing usable,
 *         4 the module matches no handler shape, 2 bad framing.
 *
 * The prelude (prelude.js, embedded as bytecode, see compile_prelude.c) runs first:
 * it installs the web APIs (URL, Headers, Request, Response, TextEncoder,
 * crypto.subtle, ...) and returns {begin, run, describe}; the handler shapes
 * (handler(req), Fetch API, Express style) are dispatched there.
 *
 * Determinism: Date and performance.now read the WASI clocks, which the host
 * freezes at the block timestamp; Math.random is replaced by a xorshift64*
 * stream seeded from WASI random_get (the host seeds it from the request id).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wasi/libc-environ.h>

#include "quickjs.h"
#include "prelude.h" /* PRELUDE_BYTECODE: prelude.js compiled by build.sh */

#define EXIT_OK 0
#define EXIT_FRAMING 2
#define EXIT_THROWN 3
#define EXIT_NO_HANDLER 4
#define JS_STACK_BYTES (256 * 1024)

static uint64_t random_state = 1;
static JSRuntime *runtime;
static JSContext *context;
static const char *module_source = "";
static size_t module_source_len = 0;
static JSValue prelude_api; /* {begin, run, describe} once the prelude ran */

static uint8_t *read_stdin(size_t *out_len) {
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) { free(buf); return NULL; }
            buf = grown;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0) { free(buf); return NULL; }
        if (n == 0) break;
        len += (size_t)n;
    }
    *out_len = len;
    return buf;
}

static void write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n <= 0) return;
        data += n;
        len -= (size_t)n;
    }
}

static JSValue js_console_write(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv) {
    (void)this_val;
    for (int i = 0; i < argc; i++) {
        size_t len;
        const char *s = JS_ToCStringLen(ctx, &len, argv[i]);
        if (!s) return JS_EXCEPTION;
        if (i > 0) write_all(2, " ", 1);
        write_all(2, s, len);
        JS_FreeCString(ctx, s);
    }
    write_all(2, "\n", 1);
    return JS_UNDEFINED;
}

/* SHA-256 and SHA-384/512 (FIPS 180-4) for crypto.subtle and the prelude's
 * random stream: hashing in C costs a small fraction of the fuel of hashing
 * in interpreted JavaScript. Deterministic like everything else here. */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define ROR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *b) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
                      K256[i] + w[i];
        uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t full = len / 64 * 64;
    for (size_t off = 0; off < full; off += 64) sha256_block(h, data + off);
    uint8_t tail[128] = {0};
    size_t rest = len - full;
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t off = 0; off < tail_len; off += 64) sha256_block(h, tail + off);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static const uint64_t K512[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
    0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
    0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
    0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
    0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
    0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
    0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
    0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
    0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
    0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
    0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
    0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL};

static void sha512_block(uint64_t h[8], const uint8_t *b) {
    uint64_t w[80];
    for (int i = 0; i < 16; i++) {
        w[i] = 0;
        for (int j = 0; j < 8; j++) w[i] = w[i] << 8 | b[8 * i + j];
    }
    for (int i = 16; i < 80; i++) {
        uint64_t s0 = ROR64(w[i - 15], 1) ^ ROR64(w[i - 15], 8) ^ (w[i - 15] >> 7);
        uint64_t s1 = ROR64(w[i - 2], 19) ^ ROR64(w[i - 2], 61) ^ (w[i - 2] >> 6);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint64_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 80; i++) {
        uint64_t t1 = hh + (ROR64(e, 14) ^ ROR64(e, 18) ^ ROR64(e, 41)) + ((e & f) ^ (~e & g)) +
                      K512[i] + w[i];
        uint64_t t2 = (ROR64(a, 28) ^ ROR64(a, 34) ^ ROR64(a, 39)) + ((a & bb) ^ (a & c) ^ (bb & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha512(const uint8_t *data, size_t len, const uint64_t iv[8], uint8_t *out,
                   size_t out_len) {
    uint64_t h[8];
    memcpy(h, iv, sizeof(h));
    size_t full = len / 128 * 128;
    for (size_t off = 0; off < full; off += 128) sha512_block(h, data + off);
    uint8_t tail[256] = {0};
    size_t rest = len - full;
    memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 17 <= 128 ? 128 : 256;
    uint64_t bits = (uint64_t)len * 8; /* lengths below 2^61 bytes: the high word is 0 */
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t off = 0; off < tail_len; off += 128) sha512_block(h, tail + off);
    for (size_t i = 0; i < out_len; i++) out[i] = (uint8_t)(h[i / 8] >> (56 - 8 * (i % 8)));
}

static const uint64_t IV512[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL,
                                  0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
                                  0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                                  0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
static const uint64_t IV384[8] = {0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL,
                                  0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
                                  0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL,
                                  0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL};

/* native.digest(bits, Uint8Array) -> Uint8Array, bits in {256, 384, 512}. */
static JSValue js_digest(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val;
    int32_t bits = 0;
    if (argc < 2 || JS_ToInt32(ctx, &bits, argv[0]) < 0) return JS_EXCEPTION;
    size_t len;
    const uint8_t *data = JS_GetUint8Array(ctx, &len, argv[1]);
    if (!data && len == 0 && JS_HasException(ctx)) return JS_EXCEPTION;
    uint8_t out[64];
    if (bits == 256) sha256(data, len, out);
    else if (bits == 384) sha512(data, len, IV384, out, 48);
    else if (bits == 512) sha512(data, len, IV512, out, 64);
    else return JS_ThrowRangeError(ctx, "unsupported digest size");
    return JS_NewUint8ArrayCopy(ctx, out, (size_t)bits / 8);
}

/* The module's source text, for the prelude's source-map lookup. */
static JSValue js_module_source(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv) {
    (void)this_val; (void)argc; (void)argv;
    return JS_NewStringLen(ctx, module_source, module_source_len);
}

static JSValue js_random(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    (void)this_val; (void)argc; (void)argv;
    uint64_t x = random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    random_state = x;
    uint64_t v = x * 2685821657736338717ULL;
    return JS_NewFloat64(ctx, (double)(v >> 11) * (1.0 / 9007199254740992.0));
}

static void install_globals(JSContext *ctx) {
    JSValue global = JS_GetGlobalObject(ctx);
    /* Handed to the prelude, which removes it from the global object. */
    JSValue native = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, native, "write", JS_NewCFunction(ctx, js_console_write, "write", 1));
    JS_SetPropertyStr(ctx, native, "source", JS_NewCFunction(ctx, js_module_source, "source", 0));
    JS_SetPropertyStr(ctx, native, "digest", JS_NewCFunction(ctx, js_digest, "digest", 2));
    JS_SetPropertyStr(ctx, global, "__peerhost_native", native);
    /* process.env: the function's secrets, filled per run (install_env). */
    JSValue process = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, process, "env", JS_NewObject(ctx));
    JS_SetPropertyStr(ctx, global, "process", process);
    JSValue math = JS_GetPropertyStr(ctx, global, "Math");
    JS_SetPropertyStr(ctx, math, "random", JS_NewCFunction(ctx, js_random, "random", 0));
    JS_FreeValue(ctx, math);
    JS_FreeValue(ctx, global);
}

/* Per run: process.env from this run's WASI environment (the snapshot's libc
 * read an empty one at build time), and Math.random's seed. */
static void install_env(JSContext *ctx) {
    __wasilibc_deinitialize_environ();
    char **entries = __wasilibc_get_environ();
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue process = JS_GetPropertyStr(ctx, global, "process");
    JSValue env = JS_GetPropertyStr(ctx, process, "env");
    for (char **entry = entries; entry && *entry; entry++) {
        const char *eq = strchr(*entry, '=');
        if (!eq) continue;
        JSAtom name = JS_NewAtomLen(ctx, *entry, (size_t)(eq - *entry));
        JS_SetProperty(ctx, env, name, JS_NewString(ctx, eq + 1));
        JS_FreeAtom(ctx, name);
    }
    JS_FreeValue(ctx, env);
    JS_FreeValue(ctx, process);
    JS_FreeValue(ctx, global);
    if (getentropy(&random_state, sizeof(random_state)) != 0 || random_state == 0)
        random_state = 0x9E3779B97F4A7C15ULL;
}

/* Writes the pending exception's text as a JSON string on stdout. */
static int fail_with_exception(JSContext *ctx, int code) {
    JSValue exc = JS_GetException(ctx);
    JSValue text = JS_UNDEFINED;
    JSValue describe = JS_IsObject(prelude_api) ? JS_GetPropertyStr(ctx, prelude_api, "describe")
                                                : JS_UNDEFINED;
    if (JS_IsFunction(ctx, describe)) {
        text = JS_Call(ctx, describe, JS_UNDEFINED, 1, (JSValueConst *)&exc);
        if (JS_IsException(text) || !JS_IsString(text)) {
            JS_FreeValue(ctx, text);
            if (JS_HasException(ctx)) JS_FreeValue(ctx, JS_GetException(ctx));
            text = JS_NewString(ctx, "uncaught exception");
        }
    } else if (JS_IsError(exc)) {
        text = JS_ToString(ctx, exc);
    } else {
        JSValue str = JS_ToString(ctx, exc);
        text = JS_IsException(str) ? JS_NewString(ctx, "uncaught exception") : str;
    }
    if (JS_IsException(text)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        text = JS_NewString(ctx, "uncaught exception");
    }
    JSValue json = JS_JSONStringify(ctx, text, JS_UNDEFINED, JS_UNDEFINED);
    size_t len;
    const char *s = JS_IsException(json) ? NULL : JS_ToCStringLen(ctx, &len, json);
    if (s) {
        write_all(1, s, len);
        JS_FreeCString(ctx, s);
    } else {
        write_all(1, "\"uncaught exception\"", 20);
    }
    JS_FreeValue(ctx, json);
    JS_FreeValue(ctx, text);
    JS_FreeValue(ctx, describe);
    JS_FreeValue(ctx, exc);
    return code;
}

static void fail_with_message(const char *message) {
    write_all(1, "\"", 1);
    write_all(1, message, strlen(message));
    write_all(1, "\"", 1);
}

/* Runs queued promise jobs; returns -1 if one of them threw. */
static int drain_jobs(JSRuntime *rt) {
    JSContext *job_ctx;
    int r;
    while ((r = JS_ExecutePendingJob(rt, &job_ctx)) > 0) {
    }
    return r;
}

/* Resolves `value` if it is a promise; takes ownership, returns owned value. */
static JSValue settle(JSContext *ctx, JSValue value) {
    if (JS_IsException(value)) return value;
    if (drain_jobs(JS_GetRuntime(ctx)) < 0) {
        JS_FreeValue(ctx, value);
        return JS_EXCEPTION;
    }
    switch (JS_PromiseState(ctx, value)) {
    case JS_PROMISE_NOT_A_PROMISE:
        return value;
    case JS_PROMISE_FULFILLED: {
        JSValue result = JS_PromiseResult(ctx, value);
        JS_FreeValue(ctx, value);
        return result;
    }
    case JS_PROMISE_REJECTED: {
        JSValue reason = JS_PromiseResult(ctx, value);
        JS_FreeValue(ctx, value);
        return JS_Throw(ctx, reason);
    }
    default:
        JS_FreeValue(ctx, value);
        return JS_ThrowTypeError(ctx, "handler promise never settled");
    }
}

/* Calls prelude_api[name](arg); returns the (settled) owned result. */
static JSValue call_prelude(JSContext *ctx, const char *name, JSValue arg) {
    JSValue fn = JS_GetPropertyStr(ctx, prelude_api, name);
    JSValue result = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&arg);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, arg);
    return settle(ctx, result);
}

static int run(JSContext *ctx, const char *source, size_t source_len, const char *request,
               size_t request_len) {
    JSValue begun = call_prelude(ctx, "begin", JS_NewStringLen(ctx, request, request_len));
    if (JS_IsException(begun)) return fail_with_exception(ctx, EXIT_THROWN);
    JS_FreeValue(ctx, begun);

    JSValue module = JS_Eval(ctx, source, source_len, "function.js",
                             JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(module)) return fail_with_exception(ctx, EXIT_THROWN);
    JSModuleDef *def = JS_VALUE_GET_PTR(module);
    JSValue evaluated = settle(ctx, JS_EvalFunction(ctx, module));
    if (JS_IsException(evaluated)) return fail_with_exception(ctx, EXIT_THROWN);
    JS_FreeValue(ctx, evaluated);

    /* run(namespace) -> [exit code, stdout text] */
    JSValue outcome = call_prelude(ctx, "run", JS_GetModuleNamespace(ctx, def));
    if (JS_IsException(outcome)) return fail_with_exception(ctx, EXIT_THROWN);
    int32_t code = EXIT_THROWN;
    JSValue code_value = JS_GetPropertyUint32(ctx, outcome, 0);
    JSValue text = JS_GetPropertyUint32(ctx, outcome, 1);
    JS_FreeValue(ctx, outcome);
    if (JS_ToInt32(ctx, &code, code_value) < 0 || !JS_IsString(text)) {
        JS_FreeValue(ctx, code_value);
        JS_FreeValue(ctx, text);
        fail_with_message("the runtime produced no output");
        return EXIT_THROWN;
    }
    JS_FreeValue(ctx, code_value);
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, text);
    JS_FreeValue(ctx, text);
    if (!s) return fail_with_exception(ctx, EXIT_THROWN);
    write_all(1, s, len);
    JS_FreeCString(ctx, s);
    return code;
}

/* Build time only: the engine started and the prelude evaluated (see the top). */
__attribute__((export_name("peerhost_init"))) int peerhost_init(void) {
    prelude_api = JS_UNDEFINED;
    runtime = JS_NewRuntime();
    if (!runtime) return EXIT_THROWN;
    JS_SetMaxStackSize(runtime, JS_STACK_BYTES);
    context = JS_NewContext(runtime);
    if (!context) return EXIT_THROWN;
    install_globals(context);
    JSValue prelude = JS_ReadObject(context, PRELUDE_BYTECODE, sizeof(PRELUDE_BYTECODE),
                                    JS_READ_OBJ_BYTECODE);
    JSValue api = JS_IsException(prelude) ? prelude : JS_EvalFunction(context, prelude);
    if (JS_IsException(api)) return fail_with_exception(context, EXIT_THROWN);
    prelude_api = api;
    return EXIT_OK;
}

/* One request, on a fresh instance of the snapshot taken after peerhost_init. */
__attribute__((export_name("peerhost_run"))) int peerhost_run(void) {
    size_t len = 0;
    uint8_t *input = read_stdin(&len);
    if (!input || len < 4) {
        fail_with_message("bad engine input framing");
        return EXIT_FRAMING;
    }
    uint32_t source_len = (uint32_t)input[0] | (uint32_t)input[1] << 8 |
                          (uint32_t)input[2] << 16 | (uint32_t)input[3] << 24;
    if (source_len > len - 4) {
        fail_with_message("bad engine input framing");
        return EXIT_FRAMING;
    }
    /* QuickJS wants NUL-terminated buffers for both the source and the JSON. */
    size_t request_len = len - 4 - source_len;
    char *source = malloc((size_t)source_len + 1);
    char *request = malloc(request_len + 1);
    if (!source || !request) return EXIT_THROWN;
    memcpy(source, input + 4, source_len);
    source[source_len] = 0;
    memcpy(request, input + 4 + source_len, request_len);
    request[request_len] = 0;
    free(input);
    module_source = source;
    module_source_len = source_len;
    JS_UpdateStackTop(runtime);
    install_env(context);
    /* No teardown: the instance is discarded after one request. */
    return run(context, source, source_len, request, request_len);
}
