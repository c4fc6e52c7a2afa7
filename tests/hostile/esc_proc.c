// expect: escape
// Tries to reach the host's /etc/hostname through /proc magic links: /proc/self/root, /proc/1/root, /proc/<pid>/root, /proc/self/cwd/.., /proc/self/fd/N/.., /proc/self/exe's directory.
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void try_open(const char *name, const char *path) {
    int fd = open(path, O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

int main(void) {
    char path[4200], exe[4096];
    try_open("proc-self-root", "/proc/self/root/etc/hostname");
    try_open("proc-1-root", "/proc/1/root/etc/hostname");
    try_open("proc-thread-self-root", "/proc/thread-self/root/etc/hostname");
    snprintf(path, sizeof path, "/proc/%d/root/etc/hostname", (int)getpid());
    try_open("proc-pid-root", path);
    try_open("proc-self-root-dotdot", "/proc/self/root/../../../etc/hostname");
    try_open("proc-self-cwd-dotdot", "/proc/self/cwd/../../etc/hostname");
    try_open("proc-self-fd0-dotdot", "/proc/self/fd/0/../../etc/hostname");
    try_open("proc-self-fd1-dotdot", "/proc/self/fd/1/../../etc/hostname");
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof path, "/proc/self/fd/%d/../etc/hostname", rootfd);
    try_open("proc-self-fd-rootdir-dotdot", path);
    int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    snprintf(path, sizeof path, "/proc/self/fd/%d/../../../etc/hostname", tmpfd);
    try_open("proc-self-fd-tmpdir-dotdot", path);
    try_open("proc-self-exe-dotdot", "/proc/self/exe/../../etc/hostname");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    snprintf(path, sizeof path, "%s/../../../../etc/hostname", n > 0 ? dirname(exe) : "/nonexistent");
    try_open("exe-link-dir-dotdot", path);
    n = readlink("/proc/self/root", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    snprintf(path, sizeof path, "%s/../etc/hostname", n > 0 ? exe : "/nonexistent");
    try_open("root-link-target-dotdot", path);
    try_open("proc-self-root-proc-1-root", "/proc/self/root/proc/1/root/etc/hostname");
    return 0;
}
