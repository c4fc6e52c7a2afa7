// Checks chmod/fchmod/fchmodat modes (read back as octal), the umask at create and mkdir, chown to the current owner and -1 (no change), lchown on a symlink leaving the target alone, and chmod through a symlink changing the target.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned mode(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? st.st_mode & 07777 : 99999;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    umask(022);
    int fd = open("f", O_CREAT | O_RDWR, 0666);
    mkdir("d", 0777);
    printf("created: file %o dir %o\n", mode("f"), mode("d"));
    umask(077);
    close(open("g", O_CREAT | O_RDWR, 0666));
    printf("umask 077: %o\n", mode("g"));
    umask(022);
    chmod("f", 0600);
    printf("chmod 600: %o\n", mode("f"));
    fchmod(fd, 0751);
    printf("fchmod 751: %o\n", mode("f"));
    fchmodat(AT_FDCWD, "d", 0700, 0);
    printf("fchmodat dir 700: %o\n", mode("d"));
    chmod("d", 01777);
    printf("sticky dir: %o\n", mode("d"));
    symlink("f", "link");
    chmod("link", 0640);
    printf("chmod via link: target %o\n", mode("f"));
    struct stat st;
    fstat(fd, &st);
    printf("chown to self: %d\n", chown("f", st.st_uid, st.st_gid));
    printf("chown -1 -1: %d\n", chown("f", -1, -1));
    printf("fchown self: %d\n", fchown(fd, st.st_uid, -1));
    printf("lchown link: %d\n", lchown("link", st.st_uid, st.st_gid));
    struct stat after;
    stat("f", &after);
    printf("owner kept: %d\n", after.st_uid == st.st_uid && after.st_gid == st.st_gid);
    printf("chmod missing: %d\n", chmod("nope", 0600));
    close(fd);
    unlink("link");
    unlink("f");
    unlink("g");
    rmdir("d");
    return 0;
}
