// Checks kill(-pgid, SIGTERM) kills every member of a process group (three children, one exec'd busybox) while the sender in another group survives, killpg with signal 0 probes the group, and ESRCH once the group is gone.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGTERM, SIG_DFL);
    int ready[2], block[2];
    pipe(ready);
    pipe(block);   /* nobody writes block[1]: the shell's read waits forever */
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            signal(SIGTERM, SIG_DFL);
            setpgid(0, i == 0 ? 0 : kids[0]);
            if (i == 2) {
                /* busybox sh: "ready" is written by the shell, then it waits in read forever */
                dup2(ready[1], 1);
                dup2(block[0], 0);
                execl("/bin/busybox", "sh", "-c", "echo x; read forever", (char *)NULL);
                _exit(127);
            }
            write(ready[1], "x\n", 2);
            for (;;) pause();
        }
        setpgid(kids[i], kids[0]);   /* also from the parent: no race with the child */
    }
    close(ready[1]);
    char buf[8];
    int lines = 0;
    while (lines < 3 && read(ready[0], buf, 2) > 0) lines++;
    printf("ready children: %d\n", lines);
    printf("group of each child is child 0: %s\n",
           getpgid(kids[0]) == kids[0] && getpgid(kids[1]) == kids[0] && getpgid(kids[2]) == kids[0] ? "yes" : "no");
    printf("killpg(pgid, 0) while alive: %d\n", killpg(kids[0], 0));
    printf("kill(-pgid, SIGTERM): %d\n", kill(-kids[0], SIGTERM));
    for (int i = 0; i < 3; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        printf("child %d: ", i);
        if (WIFSIGNALED(st)) printf("killed by signal %d\n", WTERMSIG(st));
        else printf("exited %d\n", WEXITSTATUS(st));
    }
    close(block[1]);
    printf("sender survived: yes\n");
    errno = 0;
    int r = kill(-kids[0], SIGTERM);
    printf("kill(-pgid) after all reaped: %d ESRCH=%s\n", r, errno == ESRCH ? "yes" : "no");
    return 0;
}
