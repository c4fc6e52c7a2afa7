// build: gcc-static
// Checks SIGFPE from integer divide by zero and INT_MIN/-1 is caught with si_code FPE_INTDIV and recovered via siglongjmp.
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile int got_code;

static void on_fpe(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    got_code = si->si_code;
    siglongjmp(env, 1);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, NULL);

    volatile int a = 7, zero = 0, minv = INT_MIN, m1 = -1;
    volatile long la = 100, lzero = 0;
    if (sigsetjmp(env, 1) == 0) printf("7/0 = %d (no fault?)\n", a / zero);
    else printf("SIGFPE caught for 7/0, FPE_INTDIV=%d\n", got_code == FPE_INTDIV);
    if (sigsetjmp(env, 1) == 0) printf("7%%0 = %d (no fault?)\n", a % zero);
    else printf("SIGFPE caught for 7%%0\n");
    if (sigsetjmp(env, 1) == 0) printf("long 100/0 = %ld (no fault?)\n", la / lzero);
    else printf("SIGFPE caught for long 100/0\n");
    if (sigsetjmp(env, 1) == 0) printf("INT_MIN/-1 = %d (no fault?)\n", minv / m1);
    else printf("SIGFPE caught for INT_MIN/-1\n");

    volatile double d = 1.0, dz = 0.0;
    printf("float 1.0/0.0 does not trap: %s\n", (d / dz) > 1e308 ? "inf" : "?");
    printf("7/1 = %d\n", a / (zero + 1));
    return 0;
}
