// build: gcc
// Checks stdio formatting and buffering with exit(): atexit handlers run in reverse order, buffers are flushed, and the status is 42.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void first(void) { printf("atexit: registered first, runs last\n"); }
static void second(void) { printf("atexit: registered second, runs first\n"); }

int main(void) {
    atexit(first);
    atexit(second);
    printf("%d %5d|%-5d|%05d %x %X %o %#x\n", 42, 42, 42, 42, 255, 255, 8, 255);
    printf("%.3f %10.2e %g %g %s\n", 3.14159265, 12345.678, 0.0001, 1e20, "str");
    printf("%c%c%c %% %5s|%-5s|%.2s\n", 'a', 'b', 'c', "ab", "ab", "abcdef");
    printf("%ld %lld %lu %zu\n", -1234567890123L, 9223372036854775807LL, 18446744073709551615UL, sizeof(long));
    char buf[32];
    const char *volatile src = "truncated string";
    int n = snprintf(buf, 8, "%s", src);
    printf("snprintf returns %d keeps '%s'\n", n, buf);
    printf("sscanf: ");
    int a; char w[16]; double d;
    printf("%d fields ", sscanf("17 word 2.5", "%d %15s %lf", &a, w, &d));
    printf("-> %d %s %.1f\n", a, w, d);
    printf("strtol hex %ld, strtod %.2f, atoi %d\n", strtol("0x1f", NULL, 16), strtod("6.25e1", NULL), atoi("-99"));

    fflush(stdout);
    const char *raw = "raw write after fflush\n";
    write(1, raw, strlen(raw));
    printf("buffered line, flushed by exit\n");
    exit(42);
}
