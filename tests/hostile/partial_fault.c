// expect: native
// read()/write() with a buffer whose second page is unmapped must transfer exactly the mapped part (short count), not fail outright or touch the hole.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/wisp-hostile-partial_fault-XXXXXX", path[96];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/f", dir);
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 2 * 4096);
    memset(p, 'w', 4096);

    int z = open("/dev/zero", O_RDONLY);
    errno = 0;
    ssize_t n = read(z, p + 100, 3 * 4096);
    printf("read /dev/zero across hole: %zd%s\n", n, n < 0 && errno == EFAULT ? " EFAULT" : "");
    printf("mapped part zeroed: %d, bytes before untouched: %d\n", p[4095] == 0, p[99] == 'w');
    close(z);

    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    memset(p, 'w', 4096);
    errno = 0;
    n = write(fd, p + 1000, 2 * 4096);
    printf("write from buffer across hole: %zd%s\n", n, n < 0 && errno == EFAULT ? " EFAULT" : "");
    struct stat st;
    fstat(fd, &st);
    printf("file size: %ld\n", (long)st.st_size);

    lseek(fd, 0, SEEK_SET);
    errno = 0;
    n = read(fd, p + 4000, 4096);
    printf("read file across hole: %zd%s\n", n, n < 0 && errno == EFAULT ? " EFAULT" : "");

    errno = 0;
    n = write(fd, p, (size_t)1 << 62);
    printf("write with count 1<<62: %zd%s\n", n, n < 0 && errno == EFAULT ? " EFAULT" : "");
    close(fd);
    unlink(path); rmdir(dir);
    return 0;
}
