// Checks symlinks: readlink of relative, absolute and dangling links, readlink truncation to the buffer, lstat vs stat, a link loop (ELOOP), readlink of a non-link (EINVAL), symlink over an existing name (EEXIST), and a relative link resolved against its own directory.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("d", 0755);
    int fd = open("d/target", O_CREAT | O_WRONLY, 0644);
    write(fd, "T", 1);
    close(fd);
    symlink("target", "d/rel");
    symlink("/no/such/absolute/path", "abs");
    symlink("missing", "dangling");
    char b[64];
    long n = readlink("d/rel", b, sizeof b);
    printf("rel -> %.*s (%ld)\n", (int)n, b, n);
    n = readlink("abs", b, sizeof b);
    printf("abs -> %.*s (%ld)\n", (int)n, b, n);
    n = readlink("abs", b, 5);
    printf("truncated -> %.*s (%ld)\n", (int)n, b, n);
    struct stat st, lst;
    int r1 = stat("d/rel", &st), r2 = lstat("d/rel", &lst);
    printf("stat %d size %ld regular %d; lstat %d link %d size %ld\n", r1, (long)st.st_size, S_ISREG(st.st_mode), r2,
           S_ISLNK(lst.st_mode), (long)lst.st_size);
    TRY("stat dangling", stat("dangling", &st));
    TRY("lstat dangling", lstat("dangling", &st));
    symlink("loop2", "loop1");
    symlink("loop1", "loop2");
    TRY("open a loop", open("loop1", O_RDONLY));
    TRY("readlink a file", readlink("d/target", b, sizeof b));
    TRY("symlink over existing", symlink("x", "abs"));
    symlink("d/rel", "chain");
    fd = open("chain", O_RDONLY);
    memset(b, 0, sizeof b);
    read(fd, b, 4);
    printf("through two links: %s\n", b);
    close(fd);
    const char *names[] = {"chain", "loop1", "loop2", "dangling", "abs", "d/rel", "d/target"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) unlink(names[i]);
    rmdir("d");
    return 0;
}
