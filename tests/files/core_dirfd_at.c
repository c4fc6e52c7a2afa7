// Checks the *at calls relative to a directory descriptor: openat, mkdirat, fstatat (with AT_SYMLINK_NOFOLLOW), faccessat, readlinkat, renameat, unlinkat (AT_REMOVEDIR), a dirfd that is a file (ENOTDIR), and an absolute path ignoring the dirfd.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("base", 0755);
    int d = open("base", O_RDONLY | O_DIRECTORY);
    TRY("mkdirat", mkdirat(d, "sub", 0750));
    int fd = openat(d, "sub/f", O_CREAT | O_WRONLY, 0640);
    printf("openat: %d\n", fd >= 0);
    write(fd, "xyz", 3);
    close(fd);
    struct stat st;
    TRY("fstatat", fstatat(d, "sub/f", &st, 0));
    printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 0777);
    TRY("symlinkat", symlinkat("sub/f", d, "ln"));
    TRY("fstatat nofollow", fstatat(d, "ln", &st, AT_SYMLINK_NOFOLLOW));
    printf("is link %d\n", S_ISLNK(st.st_mode));
    char b[32];
    long n = readlinkat(d, "ln", b, sizeof b);
    printf("readlinkat %.*s\n", (int)n, b);
    TRY("faccessat R_OK", faccessat(d, "sub/f", R_OK, 0));
    TRY("faccessat missing", faccessat(d, "nope", F_OK, 0));
    TRY("renameat", renameat(d, "sub/f", d, "g"));
    TRY("fstatat old", fstatat(d, "sub/f", &st, 0));
    TRY("unlinkat dir without flag", unlinkat(d, "sub", 0));
    TRY("unlinkat AT_REMOVEDIR", unlinkat(d, "sub", AT_REMOVEDIR));
    int file = openat(d, "g", O_RDONLY);
    TRY("file as dirfd", openat(file, "x", O_RDONLY));
    TRY("absolute path ignores dirfd", faccessat(file, "/", F_OK, 0));
    TRY("bad dirfd", openat(9999, "x", O_RDONLY));
    close(file);
    unlinkat(d, "ln", 0);
    unlinkat(d, "g", 0);
    close(d);
    rmdir("base");
    return 0;
}
