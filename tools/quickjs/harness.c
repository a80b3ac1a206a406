/*
 * PeerHost JS runtime harness: a WASI preview1 command around QuickJS-NG.
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

#include "quickjs.h"
#include "prelude.h" /* PRELUDE_BYTECODE: prelude.js compiled by build.sh */

#define EXIT_OK 0
#define EXIT_FRAMING 2
#define EXIT_THROWN 3
#define EXIT_NO_HANDLER 4
#define JS_STACK_BYTES (256 * 1024)

extern char **environ;
static uint64_t random_state = 1;
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
    JS_SetPropertyStr(ctx, global, "__peerhost_native", native);
    /* process.env: the function's secrets (the host passes nothing else). */
    JSValue env = JS_NewObject(ctx);
    for (char **entry = environ; entry && *entry; entry++) {
        const char *eq = strchr(*entry, '=');
        if (!eq) continue;
        JSAtom name = JS_NewAtomLen(ctx, *entry, (size_t)(eq - *entry));
        JS_SetProperty(ctx, env, name, JS_NewString(ctx, eq + 1));
        JS_FreeAtom(ctx, name);
    }
    JSValue process = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, process, "env", env);
    JS_SetPropertyStr(ctx, global, "process", process);
    JSValue math = JS_GetPropertyStr(ctx, global, "Math");
    JS_SetPropertyStr(ctx, math, "random", JS_NewCFunction(ctx, js_random, "random", 0));
    JS_FreeValue(ctx, math);
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
    JSValue prelude = JS_ReadObject(ctx, PRELUDE_BYTECODE, sizeof(PRELUDE_BYTECODE),
                                    JS_READ_OBJ_BYTECODE);
    prelude_api = JS_IsException(prelude) ? prelude : JS_EvalFunction(ctx, prelude);
    if (JS_IsException(prelude_api)) {
        prelude_api = JS_UNDEFINED;
        return fail_with_exception(ctx, EXIT_THROWN);
    }
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

int main(void) {
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
    prelude_api = JS_UNDEFINED;

    JSRuntime *rt = JS_NewRuntime();
    if (!rt) return EXIT_THROWN;
    JS_SetMaxStackSize(rt, JS_STACK_BYTES);
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx) return EXIT_THROWN;
    install_globals(ctx);
    int code = run(ctx, source, source_len, request, request_len);
    /* No teardown: the instance is discarded after one request. */
    _Exit(code);
}
