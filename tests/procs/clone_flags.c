// build: gcc-static
// Checks raw clone() child processes (no threads): plain clone with SIGCHLD copies memory, CLONE_VM shares it, CLONE_FILES shares the fd table, CLONE_VFORK suspends the parent, and a non-SIGCHLD exit signal needs __WCLONE to wait.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK (256 * 1024)
static volatile int value;
static volatile int vfork_seq;
static int fd_from_child = -1;

static int set_value(void *arg) { value = (int)(long)arg; return 7; }
static int open_fd(void *arg) { (void)arg; fd_from_child = open("/dev/null", O_RDONLY); return 0; }
static int vfork_child(void *arg) { (void)arg; vfork_seq = vfork_seq * 10 + 1; return 3; }

static pid_t spawn(int (*fn)(void *), void *arg, int flags) {
    char *stack = malloc(STACK);
    return clone(fn, stack + STACK, flags, arg);   /* stack leaks: the child may still use it */
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    value = 1;
    pid_t pid = spawn(set_value, (void *)2L, SIGCHLD);
    waitpid(pid, &st, 0);
    printf("clone(SIGCHLD): status=%d parent value=%d (copied)\n", WEXITSTATUS(st), value);

    pid = spawn(set_value, (void *)3L, CLONE_VM | SIGCHLD);
    waitpid(pid, &st, 0);
    printf("clone(CLONE_VM|SIGCHLD): status=%d parent value=%d (shared)\n", WEXITSTATUS(st), value);

    pid = spawn(open_fd, NULL, CLONE_VM | CLONE_FILES | SIGCHLD);
    waitpid(pid, &st, 0);
    printf("CLONE_FILES: fd opened by child usable in parent: %s\n", fd_from_child >= 0 && fcntl(fd_from_child, F_GETFD) >= 0 ? "yes" : "no");
    close(fd_from_child);

    fd_from_child = -1;
    pid = spawn(open_fd, NULL, CLONE_VM | SIGCHLD);
    waitpid(pid, &st, 0);
    errno = 0;
    int r = fd_from_child >= 0 ? fcntl(fd_from_child, F_GETFD) : -2;
    printf("without CLONE_FILES: child's fd absent in parent: %s\n", r == -1 && errno == EBADF ? "yes" : "no");

    vfork_seq = 0;
    pid = spawn(vfork_child, NULL, CLONE_VM | CLONE_VFORK | SIGCHLD);
    vfork_seq = vfork_seq * 10 + 2;
    waitpid(pid, &st, 0);
    printf("CLONE_VFORK: order=%d status=%d\n", vfork_seq, WEXITSTATUS(st));

    pid = spawn(set_value, (void *)9L, 0);   /* exit signal 0: no signal, a "clone" child */
    errno = 0;
    r = waitpid(pid, &st, WNOHANG);
    int plain_err = errno;
    pid_t w = waitpid(pid, &st, __WCLONE);
    printf("exit signal 0: plain waitpid ECHILD=%s, __WCLONE got it=%s status=%d\n",
           r == -1 && plain_err == ECHILD ? "yes" : "no", w == pid ? "yes" : "no", WEXITSTATUS(st));
    return 0;
}
