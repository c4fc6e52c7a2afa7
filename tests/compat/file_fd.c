// Checks dup/dup2/dup3 semantics (lowest free fd, shared offset), close -> EBADF, and fcntl F_GETFL/F_SETFL/F_GETFD/F_SETFD/F_DUPFD.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/wisp-compat-file_fd-XXXXXX", path[80], buf[16] = {0};
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/f", dir);
    int a = open(path, O_CREAT | O_RDWR, 0600);
    write(a, "abcdefghij", 10);
    lseek(a, 2, SEEK_SET);

    int b = dup(a);
    printf("dup gives new fd: %d\n", b != a && b >= 0);
    read(b, buf, 3);
    printf("read via dup: %s, shared offset now %ld\n", buf, (long)lseek(a, 0, SEEK_CUR));
    close(a);
    int c = dup(b);
    printf("dup reuses lowest free fd: %d\n", c == a);

    int t = dup2(b, 77);
    printf("dup2 to 77: %d\n", t);
    printf("dup2 same fd: %d\n", dup2(77, 77));
    printf("77 shares offset: %ld\n", (long)lseek(77, 0, SEEK_CUR));
    close(77);
    errno = 0;
    ssize_t n = read(77, buf, 1);
    printf("read closed fd: %zd EBADF=%d\n", n, errno == EBADF);
    errno = 0;
    printf("dup2 bad old fd EBADF: %d\n", dup2(999, 78) == -1 && errno == EBADF);

    int fl = fcntl(b, F_GETFL);
    printf("F_GETFL accmode O_RDWR: %d append: %d\n", (fl & O_ACCMODE) == O_RDWR, (fl & O_APPEND) != 0);
    fcntl(b, F_SETFL, fl | O_APPEND);
    fl = fcntl(c, F_GETFL);
    printf("O_APPEND visible via other dup: %d\n", (fl & O_APPEND) != 0);

    printf("F_GETFD initially: %d\n", fcntl(b, F_GETFD));
    fcntl(b, F_SETFD, FD_CLOEXEC);
    printf("F_GETFD after set: %d, dup unaffected: %d\n", fcntl(b, F_GETFD), fcntl(c, F_GETFD));
    int d = dup3(c, 90, O_CLOEXEC);
    printf("dup3 O_CLOEXEC: fd=%d flag=%d\n", d, fcntl(d, F_GETFD));
    int e = fcntl(c, F_DUPFD, 100);
    printf("F_DUPFD min 100: %d\n", e >= 100);
    int f = fcntl(c, F_DUPFD_CLOEXEC, 100);
    printf("F_DUPFD_CLOEXEC: above prev %d cloexec %d\n", f > e, fcntl(f, F_GETFD));

    int r = open(path, O_RDONLY);
    errno = 0;
    n = write(r, "x", 1);
    printf("write to O_RDONLY fd: %zd EBADF=%d\n", n, errno == EBADF);
    close(r); close(b); close(c); close(d); close(e); close(f);
    unlink(path);
    rmdir(dir);
    return 0;
}
