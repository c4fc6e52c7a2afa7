// Checks anonymous mmap read/write, partial munmap, and that touching an unmapped page raises SIGSEGV caught via sigsetjmp/siglongjmp.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_segv(int sig) { (void)sig; siglongjmp(env, 1); }

static int probe(volatile char *p) {
    if (sigsetjmp(env, 1) == 0) { (void)*p; return 0; }
    return 1;
}

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", pg);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);

    char *p = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { puts("mmap failed"); return 1; }
    printf("fresh mapping zero: %s\n", p[0] == 0 && p[16 * pg - 1] == 0 ? "yes" : "no");
    for (int i = 0; i < 16; i++) memset(p + i * pg, 'a' + i, pg);
    printf("page 5 starts with %c, page 15 ends with %c\n", p[5 * pg], p[16 * pg - 1]);

    if (munmap(p + 4 * pg, 2 * pg) != 0) { puts("munmap failed"); return 1; }
    printf("page 3 after partial munmap: %c\n", p[3 * pg]);
    printf("page 6 after partial munmap: %c\n", p[6 * pg]);
    if (probe(p + 4 * pg)) puts("segv caught (page 4)");
    if (probe(p + 5 * pg + 100)) puts("segv caught (page 5)");

    munmap(p, 16 * pg);
    if (probe(p)) puts("segv caught (whole unmap)");
    if (probe(p + 15 * pg)) puts("segv caught (last page)");
    puts("done");
    return 0;
}
