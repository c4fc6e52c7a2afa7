// Checks MAP_SHARED file mappings: stores through the map are seen by read() after msync, write() is seen through the map, MAP_PRIVATE stores stay private, a mapping survives closing the descriptor, and growing the file with ftruncate makes more of the map usable.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    ftruncate(fd, 8192);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(m, "through the map", 15);
    memcpy(m + 4096, "page two", 8);
    msync(m, 8192, MS_SYNC);
    char b[32] = {0};
    pread(fd, b, 15, 0);
    printf("read sees: %s\n", b);
    memset(b, 0, sizeof b);
    pread(fd, b, 8, 4096);
    printf("second page: %s\n", b);
    pwrite(fd, "WRITE", 5, 100);
    printf("map sees write: %.5s\n", m + 100);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    memcpy(p, "private", 7);
    memset(b, 0, sizeof b);
    pread(fd, b, 7, 0);
    printf("private store not in file: %s\n", b);
    printf("shared map unchanged: %.7s\n", m);
    close(fd);
    memcpy(m + 200, "after close", 11);
    int fd2 = open("f", O_RDONLY);
    memset(b, 0, sizeof b);
    pread(fd2, b, 11, 200);
    printf("after close: %s\n", b);
    close(fd2);
    munmap(p, 4096);
    munmap(m, 8192);
    unlink("f");
    return 0;
}
