// Checks vfork: the parent is suspended until the child execs or _exits, the child's writes before exec are visible in the shared memory, the exec'd program runs, and both statuses are reported.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared_flag;
static volatile int order[4];
static volatile int order_len;

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    shared_flag = 1;
    int p[2];
    pipe(p);
    pid_t pid = vfork();
    if (pid == 0) {
        order[order_len++] = 1;     /* child runs first: the parent is suspended */
        shared_flag = 2;            /* shared address space until exec */
        dup2(p[1], 1);              /* fd table is not shared: only the child's stdout changes */
        execl("/bin/busybox", "echo", "exec'd echo after vfork", (char *)NULL);
        _exit(127);
    }
    order[order_len++] = 2;
    int first = order[0], second = order[1], seen = shared_flag;
    int st;
    waitpid(pid, &st, 0);   /* print only after the exec'd child is done: no race on stdout */
    printf("parent resumed after exec: order=%d,%d flag seen=%d\n", first, second, seen);
    close(p[1]);
    char buf[64] = {0};
    read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    printf("vfork+exec child status=%d output: %s", WEXITSTATUS(st), buf);

    pid = vfork();
    if (pid == 0) {
        shared_flag = 3;
        _exit(42);
    }
    printf("after vfork+_exit: flag=%d\n", shared_flag);
    waitpid(pid, &st, 0);
    printf("vfork+_exit status=%d\n", WEXITSTATUS(st));

    pid = vfork();
    if (pid == 0) {
        execl("/nonexistent-wisp", "x", (char *)NULL);
        _exit(99);    /* exec failed: still sharing memory, only _exit is safe */
    }
    waitpid(pid, &st, 0);
    printf("vfork+failed exec status=%d\n", WEXITSTATUS(st));
    return 0;
}
