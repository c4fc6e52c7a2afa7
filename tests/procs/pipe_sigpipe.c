// Checks writing to a pipe whose reader has closed: the writer dies of SIGPIPE (WTERMSIG 13, shell status 141); with SIGPIPE ignored write fails with EPIPE; with a handler it runs and write fails with EPIPE; an exec'd busybox inherits the ignore.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static void on_pipe(int s) { caught = s; }

/* mode 0: default, 1: SIG_IGN, 2: handler. The child reports through r[1]. */
static void run(const char *label, int mode) {
    int p[2], r[2];
    pipe(p); pipe(r);
    close(p[0]);          /* no reader anywhere */
    pid_t pid = fork();
    if (pid == 0) {
        close(r[0]);
        if (mode == 0) signal(SIGPIPE, SIG_DFL);
        if (mode == 1) signal(SIGPIPE, SIG_IGN);
        if (mode == 2) { struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_pipe; sigaction(SIGPIPE, &sa, NULL); }
        errno = 0;
        ssize_t n = write(p[1], "data", 4);
        int e = errno;
        dprintf(r[1], "write returned %zd errno=%s handler=%d", n, e == EPIPE ? "EPIPE" : e ? "other" : "0", (int)caught);
        _exit(7);
    }
    close(p[1]); close(r[1]);
    char msg[128] = {0};
    read(r[0], msg, sizeof msg - 1);
    close(r[0]);
    int st;
    waitpid(pid, &st, 0);
    printf("%s: [%s] ", label, msg[0] ? msg : "no report");
    if (WIFSIGNALED(st)) printf("killed by signal %d (shell status %d)\n", WTERMSIG(st), 128 + WTERMSIG(st));
    else printf("exited %d\n", WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    run("default disposition", 0);
    run("SIGPIPE ignored", 1);
    run("SIGPIPE handled", 2);

    /* Reader closes after reading part: a writer blocked on a full pipe gets SIGPIPE. */
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        close(p[0]);
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        for (;;) write(p[1], buf, sizeof buf);
    }
    close(p[1]);
    char buf[100];
    ssize_t got = 0, n;
    while (got < 100000 && (n = read(p[0], buf, sizeof buf)) > 0) got += n;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    printf("endless writer after reader closes: signaled=%d termsig=%d\n", !!WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);

    /* SIG_IGN survives exec: busybox echo writing into a closed pipe gets EPIPE and exits 1 instead of dying. */
    pipe(p);
    close(p[0]);
    pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        dup2(p[1], 1);
        close(p[1]);
        int devnull[2];
        pipe(devnull);
        dup2(devnull[1], 2);   /* hide busybox's error message */
        execl("/bin/busybox", "echo", "spam", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    waitpid(pid, &st, 0);
    printf("busybox echo with SIGPIPE ignored: signaled=%d exited=%d status=%d\n", !!WIFSIGNALED(st),
           !!WIFEXITED(st), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
