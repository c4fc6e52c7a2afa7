// Checks waits that take a temporary signal mask: sigsuspend, ppoll, pselect and epoll_pwait are interrupted (EINTR) by a signal the temporary mask lets through, its handler runs, and afterwards the old mask is back (the signal is blocked again); a signal the temporary mask blocks stays pending, and without a signal each call returns normally with the old mask.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int hits;
static void on_usr1(int s) { (void)s; hits++; }

static int blocked(int s) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, s);
}

/* A child that sends SIGUSR1 to us after a short delay. */
static pid_t poke(void) {
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    return c;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int p[2];
    pipe(p);

    pid_t c = poke();
    int r = sigsuspend(&none);
    printf("sigsuspend: %d EINTR %d hits %d blocked after %d\n", r, errno == EINTR, hits, blocked(SIGUSR1));
    waitpid(c, NULL, 0);

    c = poke();
    struct pollfd pf = {p[0], POLLIN, 0};
    struct timespec ts = {5, 0};
    r = ppoll(&pf, 1, &ts, &none);
    printf("ppoll: %d EINTR %d hits %d blocked after %d\n", r, errno == EINTR, hits, blocked(SIGUSR1));
    waitpid(c, NULL, 0);

    c = poke();
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, &none);
    printf("pselect: %d EINTR %d hits %d blocked after %d\n", r, errno == EINTR, hits, blocked(SIGUSR1));
    waitpid(c, NULL, 0);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out[1];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    c = poke();
    r = epoll_pwait(ep, out, 1, 5000, &none);
    printf("epoll_pwait: %d EINTR %d hits %d blocked after %d\n", r, errno == EINTR, hits, blocked(SIGUSR1));
    waitpid(c, NULL, 0);

    /* The temporary mask blocks it: the wait times out and it stays pending. */
    c = poke();
    waitpid(c, NULL, 0);
    struct timespec short_ts = {0, 20000000};
    r = ppoll(&pf, 1, &short_ts, &usr1);
    sigset_t pend;
    sigpending(&pend);
    printf("ppoll with it blocked: %d hits %d pending %d\n", r, hits, sigismember(&pend, SIGUSR1));
    /* Unblocking delivers it. */
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("after unblocking: hits %d\n", hits);

    /* No signal: a normal return leaves the old mask. */
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    write(p[1], "x", 1);
    r = ppoll(&pf, 1, &ts, &none);
    printf("ppoll ready: %d blocked after %d\n", r, blocked(SIGUSR1));
    r = epoll_pwait(ep, out, 1, 0, &none);
    printf("epoll_pwait ready: %d blocked after %d\n", r, blocked(SIGUSR1));
    return 0;
}
