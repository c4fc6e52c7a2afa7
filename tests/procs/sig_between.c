// Checks signals between processes: the parent sends SIGUSR1 to a child waiting in sigsuspend and the child's handler writes to a pipe the parent reads; the child answers with sigqueue carrying a value, seen by the parent's SA_SIGINFO handler with si_pid and SI_QUEUE; a child in sigsuspend is woken by SIGUSR2 (EINTR, handler ran) and a child in pause() dies of SIGTERM.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int pipe_w;
static volatile sig_atomic_t got_usr1, got_usr2, parent_val, parent_code, parent_pid_ok;
static pid_t expect_pid;

static void child_usr1(int s) { (void)s; got_usr1 = 1; write(pipe_w, "usr1-handled", 12); }
static void child_usr2(int s) { (void)s; got_usr2 = 1; }
static void parent_rt(int s, siginfo_t *si, void *uc) {
    (void)s; (void)uc;
    parent_val = si->si_value.sival_int;
    parent_code = si->si_code;
    parent_pid_ok = si->si_pid == expect_pid;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = parent_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigset_t blk, waitmask;
    sigemptyset(&blk);
    sigaddset(&blk, SIGUSR1);
    sigaddset(&blk, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &blk, &waitmask);   /* block before fork: no lost wakeups */
    sigdelset(&waitmask, SIGUSR1);
    sigdelset(&waitmask, SIGRTMIN + 1);

    int p[2], ready[2];
    pipe(p); pipe(ready);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]); close(ready[0]);
        pipe_w = p[1];
        struct sigaction c;
        memset(&c, 0, sizeof c);
        c.sa_handler = child_usr1;
        sigaction(SIGUSR1, &c, NULL);
        write(ready[1], "r", 1);
        while (!got_usr1) sigsuspend(&waitmask);
        union sigval v = {.sival_int = 4242};
        sigqueue(getppid(), SIGRTMIN + 1, v);
        _exit(0);
    }
    close(p[1]); close(ready[1]);
    expect_pid = pid;
    char c;
    read(ready[0], &c, 1);
    printf("kill(child, SIGUSR1): %d\n", kill(pid, SIGUSR1));
    char buf[32] = {0};
    read(p[0], buf, sizeof buf - 1);
    printf("parent read from child's handler: %s\n", buf);
    while (!parent_val) sigsuspend(&waitmask);
    printf("sigqueue from child: value=%d code=%s si_pid is child: %s\n", (int)parent_val,
           parent_code == SI_QUEUE ? "SI_QUEUE" : "other", parent_pid_ok ? "yes" : "no");
    int st;
    waitpid(pid, &st, 0);
    printf("child status=%d\n", WEXITSTATUS(st));

    /* pause(): the child must already be in (or about to enter) pause; SIGUSR2 is blocked until then. */
    int done[2];
    pipe(done);
    sigset_t u2;
    sigemptyset(&u2);
    sigaddset(&u2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &u2, NULL);
    pid = fork();
    if (pid == 0) {
        close(done[0]);
        struct sigaction c;
        memset(&c, 0, sizeof c);
        c.sa_handler = child_usr2;
        sigaction(SIGUSR2, &c, NULL);
        sigset_t w;
        sigprocmask(SIG_BLOCK, NULL, &w);
        sigdelset(&w, SIGUSR2);
        errno = 0;
        int r = sigsuspend(&w);    /* pause() with the mask swapped atomically */
        dprintf(done[1], "woken: ret=%d EINTR=%s handler=%d", r, errno == EINTR ? "yes" : "no", (int)got_usr2);
        _exit(0);
    }
    close(done[1]);
    kill(pid, SIGUSR2);
    char msg[64] = {0};
    read(done[0], msg, sizeof msg - 1);
    printf("child in sigsuspend %s\n", msg);
    waitpid(pid, &st, 0);

    /* Plain pause(): SIGTERM with default action terminates it. */
    pid = fork();
    if (pid == 0) { for (;;) pause(); }
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    printf("child in pause killed by SIGTERM: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? "yes" : "no");
    return 0;
}
