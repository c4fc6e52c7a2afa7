// Checks that fork copies the fd table: offsets are shared through the common open file, closing in the child leaves the parent's fd open, and fds opened after fork are private.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/wisp-procs-fork_fds-XXXXXX", path[80], path2[80];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(path2, sizeof path2, "%s/g", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    write(fd, "0123456789abcdef", 16);
    lseek(fd, 0, SEEK_SET);
    int dupfd = dup(fd);
    pid_t pid = fork();
    if (pid == 0) {
        char b[5] = {0};
        read(fd, b, 4);
        printf("child read: %s\n", b);
        close(fd);
        errno = 0;
        printf("child: closed fd gives EBADF: %s\n", (read(fd, b, 1) < 0 && errno == EBADF) ? "yes" : "no");
        int g = open(path2, O_CREAT | O_WRONLY, 0600);
        printf("child: new fd reuses the closed number: %s\n", g == fd ? "yes" : "no");
        write(g, "child", 5);
        lseek(dupfd, 0, SEEK_END);
        write(dupfd, "XY", 2);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent: offset after child read and append: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    lseek(fd, 4, SEEK_SET);
    char b[32] = {0};
    ssize_t n = read(fd, b, sizeof b - 1);
    printf("parent: fd still open, rest of file (%zd bytes): %s\n", n, b);
    int g = open(path2, O_RDONLY);
    memset(b, 0, sizeof b);
    read(g, b, sizeof b - 1);
    printf("parent: file written by child's private fd: %s\n", b);
    close(g); close(fd); close(dupfd);
    unlink(path); unlink(path2); rmdir(dir);
    return 0;
}
