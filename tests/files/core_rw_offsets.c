// Checks read/write/pread/pwrite and lseek: SEEK_SET/CUR/END, pread/pwrite leave the offset alone, writing past the end leaves a hole that reads as zeros, lseek to a negative offset is EINVAL, and reads at end of file return 0.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    printf("offset after write %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("SEEK_SET 3 -> %ld\n", (long)lseek(fd, 3, SEEK_SET));
    char b[32] = {0};
    read(fd, b, 4);
    printf("read 4: %s, offset %ld\n", b, (long)lseek(fd, 0, SEEK_CUR));
    memset(b, 0, sizeof b);
    pread(fd, b, 3, 7);
    printf("pread at 7: %s, offset still %ld\n", b, (long)lseek(fd, 0, SEEK_CUR));
    pwrite(fd, "AB", 2, 0);
    printf("offset after pwrite %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("SEEK_END -2 -> %ld\n", (long)lseek(fd, -2, SEEK_END));
    TRY("negative seek", lseek(fd, -100, SEEK_SET));
    lseek(fd, 20, SEEK_SET);
    write(fd, "Z", 1);
    memset(b, 'q', sizeof b);
    long n = pread(fd, b, 32, 0);
    printf("size %ld:", n);
    for (int i = 0; i < n; i++) printf(" %02x", (unsigned char)b[i]);
    printf("\n");
    lseek(fd, 0, SEEK_END);
    TRY("read at EOF", read(fd, b, 4));
    TRY("pread past EOF", pread(fd, b, 4, 1000));
    close(fd);
    unlink("f");
    return 0;
}
