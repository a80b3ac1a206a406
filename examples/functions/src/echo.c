/* echo: answers 200 with the canonical request it was given (runtime "wasi").
 * The request on stdin is JSON already, so it becomes the body verbatim. */
#include <stdio.h>

int main(void) {
    char buf[4096];
    size_t n;
    fputs("{\"status\":200,\"headers\":{\"content-type\":\"application/json\"},\"body\":", stdout);
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    fputs("}", stdout);
    return 0;
}
