// build: gcc-static
// Checks mremap growing (MREMAP_MAYMOVE) and shrinking a mapping keeps its data, and the tail beyond a shrink is gone.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_segv(int sig) { (void)sig; siglongjmp(env, 1); }

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    signal(SIGSEGV, on_segv);
    char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4; i++) memset(p + i * pg, '0' + i, pg);

    char *q = mremap(p, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) { puts("grow failed"); return 1; }
    int ok = 1;
    for (int i = 0; i < 4; i++) if (q[i * pg] != '0' + i || q[i * pg + pg - 1] != '0' + i) ok = 0;
    printf("grow to 64 pages kept data: %s\n", ok ? "yes" : "no");
    printf("new area zero: %s\n", q[10 * pg] == 0 && q[64 * pg - 1] == 0 ? "yes" : "no");
    q[63 * pg] = 'E';

    char *r = mremap(q, 64 * pg, 2 * pg, 0);
    if (r == MAP_FAILED) { puts("shrink failed"); return 1; }
    printf("shrink stays in place: %s\n", r == q ? "yes" : "no");
    printf("shrunk data: %c %c\n", r[0], r[pg + 5]);
    if (sigsetjmp(env, 1) == 0) { (void)*(volatile char *)(r + 3 * pg); puts("tail still mapped"); }
    else puts("segv caught beyond shrunk end");

    char *s = mremap(r, 2 * pg, 1024 * pg, 0);
    printf("in-place grow without MAYMOVE: %s\n", s == MAP_FAILED || s == r ? "consistent" : "moved?!");
    if (s != MAP_FAILED) r = s;
    munmap(r, s != MAP_FAILED ? 1024 * pg : 2 * pg);
    return 0;
}
