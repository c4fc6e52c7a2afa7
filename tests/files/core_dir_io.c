// Checks file I/O aimed at directories: opening one O_WRONLY, O_RDWR, with O_CREAT or with O_TRUNC is EISDIR, a read-only directory descriptor gives EISDIR for read/pread/readv and EBADF for write/pwrite, ftruncate is EINVAL and mmap ENODEV, while fstat/fsync/fchdir work; file descriptors used as directories give ENOTDIR (fchdir, getdents64, opendir, openat).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "errname.h"

static const char *ok_fd(int fd) { return fd >= 0 ? "opened" : en(errno); }

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("d", 0755);
    close(open("d/inside", O_CREAT | O_WRONLY, 0644));
    close(open("f", O_CREAT | O_WRONLY, 0644));
    int fd;
    errno = 0;
    printf("O_WRONLY: %s\n", ok_fd(fd = open("d", O_WRONLY)));
    printf("O_RDWR: %s\n", ok_fd(fd = open("d", O_RDWR)));
    printf("O_RDONLY|O_CREAT: %s\n", ok_fd(fd = open("d", O_RDONLY | O_CREAT, 0644)));
    printf("O_WRONLY|O_CREAT: %s\n", ok_fd(fd = open("d", O_WRONLY | O_CREAT, 0644)));
    printf("O_RDONLY|O_TRUNC: %s\n", ok_fd(fd = open("d", O_RDONLY | O_TRUNC)));
    printf("O_WRONLY with a trailing slash: %s\n", ok_fd(fd = open("d/", O_WRONLY)));
    printf("O_CREAT|O_EXCL on it: %s\n", ok_fd(fd = open("d", O_CREAT | O_EXCL | O_RDONLY, 0644)));

    int d = open("d", O_RDONLY);
    printf("O_RDONLY: %s\n", ok_fd(d));
    char buf[64];
    TRY("read", read(d, buf, sizeof buf));
    TRY("pread", pread(d, buf, sizeof buf, 0));
    struct iovec iov = {buf, sizeof buf};
    TRY("readv", readv(d, &iov, 1));
    TRY("write", write(d, "x", 1));
    TRY("pwrite", pwrite(d, "x", 1, 0));
    TRY("ftruncate", ftruncate(d, 0));
    errno = 0;
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d, 0);
    printf("mmap: %s\n", m == MAP_FAILED ? en(errno) : "mapped");
    struct stat st;
    TRY("fstat", fstat(d, &st));
    printf("is a directory: %d mode %o\n", S_ISDIR(st.st_mode), st.st_mode & 07777);
    TRY("fsync", fsync(d));
    TRY("fchdir", fchdir(d));
    TRY("access inside after fchdir", access("inside", F_OK));
    TRY("chdir back", chdir(".."));
    close(d);

    int f = open("f", O_RDONLY);
    TRY("fchdir to a file", fchdir(f));
    char dents[1024];
    TRY("getdents64 on a file", syscall(SYS_getdents64, f, dents, sizeof dents));
    TRY("openat relative to a file", openat(f, "x", O_RDONLY));
    close(f);
    errno = 0;
    DIR *dp = opendir("f");
    printf("opendir a file: %s\n", dp ? "opened" : en(errno));
    TRY("readlink a dir", readlink("d", buf, sizeof buf));
    unlink("d/inside");
    rmdir("d");
    unlink("f");
    return 0;
}
