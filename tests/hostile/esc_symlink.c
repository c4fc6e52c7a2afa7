// expect: escape
// Creates symlinks in /tmp that point outside the root ("/../../etc/hostname", "../../../../../etc/hostname", a chain, a link to "/" and to a deep "..") and reads through them.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-hostile-esc_symlink-XXXXXX";

static void try_open(const char *name, const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    int fd = open(path, O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

static void link_in(const char *target, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    symlink(target, path);
}

int main(void) {
    if (!mkdtemp(dir)) { puts("setup: mkdtemp failed"); return 0; }
    link_in("/../../etc/hostname", "abs");
    link_in("../../../../../etc/hostname", "rel");
    link_in("/proc/self/root/etc/hostname", "procroot");
    link_in("../../../../../etc", "etcdir");
    link_in("rel", "chain1");
    link_in("chain1", "chain2");
    link_in("/", "slash");
    link_in("../../../../../../../../../..", "up");
    link_in("up/..", "upup");
    try_open("symlink-absolute-dotdot", "abs");
    try_open("symlink-relative-dotdot", "rel");
    try_open("symlink-proc-self-root", "procroot");
    try_open("symlink-dir-then-file", "etcdir/hostname");
    try_open("symlink-chain", "chain2");
    try_open("symlink-slash-dotdot", "slash/../etc/hostname");
    try_open("symlink-deep-up", "up/etc/hostname");
    try_open("symlink-up-dotdot", "upup/../etc/hostname");
    const char *names[] = { "abs", "rel", "procroot", "etcdir", "chain1", "chain2", "slash", "up", "upup" };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
