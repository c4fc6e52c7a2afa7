// Checks open/read/write/lseek/pread/pwrite, O_APPEND, O_EXCL on an existing file (EEXIST), ftruncate shrink/grow, and sparse writes.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/wisp-compat-file_rw-XXXXXX", path[80], buf[64];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/f.txt", dir);
    struct stat st;

    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    printf("write: %zd\n", write(fd, "hello world", 11));
    printf("lseek cur: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("lseek set: %ld\n", (long)lseek(fd, 0, SEEK_SET));
    memset(buf, 0, sizeof buf);
    printf("read: %zd '%s'\n", read(fd, buf, sizeof buf - 1), buf);
    printf("read at eof: %zd\n", read(fd, buf, 10));
    printf("pwrite: %zd\n", pwrite(fd, "WISP!", 5, 6));
    printf("offset unchanged by pwrite: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    memset(buf, 0, sizeof buf);
    printf("pread: %zd '%s'\n", pread(fd, buf, 8, 3), buf);
    printf("lseek end-2: %ld\n", (long)lseek(fd, -2, SEEK_END));
    off_t neg = lseek(fd, -100, SEEK_SET);
    printf("lseek negative: %ld EINVAL=%d\n", (long)neg, errno == EINVAL);
    close(fd);

    fd = open(path, O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    write(fd, "+tail", 5);
    printf("append offset: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    close(fd);

    errno = 0;
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    printf("O_EXCL existing: fd=%d EEXIST=%d\n", fd, errno == EEXIST);

    fd = open(path, O_RDWR);
    printf("ftruncate 5: %d\n", ftruncate(fd, 5));
    fstat(fd, &st);
    printf("size after shrink: %ld\n", (long)st.st_size);
    ftruncate(fd, 10000);
    fstat(fd, &st);
    printf("size after grow: %ld\n", (long)st.st_size);
    memset(buf, 'x', sizeof buf);
    pread(fd, buf, 8, 3);
    printf("bytes around old end: %c%c %d %d\n", buf[0], buf[1], buf[2], buf[7]);
    lseek(fd, 20000, SEEK_SET);
    write(fd, "end", 3);
    fstat(fd, &st);
    pread(fd, buf, 4, 15000);
    printf("sparse size %ld hole zero %d\n", (long)st.st_size, buf[0] == 0 && buf[3] == 0);
    close(fd);

    memset(buf, 0, sizeof buf);
    fd = open(path, O_RDONLY);
    lseek(fd, 0, SEEK_SET);
    read(fd, buf, 5);
    printf("first bytes: '%.5s'\n", buf);
    close(fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
