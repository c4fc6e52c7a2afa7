// expect: escape
// Tries to read the host's /etc/hostname with plain absolute and dot-dot paths (/etc/hostname, ../../../../etc/hostname, /dev/../etc/hostname, long ../ chains).
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opening a file that does not exist inside the guest root is already a leak, even if it reads 0 bytes. */
static void try_open(const char *name, const char *path) {
    int fd = open(path, O_RDONLY);
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

static void try_stat(const char *name, const char *path) {
    struct stat st;
    printf("%s: %s\n", name, stat(path, &st) == 0 ? "LEAK" : "blocked");
}

int main(void) {
    static char chain[4096];
    try_open("absolute-etc-hostname", "/etc/hostname");
    try_open("relative-dotdot-4", "../../../../etc/hostname");
    try_open("dev-dotdot", "/dev/../etc/hostname");
    try_open("tmp-dotdot-3", "/tmp/../../../etc/hostname");
    try_open("double-slashes", "//etc//hostname");
    try_open("dot-segments", "/./etc/./hostname");
    try_open("prog-dotdot", "/prog/../etc/hostname");
    strcpy(chain, "/");
    for (int i = 0; i < 200; i++) strcat(chain, "../");
    strcat(chain, "etc/hostname");
    try_open("dotdot-chain-200", chain);
    chain[0] = '.';
    chain[1] = '/';
    try_open("relative-dotdot-chain-200", chain);
    try_stat("stat-etc-hostname", "/etc/hostname");
    try_stat("stat-dotdot-etc", "/../../etc");
    printf("access-etc-hostname: %s\n", access("/../etc/hostname", F_OK) == 0 ? "LEAK" : "blocked");
    return 0;
}
