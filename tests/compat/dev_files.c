// Checks /dev/null (read 0, write ok), /dev/zero (zeros), /dev/full (ENOSPC), /dev/urandom (byte count only), and writing via /dev/stdout.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char buf[4096];
    int fd = open("/dev/null", O_RDWR);
    printf("/dev/null read: %zd\n", read(fd, buf, sizeof buf));
    printf("/dev/null write: %zd\n", write(fd, "discard me", 10));
    close(fd);

    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 0x55, sizeof buf);
    ssize_t n = read(fd, buf, sizeof buf);
    int allzero = 1;
    for (int i = 0; i < (int)sizeof buf; i++) if (buf[i]) allzero = 0;
    printf("/dev/zero read %zd all zero: %d\n", n, allzero);
    close(fd);

    fd = open("/dev/full", O_WRONLY);
    errno = 0;
    n = write(fd, "x", 1);
    printf("/dev/full write: %zd ENOSPC=%d\n", n, errno == ENOSPC);
    close(fd);
    fd = open("/dev/full", O_RDONLY);
    buf[0] = 1;
    n = read(fd, buf, 16);
    printf("/dev/full read: %zd zero=%d\n", n, buf[0] == 0);
    close(fd);

    fd = open("/dev/urandom", O_RDONLY);
    n = read(fd, buf, 64);
    printf("/dev/urandom read: %zd\n", n);
    unsigned char r1[32], r2[32];
    read(fd, r1, 32); read(fd, r2, 32);
    printf("/dev/urandom two reads differ: %d\n", memcmp(r1, r2, 32) != 0);
    close(fd);

    fd = open("/dev/random", O_RDONLY);
    printf("/dev/random read: %zd\n", read(fd, buf, 16));
    close(fd);

    fflush(stdout);
    /* O_APPEND so this works whether stdout is a tty, a pipe or a regular file. Reopening a
       file that belongs to another user can fail with EACCES (ENXIO for sockets); then fall back to fd 1. */
    errno = 0;
    fd = open("/dev/stdout", O_WRONLY | O_APPEND);
    if (fd < 0 && errno != EACCES && errno != ENXIO) { printf("open /dev/stdout failed\n"); return 1; }
    const char *msg = "written via /dev/stdout\n";
    n = write(fd >= 0 ? fd : 1, msg, strlen(msg));
    if (fd >= 0) close(fd);
    return n == (ssize_t)strlen(msg) ? 0 : 1;
}
