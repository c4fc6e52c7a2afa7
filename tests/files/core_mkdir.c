// Checks mkdir: EEXIST on an existing directory, file, symlink and dangling symlink, ENOENT for a missing parent or an empty path, ENOTDIR under a file, a "mkdir -p" walk creating six levels and then finding them all, a trailing slash and ".." inside the path, mkdirat, the modes left by umask 022/077/0 (the sticky bit kept), and rmdir back up the chain.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

/* "dir 755", "file 600", "link 777" or "missing"; four rotating buffers. */
static const char *mode(const char *p) {
    static char bufs[4][32];
    static int next;
    char *b = bufs[next++ % 4];
    struct stat st;
    if (lstat(p, &st) != 0) return "missing";
    snprintf(b, 32, "%s %o", S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "link" : "other",
             st.st_mode & 07777);
    return b;
}

/* mkdir -p: returns how many directories it made, or -errno. */
static int mkdir_p(const char *path) {
    char buf[256];
    int made = 0;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(buf, 0755) == 0)
                made++;
            else if (errno != EEXIST)
                return -errno;
            else {
                struct stat st;
                if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return -ENOTDIR;
            }
            if (c == 0) return made;
            *s = c;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    umask(022);
    TRY("mkdir d", mkdir("d", 0777));
    printf("d: %s\n", mode("d"));
    TRY("mkdir d again", mkdir("d", 0777));
    close(open("file", O_CREAT | O_WRONLY, 0644));
    TRY("mkdir over a file", mkdir("file", 0755));
    symlink("d", "link-to-dir");
    symlink("nowhere", "dangling");
    TRY("mkdir over a symlink", mkdir("link-to-dir", 0755));
    TRY("mkdir over a dangling symlink", mkdir("dangling", 0755));
    printf("dangling: %s, its target: %s\n", mode("dangling"), mode("nowhere"));
    TRY("missing parent", mkdir("no/such", 0755));
    TRY("under a file", mkdir("file/sub", 0755));
    TRY("empty path", mkdir("", 0755));
    TRY("trailing slash", mkdir("d/slash/", 0755));
    TRY("dotdot inside", mkdir("d/slash/../dotdot", 0755));
    TRY("through the symlink", mkdir("link-to-dir/via-link", 0755));
    printf("via-link is in d: %s\n", mode("d/via-link"));

    int r = mkdir_p("a/b/c/d/e/f");
    printf("mkdir -p a/b/c/d/e/f: made %d\n", r);
    r = mkdir_p("a/b/c/d/e/f");
    printf("mkdir -p again: made %d\n", r);
    r = mkdir_p("a/b/x/y");
    printf("mkdir -p a/b/x/y: made %d\n", r);
    r = mkdir_p("file/q");
    printf("mkdir -p file/q: %s\n", r < 0 ? en(-r) : "made something");
    close(open("a/b/c/d/e/f/leaf", O_CREAT | O_WRONLY, 0600));
    printf("leaf: %s\n", mode("a/b/c/d/e/f/leaf"));

    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    TRY("mkdirat", mkdirat(dfd, "at", 0700));
    TRY("mkdirat existing", mkdirat(dfd, "at", 0700));
    printf("d/at: %s\n", mode("d/at"));
    close(dfd);

    umask(077);
    mkdir("u077", 0777);
    umask(0);
    mkdir("u000", 0777);
    mkdir("sticky", 01777);
    mkdir("narrow", 0510);
    umask(022);
    printf("umask 077: %s, umask 0: %s, sticky: %s, 0510: %s\n", mode("u077"), mode("u000"), mode("sticky"),
           mode("narrow"));

    TRY("rmdir non-empty a", rmdir("a"));
    unlink("a/b/c/d/e/f/leaf");
    const char *chain[] = {"a/b/c/d/e/f", "a/b/c/d/e", "a/b/c/d", "a/b/c", "a/b/x/y", "a/b/x", "a/b", "a"};
    int removed = 0;
    for (int i = 0; i < 8; i++) removed += rmdir(chain[i]) == 0;
    printf("removed %d of 8\n", removed);
    const char *dirs[] = {"d/slash", "d/dotdot", "d/via-link", "d/at", "d", "u077", "u000", "sticky", "narrow"};
    for (int i = 0; i < 9; i++)
        if (rmdir(dirs[i]) != 0) printf("rmdir %s failed: %s\n", dirs[i], en(errno));
    unlink("file");
    unlink("link-to-dir");
    unlink("dangling");
    return 0;
}
