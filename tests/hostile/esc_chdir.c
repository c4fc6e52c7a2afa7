// expect: escape
// Walks up with chdir("..") 20 times (from /, from /tmp, via fchdir on a saved fd) and then opens "etc/hostname" relative to the resulting cwd.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void try_open(const char *name, const char *path) {
    int fd = open(path, O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

static void climb(int times) { for (int i = 0; i < times; i++) chdir(".."); }

int main(void) {
    chdir("/");
    climb(20);
    try_open("chdir-dotdot-20-from-root", "etc/hostname");
    chdir("/tmp");
    climb(20);
    try_open("chdir-dotdot-20-from-tmp", "etc/hostname");
    chdir("/tmp");
    chdir("../../../../../../..");
    try_open("chdir-one-long-dotdot", "etc/hostname");
    int t = open("/tmp", O_RDONLY | O_DIRECTORY);
    fchdir(t);
    climb(20);
    try_open("fchdir-tmp-then-dotdot-20", "./etc/hostname");
    chdir("/proc/self/root");
    climb(20);
    try_open("chdir-proc-self-root-dotdot", "etc/hostname");
    chdir("/proc/self/cwd/..");
    try_open("chdir-proc-self-cwd-dotdot", "etc/hostname");
    chdir("/");
    climb(5);
    try_open("chdir-dotdot-then-dotdot-path", "../../etc/hostname");
    close(t);
    return 0;
}
