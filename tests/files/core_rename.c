// Checks rename: over an existing file (the old name's content wins), a directory over an empty directory, onto a non-empty directory (ENOTEMPTY), a directory into its own subdirectory (EINVAL), a file over a directory (EISDIR), RENAME_NOREPLACE (EEXIST), RENAME_EXCHANGE swapping two files, and renaming to itself.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errname.h"

static void put(const char *p, const char *s) {
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, s, strlen(s));
    close(fd);
}

static const char *get(const char *p) {
    static char b[32];
    memset(b, 0, sizeof b);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return "(none)";
    read(fd, b, sizeof b - 1);
    close(fd);
    return b;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    put("a", "A");
    put("b", "B");
    TRY("file over file", rename("a", "b"));
    printf("b=%s ", get("b"));
    printf("a=%s\n", get("a"));
    mkdir("d1", 0755);
    mkdir("d2", 0755);
    put("d1/x", "X");
    TRY("dir over empty dir", rename("d1", "d2"));
    printf("d2/x=%s\n", get("d2/x"));
    mkdir("d3", 0755);
    put("d3/y", "Y");
    TRY("dir over non-empty dir", rename("d2", "d3"));
    mkdir("d2/sub", 0755);
    TRY("dir into itself", rename("d2", "d2/sub/inner"));
    TRY("file over dir", rename("b", "d3"));
    TRY("dir over file", rename("d3", "b"));
    put("c", "C");
    TRY("noreplace", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "c", 1));
    TRY("exchange", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "c", 2));
    printf("b=%s ", get("b"));
    printf("c=%s\n", get("c"));
    TRY("to itself", rename("b", "b"));
    TRY("missing source", rename("nope", "x"));
    unlink("b");
    unlink("c");
    unlink("d2/x");
    rmdir("d2/sub");
    rmdir("d2");
    unlink("d3/y");
    rmdir("d3");
    return 0;
}
