// Checks access/faccessat: F_OK on present and missing names, R_OK/W_OK on files of several modes, X_OK on files with and without any execute bit and on a directory, and ENOTDIR for a path through a file (run as root, as CI does, W_OK and R_OK always pass).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    close(open("rw", O_CREAT | O_WRONLY, 0644));
    close(open("x", O_CREAT | O_WRONLY, 0755));
    close(open("none", O_CREAT | O_WRONLY, 0000));
    close(open("other-x", O_CREAT | O_WRONLY, 0601));
    mkdir("d", 0700);
    int root = geteuid() == 0;
    printf("root: %d\n", root);
    TRY("F_OK rw", access("rw", F_OK));
    TRY("F_OK missing", access("missing", F_OK));
    TRY("X_OK rw", access("rw", X_OK));
    TRY("X_OK x", access("x", X_OK));
    TRY("X_OK other-x", access("other-x", X_OK));
    TRY("X_OK dir", access("d", X_OK));
    if (root) {
        TRY("R_OK none (root)", access("none", R_OK));
        TRY("W_OK none (root)", access("none", W_OK));
    }
    TRY("R_OK rw", faccessat(AT_FDCWD, "rw", R_OK | W_OK, 0));
    TRY("through a file", access("rw/x", F_OK));
    unlink("rw");
    unlink("x");
    unlink("none");
    unlink("other-x");
    rmdir("d");
    return 0;
}
