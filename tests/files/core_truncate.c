// Checks ftruncate and truncate: shrinking drops the tail, growing reads zeros, the offset is unchanged, truncate by path works, truncating a directory is EISDIR, a negative length is EINVAL, and truncating a read-only descriptor is EINVAL.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static long size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    write(fd, "abcdefghij", 10);
    TRY("ftruncate 4", ftruncate(fd, 4));
    printf("size %ld offset %ld\n", size("f"), (long)lseek(fd, 0, SEEK_CUR));
    TRY("ftruncate 8", ftruncate(fd, 8));
    char b[8];
    pread(fd, b, 8, 0);
    printf("bytes: %.4s %d %d %d %d\n", b, b[4], b[5], b[6], b[7]);
    TRY("truncate path 2", truncate("f", 2));
    printf("size %ld\n", size("f"));
    TRY("truncate 0", ftruncate(fd, 0));
    printf("size %ld\n", size("f"));
    TRY("negative", ftruncate(fd, -1));
    mkdir("d", 0755);
    TRY("truncate a dir", truncate("d", 0));
    int ro = open("f", O_RDONLY);
    TRY("read-only fd", ftruncate(ro, 10));
    TRY("missing", truncate("nope", 0));
    close(ro);
    close(fd);
    unlink("f");
    rmdir("d");
    return 0;
}
