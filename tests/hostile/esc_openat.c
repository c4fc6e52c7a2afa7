// expect: escape
// Tries dirfd-relative escapes: openat(fd of "/", "../etc/hostname"), deeper chains from /tmp, faccessat/fstatat probes, and openat2 with and without RESOLVE_IN_ROOT.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct open_how_ { uint64_t flags, mode, resolve; };
#define RESOLVE_IN_ROOT_ 0x10

static void report(const char *name, int fd) {
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

int main(void) {
    int root = open("/", O_RDONLY | O_DIRECTORY);
    int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
    int opath = open("/", O_PATH | O_DIRECTORY);
    report("openat-root-dotdot", openat(root, "../etc/hostname", O_RDONLY));
    report("openat-root-dotdot-4", openat(root, "../../../../etc/hostname", O_RDONLY));
    report("openat-tmp-dotdot-3", openat(tmp, "../../../etc/hostname", O_RDONLY));
    report("openat-root-absolute", openat(root, "/etc/hostname", O_RDONLY));
    report("openat-opath-root-dotdot", openat(opath, "../etc/hostname", O_RDONLY));
    report("openat-cwd-dotdot", openat(AT_FDCWD, "../../etc/hostname", O_RDONLY));
    int up = openat(root, "..", O_RDONLY | O_DIRECTORY);
    report("openat-dotdot-dir-then-file", up < 0 ? -1 : openat(up, "etc/hostname", O_RDONLY));
    if (up >= 0) close(up);

    struct stat st;
    printf("fstatat-root-dotdot: %s\n", fstatat(root, "../etc/hostname", &st, 0) == 0 ? "LEAK" : "blocked");
    printf("faccessat-tmp-dotdot: %s\n", faccessat(tmp, "../../etc/hostname", F_OK, 0) == 0 ? "LEAK" : "blocked");
    printf("fstatat-root-dotdot-etc-dir: %s\n", fstatat(root, "../etc", &st, 0) == 0 ? "LEAK" : "blocked");

    struct open_how_ how = { O_RDONLY, 0, 0 };
    report("openat2-root-dotdot", (int)syscall(437, root, "../etc/hostname", &how, sizeof how));
    how.resolve = RESOLVE_IN_ROOT_;
    report("openat2-in-root-absolute", (int)syscall(437, tmp, "/../../etc/hostname", &how, sizeof how));
    report("openat2-in-root-tmp-dotdot", (int)syscall(437, tmp, "../../../etc/hostname", &how, sizeof how));
    return 0;
}
