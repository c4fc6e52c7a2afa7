// build: gcc-static
// Checks WNOHANG polling: returns 0 for every poll while the child is blocked on a pipe, then exactly once the child's pid after it exits, then ECHILD.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int go[2], done[2];
    pipe(go); pipe(done);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]); close(done[0]);
        read(go[0], &c, 1);
        close(done[1]);      /* parent sees EOF just before we exit */
        _exit(77);
    }
    close(go[0]); close(done[1]);
    int zeros = 0, st;
    for (int i = 0; i < 100; i++) if (waitpid(pid, &st, WNOHANG) == 0) zeros++;
    printf("100 polls while blocked returned 0: %d\n", zeros);
    write(go[1], "g", 1);
    char c;
    read(done[0], &c, 1);    /* EOF: child is exiting */
    pid_t w;
    int polls = 0;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0) { polls++; usleep(1000); }
    printf("eventually got the child: %s status=%d\n", w == pid ? "yes" : "no", WEXITSTATUS(st));
    errno = 0;
    int r = waitpid(pid, &st, WNOHANG);
    printf("next poll: %d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");
    return 0;
}
