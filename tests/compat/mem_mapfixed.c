// Checks MAP_FIXED replacing part of an existing mapping, and MAP_FIXED_NOREPLACE refusing with EEXIST.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 'A', 8 * pg);

    char *q = mmap(p + 2 * pg, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED returned requested address: %s\n", q == p + 2 * pg ? "yes" : "no");
    printf("replaced pages zero: %s\n", q[0] == 0 && q[2 * pg - 1] == 0 ? "yes" : "no");
    printf("neighbours kept: %c %c\n", p[2 * pg - 1], p[4 * pg]);
    strcpy(q, "fresh");
    printf("replaced page writable: %s\n", q);

    char *r = mmap(p + 6 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("read-only fixed page reads zero: %s\n", r == p + 6 * pg && r[0] == 0 ? "yes" : "no");

    errno = 0;
    char *s = mmap(p + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE over mapping: %s\n", s == MAP_FAILED && errno == EEXIST ? "EEXIST" : "unexpected");
    printf("page 1 untouched: %c\n", p[pg]);

    munmap(p, 8 * pg);
    char *t = mmap(p + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE on free range: %s\n", t == p + pg ? "ok" : "unexpected");
    if (t != MAP_FAILED) munmap(t, pg);

    errno = 0;
    void *u = mmap(p + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED unaligned: %s\n", u == MAP_FAILED && errno == EINVAL ? "EINVAL" : "unexpected");
    return 0;
}
