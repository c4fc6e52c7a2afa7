// Checks vectored I/O: writev gathers three buffers in order, readv scatters into buffers of different sizes, preadv/pwritev at offsets leave the file position alone, and a zero-length iovec in the middle is skipped.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    struct iovec w[4] = {{"alpha-", 6}, {"", 0}, {"beta-", 5}, {"gamma", 5}};
    printf("writev %ld\n", (long)writev(fd, w, 4));
    char a[3], b[7], c[20];
    memset(c, 0, sizeof c);
    struct iovec r[3] = {{a, 3}, {b, 7}, {c, 19}};
    lseek(fd, 0, SEEK_SET);
    long n = readv(fd, r, 3);
    printf("readv %ld: %.3s|%.7s|%s\n", n, a, b, c);
    struct iovec pw[2] = {{"XX", 2}, {"YY", 2}};
    long pos = lseek(fd, 0, SEEK_CUR);
    long wn = pwritev(fd, pw, 2, 3);
    printf("pwritev %ld, position kept %d\n", wn, lseek(fd, 0, SEEK_CUR) == pos);
    char d[4], e[6];
    struct iovec pr[2] = {{d, 4}, {e, 6}};
    n = preadv(fd, pr, 2, 1);
    printf("preadv %ld: %.4s|%.6s\n", n, d, e);
    close(fd);
    unlink("f");
    return 0;
}
