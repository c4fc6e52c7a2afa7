// build: gcc-static
// Checks openat/mkdirat/fstatat/renameat/unlinkat relative to a directory fd, absolute paths ignoring dirfd, and /etc/passwd's first line.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/wisp-compat-file_openat-XXXXXX", buf[64] = {0};
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    printf("dirfd ok: %d\n", dfd >= 0);

    int fd = openat(dfd, "note", O_CREAT | O_WRONLY, 0644);
    printf("openat create: %zd bytes written\n", write(fd, "relative to dirfd", 17));
    close(fd);
    struct stat st;
    int rc = fstatat(dfd, "note", &st, 0);
    printf("fstatat: %d size=%ld\n", rc, (long)st.st_size);
    printf("mkdirat: %d\n", mkdirat(dfd, "sub", 0755));
    printf("renameat into sub: %d\n", renameat(dfd, "note", dfd, "sub/note2"));
    int sub = openat(dfd, "sub", O_RDONLY | O_DIRECTORY);
    fd = openat(sub, "note2", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    printf("read through nested dirfd: %s\n", buf);
    close(fd);
    printf("symlinkat: %d\n", symlinkat("../sub/note2", sub, "ln"));
    memset(buf, 0, sizeof buf);
    printf("readlinkat: %zd %s\n", readlinkat(sub, "ln", buf, sizeof buf), buf);
    fd = openat(sub, "ln", O_RDONLY);
    printf("open via relative symlink: %d\n", fd >= 0);
    if (fd >= 0) close(fd);
    errno = 0;
    printf("O_NOFOLLOW on symlink ELOOP: %d\n", openat(sub, "ln", O_RDONLY | O_NOFOLLOW) == -1 && errno == ELOOP);

    fd = openat(sub, "/etc/passwd", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, 5);
    printf("absolute path ignores dirfd, /etc/passwd starts with root: %s\n", strncmp(buf, "root:", 5) == 0 ? "yes" : "no");
    close(fd);

    errno = 0;
    printf("openat bad dirfd EBADF: %d\n", openat(555, "x", O_RDONLY) == -1 && errno == EBADF);
    fd = open("/etc/passwd", O_RDONLY);
    errno = 0;
    printf("openat file-as-dirfd ENOTDIR: %d\n", openat(fd, "x", O_RDONLY) == -1 && errno == ENOTDIR);
    close(fd);

    printf("unlinkat link: %d\n", unlinkat(sub, "ln", 0));
    printf("unlinkat file: %d\n", unlinkat(sub, "note2", 0));
    printf("unlinkat dir: %d\n", unlinkat(dfd, "sub", AT_REMOVEDIR));
    close(sub); close(dfd);
    printf("rmdir: %d\n", rmdir(dir));
    return 0;
}
