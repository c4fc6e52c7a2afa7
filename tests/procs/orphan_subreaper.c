// build: gcc-static
// Checks PR_SET_CHILD_SUBREAPER: an orphaned grandchild is reparented to this process (getppid()==our pid), and we can then wait for it and see its exit status.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int r = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    int flag = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0);
    printf("set subreaper: %d, get: %d\n", r, flag);
    pid_t top = getpid();
    int report[2], go[2];
    pipe(report);
    pipe(go);
    pid_t child = fork();
    if (child == 0) {
        pid_t g = fork();
        if (g == 0) {
            char c;
            close(go[1]);
            read(go[0], &c, 1);
            int adopted = 0;
            for (int i = 0; i < 2000 && !adopted; i++) {
                if (getppid() == top) adopted = 1;
                else { struct timespec ts = {0, 500000}; nanosleep(&ts, NULL); }
            }
            dprintf(report[1], "grandchild adopted by the subreaper: %s\n", adopted ? "yes" : "no");
            _exit(33);
        }
        dprintf(report[1], "%ld\n", (long)g);
        _exit(4);
    }
    close(report[1]);
    int st;
    waitpid(child, &st, 0);
    printf("middle child status=%d\n", WEXITSTATUS(st));
    char buf[256] = {0};
    ssize_t n = 0, len = 0;
    while (len < (ssize_t)sizeof buf - 1 && (n = read(report[0], buf + len, 1)) > 0 && buf[len] != '\n') len++;
    buf[len] = 0;
    pid_t g = (pid_t)atol(buf);
    write(go[1], "g", 1);
    close(go[1]);
    len = 0;
    while ((n = read(report[0], buf + len, sizeof buf - 1 - len)) > 0) len += n;
    buf[len] = 0;
    printf("%s", buf);
    pid_t w = waitpid(-1, &st, 0);
    printf("waited the adopted grandchild: %s status=%d\n", w == g ? "yes" : "no", WEXITSTATUS(st));
    errno = 0;
    w = waitpid(-1, &st, 0);
    printf("no more children: ECHILD=%s\n", w == -1 && errno == ECHILD ? "yes" : "no");
    return 0;
}
