// Checks metadata calls on descriptors: fchmod and fchown act on the open file even after it was renamed or unlinked, futimens likewise, and fchmod on an O_PATH descriptor (musl falls back to /proc/self/fd).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    rename("f", "g");
    TRY("fchmod after rename", fchmod(fd, 0600));
    struct stat st;
    stat("g", &st);
    printf("mode %o\n", st.st_mode & 07777);
    struct stat own;
    fstat(fd, &own);
    TRY("fchown after rename", fchown(fd, own.st_uid, own.st_gid));
    unlink("g");
    TRY("fchmod after unlink", fchmod(fd, 0640));
    fstat(fd, &st);
    printf("mode %o nlink %ld\n", st.st_mode & 07777, (long)st.st_nlink);
    struct timespec ts[2] = {{1000, 0}, {2000, 0}};
    TRY("futimens after unlink", futimens(fd, ts));
    fstat(fd, &st);
    printf("mtime %ld\n", (long)st.st_mtim.tv_sec);
    close(fd);
    mkdir("d", 0755);
    int p = open("d", O_PATH);
    TRY("fchmod O_PATH", fchmod(p, 0700));
    close(p);
    rmdir("d");
    return 0;
}
