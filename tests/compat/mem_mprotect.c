// Checks mprotect: PROT_READ makes writes fault (SIGSEGV caught), PROT_NONE makes reads fault, restoring RW works again.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile int code;
static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    code = si->si_code;
    siglongjmp(env, 1);
}

static int try_write(volatile char *p, char v) {
    if (sigsetjmp(env, 1) == 0) { *p = v; return 0; }
    return 1;
}
static int try_read(volatile char *p) {
    if (sigsetjmp(env, 1) == 0) { (void)*p; return 0; }
    return 1;
}

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(p, "protected data");
    strcpy(p + 2 * pg, "page two");
    printf("mprotect read-only: %d\n", mprotect(p, pg, PROT_READ));
    printf("read still works: %s\n", p);
    if (try_write(p, 'X')) printf("segv caught on write (accerr=%d)\n", code == SEGV_ACCERR);
    printf("data unchanged: %s\n", p);
    printf("other pages writable: %s\n", try_write(p + pg, 'Y') ? "no" : "yes");

    printf("mprotect none: %d\n", mprotect(p + 2 * pg, pg, PROT_NONE));
    if (try_read(p + 2 * pg)) printf("segv caught on read (accerr=%d)\n", code == SEGV_ACCERR);

    printf("mprotect rw again: %d\n", mprotect(p, 4 * pg, PROT_READ | PROT_WRITE));
    printf("write after restore faulted: %s\n", try_write(p, 'Z') ? "yes" : "no");
    printf("contents: %c%s / %s\n", p[0], p + 1, p + 2 * pg);
    munmap(p, 4 * pg);
    return 0;
}
