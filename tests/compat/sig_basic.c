// Checks sigaction+raise for SIGUSR1 (siginfo, handler mask), SIG_IGN, and sigprocmask blocking: a blocked signal stays pending until unblocked.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count, last_signo, blocked_inside, code_user;
static char log_[64];
static volatile int loglen;

static void handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    blocked_inside = sigismember(&cur, SIGUSR1) + 2 * sigismember(&cur, SIGUSR2);
    last_signo = si->si_signo;
    code_user = si->si_code == SI_TKILL || si->si_code == SI_USER;
    count++;
    log_[loglen++] = 'H';
    (void)sig;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);

    raise(SIGUSR1);
    printf("after raise: count=%d signo=%s user-sent=%d\n", count, last_signo == SIGUSR1 ? "SIGUSR1" : "?", code_user);
    printf("in handler: SIGUSR1 blocked=%d SIGUSR2 blocked (sa_mask)=%d\n", blocked_inside & 1, blocked_inside >> 1);

    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    log_[loglen++] = 'r';
    raise(SIGUSR1);
    raise(SIGUSR1);
    log_[loglen++] = 'p';
    sigpending(&pend);
    printf("while blocked: count=%d pending=%d\n", count, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    log_[loglen++] = 'u';
    log_[loglen] = 0;
    printf("after unblock: count=%d (standard signals coalesce) order=%s\n", count, log_);
    sigpending(&pend);
    printf("pending after unblock: %d\n", sigismember(&pend, SIGUSR1));

    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    puts("SIGUSR2 ignored, still alive");

    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("sigaction query returns handler: %d siginfo flag: %d\n", old.sa_sigaction == handler, (old.sa_flags & SA_SIGINFO) != 0);
    printf("kill self with 0: %d\n", kill(getpid(), 0));
    return 0;
}
