// Checks transfer sizes: one 4 MiB write and one 4 MiB read are complete and match by checksum, writes straddling page boundaries at odd offsets read back, a read across EOF is short, zero-length read/write/pwrite return 0 and do not extend the file even past EOF, and readv/writev with 1024 iovecs work while 1025 is EINVAL.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "errname.h"

#define BIG (4 << 20)

static unsigned long sum(const unsigned char *b, long n) {
    unsigned long h = 5381;
    for (long i = 0; i < n; i++) h = h * 33 + b[i];
    return h;
}

static long size(int fd) {
    struct stat st;
    fstat(fd, &st);
    return (long)st.st_size;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    unsigned char *big = malloc(BIG), *back = malloc(BIG);
    for (long i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 31 + (i >> 12));
    int fd = open("big", O_CREAT | O_RDWR | O_TRUNC, 0644);
    printf("write 4 MiB: %ld\n", (long)write(fd, big, BIG));
    printf("offset %ld size %ld\n", (long)lseek(fd, 0, SEEK_CUR), size(fd));
    memset(back, 0, BIG);
    printf("pread 4 MiB: %ld\n", (long)pread(fd, back, BIG, 0));
    printf("checksums %lx %lx equal %d\n", sum(big, BIG), sum(back, BIG), memcmp(big, back, BIG) == 0);
    printf("pread across EOF: %ld\n", (long)pread(fd, back, 4096, BIG - 100));
    printf("pread at EOF: %ld\n", (long)pread(fd, back, 4096, BIG));

    unsigned char odd[10007];
    for (int i = 0; i < (int)sizeof odd; i++) odd[i] = (unsigned char)(255 - i % 251);
    long offs[] = {4095, 8191 + 4096, 1 << 20, BIG - 3};
    for (int k = 0; k < 4; k++) {
        long w = pwrite(fd, odd, sizeof odd, offs[k]);
        memset(back, 0, sizeof odd);
        long r = pread(fd, back, sizeof odd, offs[k]);
        printf("odd write at %ld: %ld back %ld same %d\n", offs[k], w, r, memcmp(odd, back, sizeof odd) == 0);
    }
    printf("size %ld\n", size(fd));
    long before = size(fd);
    TRY("write 0", write(fd, big, 0));
    TRY("read 0", read(fd, back, 0));
    lseek(fd, before + 5000, SEEK_SET);
    TRY("write 0 past EOF", write(fd, big, 0));
    TRY("pwrite 0 past EOF", pwrite(fd, big, 0, before + 9000));
    printf("size unchanged %d\n", size(fd) == before);
    close(fd);

    int v = open("vec", O_CREAT | O_RDWR | O_TRUNC, 0644);
    static struct iovec iov[1025];
    for (int i = 0; i < 1025; i++) {
        iov[i].iov_base = big + i * 4;
        iov[i].iov_len = 4;
    }
    TRY("writev 1024", writev(v, iov, 1024));
    TRY("writev 1025", writev(v, iov, 1025));
    for (int i = 0; i < 1025; i++) iov[i].iov_base = back + (1023 - i % 1024) * 4;
    lseek(v, 0, SEEK_SET);
    memset(back, 0, 8192);
    TRY("readv 1024", readv(v, iov, 1024));
    int reversed = 1;
    for (int i = 0; i < 1024; i++) reversed &= memcmp(back + (1023 - i) * 4, big + i * 4, 4) == 0;
    printf("scattered in reverse as asked: %d\n", reversed);
    TRY("readv 1025", readv(v, iov, 1025));
    close(v);
    unlink("vec");
    unlink("big");
    free(big);
    free(back);
    return 0;
}
