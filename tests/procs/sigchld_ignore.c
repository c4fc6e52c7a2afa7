// Checks automatic reaping: with SIGCHLD set to SIG_IGN (and separately SA_NOCLDWAIT) exited children leave no zombies, so wait blocks until all have exited and then fails with ECHILD; the default disposition keeps zombies waitable.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void spawn_three(void) {
    for (int i = 0; i < 3; i++) if (fork() == 0) _exit(i);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st, r;

    signal(SIGCHLD, SIG_DFL);
    spawn_three();
    int n = 0;
    while (wait(&st) > 0) n++;
    printf("SIG_DFL: waited %d zombies\n", n);

    signal(SIGCHLD, SIG_IGN);
    spawn_three();
    errno = 0;
    r = wait(&st);
    printf("SIG_IGN: wait=%d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDWAIT;
    sigaction(SIGCHLD, &sa, NULL);
    spawn_three();
    errno = 0;
    r = waitpid(-1, &st, 0);
    printf("SA_NOCLDWAIT: waitpid=%d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");

    signal(SIGCHLD, SIG_DFL);
    pid_t pid = fork();
    if (pid == 0) _exit(8);
    r = waitpid(pid, &st, 0);
    printf("back to SIG_DFL: waited right pid=%s status=%d\n", r == pid ? "yes" : "no", WEXITSTATUS(st));
    return 0;
}
