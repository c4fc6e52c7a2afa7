// Checks fallocate: mode 0 grows the size and reads zeros, KEEP_SIZE leaves the size, PUNCH_HOLE|KEEP_SIZE zeroes a range in the middle, bad arguments give EINVAL, and a read-only descriptor gives EBADF.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long size(int fd) {
    struct stat st;
    fstat(fd, &st);
    return (long)st.st_size;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    int r = fallocate(fd, 0, 0, 8192);
    printf("grow: %d size %ld\n", r, size(fd));
    char b[16];
    pread(fd, b, 16, 4096);
    int zero = 1;
    for (int i = 0; i < 16; i++) zero &= b[i] == 0;
    printf("reads zeros: %d\n", zero);
    r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 65536);
    printf("keep size: %d size %ld\n", r, size(fd));
    char data[8192];
    memset(data, 'x', sizeof data);
    pwrite(fd, data, sizeof data, 0);
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 2048);
    pread(fd, b, 4, 4094);
    printf("punch: %d size %ld bytes %c%c%d%d\n", r, size(fd), b[0], b[1], b[2], b[3]);
    pread(fd, b, 2, 6143);
    printf("after the hole: %d%c\n", b[0], b[1]);
    r = fallocate(fd, 0, 0, 0);
    printf("zero length: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    r = fallocate(fd, 0, -1, 10);
    printf("negative offset: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    int ro = open("f", O_RDONLY);
    r = fallocate(ro, 0, 0, 100);
    printf("read-only fd: %d %s\n", r, errno == EBADF ? "EBADF" : "other");
    close(ro);
    close(fd);
    unlink("f");
    return 0;
}
