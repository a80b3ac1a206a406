/* hello: the smallest PeerHost function (runtime "wasi").
 * Reads nothing, answers 200 with a greeting. The optional GREETING secret
 * (an environment variable) replaces the default text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const char *greeting = getenv("GREETING");
    if (!greeting || strpbrk(greeting, "\"\\\n\r")) greeting = "Hello from PeerHost!";
    fprintf(stderr, "hello: answering\n");
    printf("{\"status\":200,\"headers\":{\"content-type\":\"text/plain; charset=utf-8\"},"
           "\"body\":\"%s\"}", greeting);
    return 0;
}
