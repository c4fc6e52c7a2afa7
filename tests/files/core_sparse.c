// Checks a sparse file: one byte written at 3 GiB gives that size, reads before it return zeros, lseek SEEK_END lands past 3 GiB, and truncating back to a small size works.
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("sparse", O_CREAT | O_RDWR, 0644);
    off_t big = 3LL << 30;
    long n = pwrite(fd, "!", 1, big);
    struct stat st;
    fstat(fd, &st);
    printf("pwrite %ld size %lld\n", n, (long long)st.st_size);
    char b[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    n = pread(fd, b, 8, big - 4);
    printf("read %ld: %d %d %d %d %c\n", n, b[0], b[1], b[2], b[3], b[4]);
    n = pread(fd, b, 8, 1LL << 30);
    printf("middle %ld zero %d\n", n, b[0] == 0 && b[7] == 0);
    printf("SEEK_END %lld\n", (long long)lseek(fd, 0, SEEK_END));
    ftruncate(fd, 100);
    fstat(fd, &st);
    printf("truncated %lld\n", (long long)st.st_size);
    close(fd);
    unlink("sparse");
    return 0;
}
