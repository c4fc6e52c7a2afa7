// build: gcc-static
// Checks close-on-exec: O_CLOEXEC, pipe2(O_CLOEXEC), dup3(O_CLOEXEC), F_SETFD and F_DUPFD_CLOEXEC fds are closed in a re-exec of this program, while plain fds, dup() copies and cleared flags are inherited with their offsets.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(void) {
    const char *what[] = {"O_CLOEXEC open", "plain open", "pipe2 read end", "pipe2 write end",
                          "dup of cloexec fd", "dup3 O_CLOEXEC", "F_SETFD FD_CLOEXEC", "F_SETFD cleared",
                          "F_DUPFD_CLOEXEC", "plain pipe read end"};
    for (int fd = 20; fd < 30; fd++) {
        errno = 0;
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0) printf("fd %d (%s): closed%s\n", fd, what[fd - 20], errno == EBADF ? " (EBADF)" : "");
        else printf("fd %d (%s): open, FD_CLOEXEC=%d\n", fd, what[fd - 20], fl & FD_CLOEXEC);
    }
    char buf[8] = {0};
    if (read(21, buf, 3) == 3) printf("inherited fd continues at shared offset: %s\n", buf);
    if (read(29, buf, 5) == 5) printf("inherited pipe delivers: %.5s\n", buf);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "check")) { check(); return 0; }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    char dir[] = "/tmp/wisp-procs-exec_cloexec-XXXXXX", path[80];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/f", dir);
    int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    write(f, "abcdefgh", 8);
    close(f);

    int a = open(path, O_RDONLY | O_CLOEXEC);
    dup2(a, 20); close(a);                  /* dup2 clears FD_CLOEXEC: set it again */
    fcntl(20, F_SETFD, FD_CLOEXEC);
    a = open(path, O_RDONLY);
    lseek(a, 2, SEEK_SET);
    dup2(a, 21); close(a);
    int p[2];
    pipe2(p, O_CLOEXEC);
    dup3(p[0], 22, O_CLOEXEC); dup3(p[1], 23, O_CLOEXEC); close(p[0]); close(p[1]);
    a = dup(20);                            /* dup never copies FD_CLOEXEC */
    dup2(a, 24); close(a);
    dup3(21, 25, O_CLOEXEC);
    dup2(21, 26); fcntl(26, F_SETFD, FD_CLOEXEC);
    dup3(21, 27, O_CLOEXEC); fcntl(27, F_SETFD, 0);
    a = fcntl(21, F_DUPFD_CLOEXEC, 28);
    if (a != 28) printf("F_DUPFD_CLOEXEC gave unexpected fd\n");
    pipe(p);
    dup2(p[0], 29); close(p[0]);
    write(p[1], "piped", 5); close(p[1]);

    printf("before exec: 20 cloexec=%d 21 cloexec=%d 24 cloexec=%d 28 cloexec=%d\n",
           fcntl(20, F_GETFD), fcntl(21, F_GETFD), fcntl(24, F_GETFD), fcntl(28, F_GETFD));
    pid_t pid = fork();
    if (pid == 0) {
        printf("after fork (no exec) fd 20 still open: %s\n", fcntl(20, F_GETFD) >= 0 ? "yes" : "no");
        char *av[] = {"cloexec-check", "check", NULL};
        execv(self, av);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status=%d\n", WEXITSTATUS(st));
    unlink(path); rmdir(dir);
    return 0;
}
