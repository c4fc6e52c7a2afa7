// Checks orphan reparenting: when a child exits, its own child (our grandchild) is reparented, so its getppid() changes away from the dead parent; the grandchild reports through a pipe.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int report[2], go[2], started[2];
    pipe(report);
    pipe(go);
    pipe(started);
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        pid_t me = getpid();
        pid_t g = fork();
        if (g == 0) {
            char c;
            close(go[1]);
            int before = getppid() == me;
            write(started[1], "s", 1);    /* the middle child exits only after this check */
            read(go[0], &c, 1);           /* the parent has exited and been reaped by now */
            int changed = 0;
            for (int i = 0; i < 2000 && !changed; i++) {   /* up to ~1s */
                if (getppid() != me) changed = 1;
                else { struct timespec ts = {0, 500000}; nanosleep(&ts, NULL); }
            }
            dprintf(report[1], "grandchild: parent was the child: %s\nreparented: %s\n",
                    before ? "yes" : "no", changed ? "yes" : "no");
            _exit(0);
        }
        char c;
        close(started[1]);
        read(started[0], &c, 1);
        _exit(5);
    }
    close(report[1]);
    int st;
    waitpid(child, &st, 0);
    printf("middle child exited with %d\n", WEXITSTATUS(st));
    write(go[1], "g", 1);
    close(go[1]);
    char buf[256] = {0};
    size_t len = 0;
    ssize_t n;
    while ((n = read(report[0], buf + len, sizeof buf - 1 - len)) > 0) len += n;
    printf("%s", buf);
    return 0;
}
