// Checks waitpid(-1), waitpid(pid) picking a specific child, wait4 with WNOHANG returning 0 while the child runs (blocked on a pipe), and ECHILD with no children.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    int r;
    errno = 0;
    r = wait(&st);
    printf("wait with no children: %d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");
    errno = 0;
    r = waitpid(-1, &st, WNOHANG);
    printf("waitpid(-1, WNOHANG) with no children: %d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");

    /* Child blocks reading a pipe until the parent writes. */
    int p[2];
    pipe(p);
    pid_t blocked = fork();
    if (blocked == 0) {
        char c = 0;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(c == 'x' ? 21 : 99);
    }
    close(p[0]);
    struct rusage ru;
    printf("wait4 WNOHANG while child blocked: %d\n", (int)wait4(blocked, &st, WNOHANG, &ru));
    printf("waitpid(-1, WNOHANG) while child blocked: %d\n", (int)waitpid(-1, &st, WNOHANG));
    write(p[1], "x", 1);
    close(p[1]);
    pid_t w = wait4(blocked, &st, 0, &ru);
    printf("wait4 after releasing: right pid=%s status=%d\n", w == blocked ? "yes" : "no", WEXITSTATUS(st));

    /* Specific pid among several: the second child is picked even though others are zombies. */
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) _exit(30 + i);
    }
    w = waitpid(kids[1], &st, 0);
    printf("waitpid(kids[1]): right pid=%s status=%d\n", w == kids[1] ? "yes" : "no", WEXITSTATUS(st));
    errno = 0;
    r = waitpid(kids[1], &st, 0);
    printf("waitpid(kids[1]) again: %d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");
    int sum = 0, n = 0;
    while ((w = waitpid(-1, &st, 0)) > 0) {
        n++;
        sum += WEXITSTATUS(st);
        if (w != kids[0] && w != kids[2]) puts("waitpid(-1) returned unexpected pid");
    }
    printf("waitpid(-1) reaped %d more, statuses sum %d, then ECHILD=%s\n", n, sum, errno == ECHILD ? "yes" : "no");

    /* waitpid on a pid that is not our child. */
    errno = 0;
    r = waitpid(getpid(), &st, 0);
    printf("waitpid(getpid()): %d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");
    errno = 0;
    r = waitpid(-1, &st, 0x4000000);
    printf("waitpid bad options: %d EINVAL=%s\n", r, errno == EINVAL ? "yes" : "no");
    return 0;
}
