// Checks SIGSEGV from a NULL dereference is delivered to an SA_SIGINFO handler (si_addr, si_code) and recovery via siglongjmp works repeatedly.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile uintptr_t fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    fault_addr = (uintptr_t)si->si_addr;
    fault_code = si->si_code;
    siglongjmp(env, 1);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    volatile int *volatile targets[] = { (int *)0, (int *)16, (int *)0x1000, (int *)(uintptr_t)0x7ff0 };
    for (int i = 0; i < 4; i++) {
        if (sigsetjmp(env, 1) == 0) {
            int v = *targets[i];
            printf("read %d did not fault (%d)\n", i, v);
        } else {
            printf("segv caught: addr=0x%lx maperr=%d\n", (unsigned long)fault_addr, fault_code == SEGV_MAPERR);
        }
    }
    if (sigsetjmp(env, 1) == 0) { *targets[0] = 42; puts("write did not fault"); }
    else printf("segv caught on NULL write: addr=0x%lx\n", (unsigned long)fault_addr);

    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGSEGV unblocked after siglongjmp: %d\n", !sigismember(&cur, SIGSEGV));
    return 0;
}
