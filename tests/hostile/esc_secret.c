// expect: escape
// Looks for the host-only file /tmp/wisp-hostile-secret from inside the guest (whose /tmp is empty) via open, stat, access, /proc/self/root, dirfds, dot-dot paths and hard links.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "/tmp/wisp-hostile-secret"

static void try_open(const char *name, int fd) {
    char buf[256];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    printf("%s: %s\n", name, n >= 0 ? "LEAK" : "blocked");
}

int main(void) {
    struct stat st;
    int tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
    try_open("secret-open", open(SECRET, O_RDONLY));
    try_open("secret-dotdot", open("/tmp/../tmp/./wisp-hostile-secret", O_RDONLY));
    try_open("secret-relative-up", open("../../../../tmp/wisp-hostile-secret", O_RDONLY));
    try_open("secret-proc-self-root", open("/proc/self/root" SECRET, O_RDONLY));
    try_open("secret-proc-1-root", open("/proc/1/root" SECRET, O_RDONLY));
    try_open("secret-openat-tmpfd", openat(tmp, "wisp-hostile-secret", O_RDONLY));
    try_open("secret-openat-tmpfd-dotdot", openat(tmp, "../../tmp/wisp-hostile-secret", O_RDONLY));
    int opath = open(SECRET, O_PATH);
    printf("secret-o-path: %s\n", opath >= 0 ? "LEAK" : "blocked");
    if (opath >= 0) close(opath);
    printf("secret-stat: %s\n", stat(SECRET, &st) == 0 ? "LEAK" : "blocked");
    printf("secret-lstat: %s\n", lstat(SECRET, &st) == 0 ? "LEAK" : "blocked");
    printf("secret-access: %s\n", access(SECRET, F_OK) == 0 ? "LEAK" : "blocked");

    char dir[] = "/tmp/wisp-hostile-esc_secret-XXXXXX", path[96];
    if (mkdtemp(dir)) {
        snprintf(path, sizeof path, "%s/hardlink", dir);
        int linked = link(SECRET, path) == 0;
        printf("secret-hardlink: %s\n", linked ? "LEAK" : "blocked");
        if (linked) unlink(path);
        snprintf(path, sizeof path, "%s/symlink", dir);
        symlink("../wisp-hostile-secret", path);
        try_open("secret-symlink-in-tmp", open(path, O_RDONLY));
        unlink(path);
        rmdir(dir);
    }
    return 0;
}
