// Checks malloc/free of many small blocks and big blocks, realloc keeping data, and that a large calloc is zeroed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    static char *small[2000];
    unsigned long sum = 0;
    for (int i = 0; i < 2000; i++) {
        small[i] = malloc(i % 100 + 1);
        if (!small[i]) { puts("small malloc failed"); return 1; }
        memset(small[i], i & 0xff, i % 100 + 1);
    }
    for (int i = 0; i < 2000; i += 2) free(small[i]);
    for (int i = 1; i < 2000; i += 2) sum += (unsigned char)small[i][i % 100];
    for (int i = 1; i < 2000; i += 2) free(small[i]);
    printf("small blocks sum %lu\n", sum);

    size_t big = 48u << 20;
    unsigned char *b = malloc(big);
    if (!b) { puts("big malloc failed"); return 1; }
    for (size_t i = 0; i < big; i += 4096) b[i] = (unsigned char)(i >> 12);
    sum = 0;
    for (size_t i = 0; i < big; i += 4096) sum += b[i];
    printf("big block page sum %lu\n", sum);

    b = realloc(b, big * 2);
    if (!b) { puts("realloc failed"); return 1; }
    int same = 1;
    for (size_t i = 0; i < big; i += 4096) if (b[i] != (unsigned char)(i >> 12)) same = 0;
    printf("realloc kept data: %s\n", same ? "yes" : "no");
    free(b);

    size_t n = 96u << 20;
    unsigned long *z = calloc(n / sizeof(long), sizeof(long));
    if (!z) { puts("calloc failed"); return 1; }
    unsigned long acc = 0;
    for (size_t i = 0; i < n / sizeof(long); i++) acc |= z[i];
    printf("calloc %zu MiB zeroed: %s\n", n >> 20, acc == 0 ? "yes" : "no");
    free(z);

    char *p = malloc(0);
    printf("malloc(0) %s\n", p ? "non-null" : "null");
    free(p);
    return 0;
}
