// Checks signal state across fork: handlers and the blocked mask are inherited, ignored signals stay ignored, pending signals are not inherited by the child, and each process's later changes are private.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void handler(int s) { got = s; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, NULL);
    raise(SIGUSR2);   /* pending in the parent only */

    pid_t pid = fork();
    if (pid == 0) {
        sigset_t mask, pend;
        sigprocmask(SIG_BLOCK, NULL, &mask);
        sigpending(&pend);
        printf("child: USR2 blocked=%d pending=%d\n", sigismember(&mask, SIGUSR2), sigismember(&pend, SIGUSR2));
        raise(SIGUSR1);
        printf("child: inherited handler ran for signal %d\n", (int)got);
        raise(SIGHUP);
        printf("child: survived ignored SIGHUP\n");
        signal(SIGUSR1, SIG_DFL);   /* only affects the child */
        raise(SIGUSR1);
        puts("child: not reached");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child: signaled=%d termsig=%d\n", !!WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    sigset_t pend;
    sigpending(&pend);
    printf("parent: USR2 still pending=%d\n", sigismember(&pend, SIGUSR2));
    got = 0;
    raise(SIGUSR1);
    printf("parent: handler still installed, ran for %d\n", (int)got);
    signal(SIGUSR2, SIG_IGN);     /* discards the pending SIGUSR2 */
    sigpending(&pend);
    printf("parent: ignoring discards pending USR2: %s\n", sigismember(&pend, SIGUSR2) ? "no" : "yes");
    return 0;
}
