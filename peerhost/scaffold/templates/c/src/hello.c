/* A PeerHost function in C (runtime "wasi"): the canonical request is on stdin, the response
 * JSON goes to stdout, and stderr is the function's log (`ape run logs {{project}} hello`).
 * Rebuild functions/hello.wasm with ./build.sh after editing. */
#include <stdio.h>

int main(void) {
    size_t total = 0;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0) total += n;
    fprintf(stderr, "hello from C: read %zu request bytes\n", total);
    printf("{\"status\":200,\"headers\":{\"content-type\":\"application/json\"},"
           "\"body\":{\"hello\":\"from C\",\"request_bytes\":%zu}}", total);
    return 0;
}
