// Checks stat fields that are the same on any filesystem: file type bits, permission bits, sizes of files and symlinks, nlink of files, owner equal to the caller, statx's mask of basic fields and its type and size, and that fstat on a descriptor agrees with stat on its path.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sx_ts { long long sec; unsigned nsec; int pad; };
struct sx {
    unsigned mask, blksize;
    unsigned long long attributes;
    unsigned nlink, uid, gid;
    unsigned short mode, pad1;
    unsigned long long ino, size, blocks, attributes_mask;
    struct sx_ts atime, btime, ctime, mtime;
    unsigned rdev_major, rdev_minor, dev_major, dev_minor;
    unsigned long long spare[14];
};

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0640);
    write(fd, "0123456789abc", 13);
    mkdir("d", 0711);
    symlink("f", "l");
    struct stat a, b;
    stat("f", &a);
    fstat(fd, &b);
    printf("file: reg %d mode %o size %ld nlink %ld mine %d\n", S_ISREG(a.st_mode), a.st_mode & 07777, (long)a.st_size,
           (long)a.st_nlink, a.st_uid == getuid() && a.st_gid == getgid());
    printf("fstat agrees: %d\n", a.st_size == b.st_size && a.st_mode == b.st_mode && a.st_ino == b.st_ino);
    stat("d", &a);
    printf("dir: %d mode %o\n", S_ISDIR(a.st_mode), a.st_mode & 07777);
    lstat("l", &a);
    printf("link: %d size %ld\n", S_ISLNK(a.st_mode), (long)a.st_size);
    struct sx x;
    memset(&x, 0, sizeof x);
    long r = syscall(SYS_statx, AT_FDCWD, "f", 0, 0x7ffu, &x);
    printf("statx: %ld basic mask %d reg %d size %llu mode %o\n", r, (x.mask & 0x7ff) == 0x7ff, S_ISREG(x.mode), x.size,
           x.mode & 07777);
    memset(&x, 0, sizeof x);
    r = syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ffu, &x);
    printf("statx fd: %ld size %llu\n", r, x.size);
    memset(&x, 0, sizeof x);
    r = syscall(SYS_statx, AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, 0x7ffu, &x);
    printf("statx link: %ld lnk %d\n", r, S_ISLNK(x.mode));
    close(fd);
    unlink("l");
    unlink("f");
    rmdir("d");
    return 0;
}
