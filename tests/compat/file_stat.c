// build: gcc
// Checks stat/fstat/lstat deterministic fields (size, type bits, permission bits, link count) and symlink/readlink under /tmp.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m) {
    return S_ISREG(m) ? "regular" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink"
         : S_ISCHR(m) ? "chardev" : S_ISFIFO(m) ? "fifo" : "other";
}

int main(void) {
    char dir[] = "/tmp/wisp-compat-file_stat-XXXXXX", f[80], l[80], h[80], buf[128];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    umask(022);
    snprintf(f, sizeof f, "%s/file", dir);
    snprintf(l, sizeof l, "%s/link", dir);
    snprintf(h, sizeof h, "%s/hard", dir);
    struct stat st;

    int fd = open(f, O_CREAT | O_WRONLY, 0666);
    write(fd, "0123456789abcdef0123", 20);
    fstat(fd, &st);
    printf("fstat: %s size=%ld perm=%o nlink=%ld\n", kind(st.st_mode), (long)st.st_size, st.st_mode & 07777, (long)st.st_nlink);
    close(fd);

    chmod(f, 0640);
    stat(f, &st);
    printf("after chmod: perm=%o\n", st.st_mode & 07777);
    link(f, h);
    stat(f, &st);
    printf("after link: nlink=%ld\n", (long)st.st_nlink);

    printf("symlink: %d\n", symlink("file", l));
    lstat(l, &st);
    printf("lstat link: %s size=%ld\n", kind(st.st_mode), (long)st.st_size);
    stat(l, &st);
    printf("stat link: %s size=%ld\n", kind(st.st_mode), (long)st.st_size);
    ssize_t n = readlink(l, buf, sizeof buf);
    printf("readlink: %zd '%.*s'\n", n, (int)n, buf);
    n = readlink(l, buf, 2);
    printf("readlink truncated: %zd '%.*s'\n", n, (int)n, buf);

    stat(dir, &st);
    printf("tmp dir: %s perm=%o\n", kind(st.st_mode), st.st_mode & 07777);
    stat("/dev/null", &st);
    printf("/dev/null: %s\n", kind(st.st_mode));
    stat("/", &st);
    printf("/: %s\n", kind(st.st_mode));
    lstat("/tmp", &st);
    printf("/tmp: %s\n", kind(st.st_mode));

    unlink(l); unlink(h); unlink(f);
    printf("stat after unlink: %d\n", stat(f, &st));
    rmdir(dir);
    return 0;
}
