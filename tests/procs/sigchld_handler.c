// Checks SIGCHLD: with SIGCHLD blocked, three children exit and are reaped with waitpid; unblocking delivers the pending SIGCHLD to an SA_SIGINFO handler (si_signo SIGCHLD, si_code CLD_EXITED); and sigsuspend wakes for a later child's exit.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t count, last_signo, last_code;

static void on_chld(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    count++;
    last_signo = sig;
    last_code = si->si_code;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    sigdelset(&old, SIGCHLD);

    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) _exit(10 + i);
    }
    int sum = 0;
    for (int i = 0; i < 3; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        sum += WEXITSTATUS(st);
    }
    printf("reaped 3 children, status sum %d\n", sum);
    sigset_t pend;
    sigpending(&pend);
    printf("SIGCHLD pending while blocked: %s\n", sigismember(&pend, SIGCHLD) ? "yes" : "no");
    printf("handler ran while blocked: %s\n", count ? "yes" : "no");
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("sigchld seen: %s\n", count >= 1 ? "yes" : "no");
    printf("standard signal coalesced to one delivery: %s\n", count == 1 ? "yes" : "no");
    printf("si_signo=SIGCHLD: %s si_code=CLD_EXITED: %s\n", last_signo == SIGCHLD ? "yes" : "no", last_code == CLD_EXITED ? "yes" : "no");

    /* sigsuspend: block, fork, wait for the signal atomically. */
    count = 0;
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    while (count == 0) sigsuspend(&old);
    printf("sigsuspend returned after SIGCHLD: count=%d\n", (int)count);
    int st;
    waitpid(pid, &st, 0);

    /* A child killed by a signal reports CLD_KILLED. */
    count = 0;
    pid = fork();
    if (pid == 0) { kill(getpid(), SIGKILL); for (;;) pause(); }
    while (count == 0) sigsuspend(&old);
    printf("killed child: si_code=CLD_KILLED: %s\n", last_code == CLD_KILLED ? "yes" : "no");
    waitpid(pid, &st, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}
