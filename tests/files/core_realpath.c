// Checks path resolution: realpath through relative and absolute-within-tree symlinks and "..", printed relative to the work directory; a ".." after a symlink to a directory follows the link's target as Linux does; and ELOOP/ENOENT for broken chains.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[PATH_MAX];

static void show(const char *p) {
    char out[PATH_MAX];
    if (!realpath(p, out)) {
        printf("%s -> error\n", p);
        return;
    }
    size_t n = strlen(base);
    printf("%s -> %s\n", p, strncmp(out, base, n) == 0 ? (out[n] ? out + n : "/") : "(outside)");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    if (!realpath(".", base)) return 3;
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    mkdir("c", 0755);
    symlink("../../c", "a/b/up");
    symlink("a/b", "lb");
    show("a/b/up");
    show("lb/up");
    show("lb/..");
    show("a/./b/../b/up/");
    show("missing/x");
    symlink("self", "self");
    show("self");
    unlink("self");
    unlink("lb");
    unlink("a/b/up");
    rmdir("a/b");
    rmdir("a");
    rmdir("c");
    return 0;
}
