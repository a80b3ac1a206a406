/*
 * Build-time tool (runs natively, never shipped): compiles prelude.js to
 * QuickJS bytecode and writes it as a C array (prelude.h) for harness.c.
 * Reading bytecode costs the engine a small fraction of the fuel that
 * parsing the prelude's source on every call would.
 *
 * Usage: compile_prelude prelude.js prelude.h
 */
#include <stdio.h>
#include <stdlib.h>

#include "quickjs.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s prelude.js prelude.h\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    fseek(in, 0, SEEK_END);
    long len = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *source = malloc((size_t)len + 1);
    if (!source || fread(source, 1, (size_t)len, in) != (size_t)len) return 1;
    source[len] = 0;
    fclose(in);

    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    JSValue fn = JS_Eval(ctx, source, (size_t)len, "peerhost:prelude",
                         JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(fn)) {
        JSValue exc = JS_GetException(ctx);
        const char *text = JS_ToCString(ctx, exc);
        fprintf(stderr, "prelude.js does not compile: %s\n", text ? text : "?");
        return 1;
    }
    size_t size;
    uint8_t *bytes = JS_WriteObject(ctx, &size, fn, JS_WRITE_OBJ_BYTECODE);
    if (!bytes) { fprintf(stderr, "JS_WriteObject failed\n"); return 1; }
    FILE *out = fopen(argv[2], "w");
    if (!out) { perror(argv[2]); return 1; }
    fprintf(out, "/* generated from prelude.js by compile_prelude.c (build.sh) */\n");
    fprintf(out, "static const uint8_t PRELUDE_BYTECODE[%zu] = {\n", size);
    for (size_t i = 0; i < size; i++)
        fprintf(out, "0x%02x,%s", bytes[i], (i % 16 == 15) ? "\n" : "");
    fprintf(out, "\n};\n");
    fclose(out);
    return 0;
}
