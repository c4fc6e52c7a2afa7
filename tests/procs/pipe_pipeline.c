// Checks pipe + fork + dup2 building "busybox seq 1 2000 | busybox grep 7 | busybox wc -l" and a hand-written producer | consumer, with the parent collecting the output through a third pipe; the reader sees EOF only once every write end is closed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(int in, int out, int closefds[], int nclose, char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        if (in != 0) { dup2(in, 0); close(in); }
        if (out != 1) { dup2(out, 1); close(out); }
        for (int i = 0; i < nclose; i++) close(closefds[i]);
        execv("/bin/busybox", argv);
        _exit(127);
    }
    return pid;
}

static size_t slurp(int fd, char *buf, size_t cap) {
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += n;
    buf[len] = 0;
    return len;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int a[2], b[2], c[2];
    pipe(a); pipe(b); pipe(c);
    char *seq[] = {"seq", "1", "2000", NULL};
    char *grep[] = {"grep", "7", NULL};
    char *wc[] = {"wc", "-l", NULL};
    int all[] = {a[0], a[1], b[0], b[1], c[0], c[1]};
    pid_t p1 = spawn(0, a[1], all, 6, seq);
    pid_t p2 = spawn(a[0], b[1], all, 6, grep);
    pid_t p3 = spawn(b[0], c[1], all, 6, wc);
    close(a[0]); close(a[1]); close(b[0]); close(b[1]); close(c[1]);
    char out[256];
    slurp(c[0], out, sizeof out);
    close(c[0]);
    int st1, st2, st3;
    waitpid(p1, &st1, 0); waitpid(p2, &st2, 0); waitpid(p3, &st3, 0);
    printf("seq|grep 7|wc -l -> %s", out);
    printf("statuses: %d %d %d\n", WEXITSTATUS(st1), WEXITSTATUS(st2), WEXITSTATUS(st3));

    /* producer | consumer written in C: consumer sums numbers until EOF and reports through pipe r. */
    int p[2], r[2];
    pipe(p); pipe(r);
    pid_t prod = fork();
    if (prod == 0) {
        close(p[0]); close(r[0]); close(r[1]);
        dup2(p[1], 1); close(p[1]);
        for (int i = 1; i <= 1000; i++) printf("%d\n", i);
        fflush(stdout);
        _exit(0);
    }
    pid_t cons = fork();
    if (cons == 0) {
        close(p[1]); close(r[0]);
        dup2(p[0], 0); close(p[0]);
        long sum = 0, x, lines = 0;
        while (scanf("%ld", &x) == 1) { sum += x; lines++; }
        dprintf(r[1], "consumer: %ld lines, sum %ld, saw EOF\n", lines, sum);
        _exit(0);
    }
    close(p[0]); close(p[1]); close(r[1]);
    slurp(r[0], out, sizeof out);
    printf("%s", out);
    int st;
    waitpid(prod, &st, 0);
    printf("producer status %d\n", WEXITSTATUS(st));
    waitpid(cons, &st, 0);
    printf("consumer status %d\n", WEXITSTATUS(st));

    /* EOF needs every writer closed: a child holding a dup of the write end delays it. */
    int q[2], hold[2];
    pipe(q); pipe(hold);
    pid_t holder = fork();
    if (holder == 0) {
        char x;
        close(q[0]); close(hold[1]);
        read(hold[0], &x, 1);       /* keeps q[1] open until told to go */
        write(q[1], "late", 4);
        _exit(0);
    }
    close(q[1]); close(hold[0]);
    write(hold[1], "g", 1);

    {
        char buf[16] = {0};
        size_t len = slurp(q[0], buf, sizeof buf);
        printf("reader got \"%s\" (%zu bytes) then EOF after the last writer exited\n", buf, len);
    }
    waitpid(holder, &st, 0);
    close(q[0]); close(hold[1]);

    return 0;
}
