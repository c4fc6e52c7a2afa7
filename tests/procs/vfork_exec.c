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
    pid_t pid = vfork();
    if (pid == 0) {
        order[order_len++] = 1;     /* child runs first: the parent is suspended */
        shared_flag = 2;            /* shared address space until exec */
        execl("/bin/busybox", "echo", "exec'd echo after vfork", (char *)NULL);
        _exit(127);
    }
    order[order_len++] = 2;
    printf("parent resumed after exec: order=%d,%d flag seen=%d\n", order[0], order[1], shared_flag);
    int st;
    waitpid(pid, &st, 0);
    printf("vfork+exec child status=%d\n", WEXITSTATUS(st));

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
