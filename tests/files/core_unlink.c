// Checks unlink and rmdir errors: unlinking a directory (EISDIR), rmdir of a file (ENOTDIR), rmdir of a non-empty directory (ENOTEMPTY), missing names (ENOENT), rmdir of "." (EINVAL), a path through a file (ENOTDIR), and that an unlinked but open file stays readable.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("d", 0755);
    int fd = open("d/f", O_CREAT | O_RDWR, 0644);
    write(fd, "still here", 10);
    TRY("unlink a dir", unlink("d"));
    TRY("rmdir a file", rmdir("d/f"));
    TRY("rmdir non-empty", rmdir("d"));
    TRY("unlink missing", unlink("d/nope"));
    TRY("rmdir missing", rmdir("nope"));
    TRY("rmdir dot", rmdir("d/."));
    TRY("through a file", unlink("d/f/x"));
    TRY("unlink open file", unlink("d/f"));
    char b[16] = {0};
    pread(fd, b, 10, 0);
    printf("open file reads: %s\n", b);
    struct stat st;
    fstat(fd, &st);
    printf("nlink %ld\n", (long)st.st_nlink);
    close(fd);
    TRY("rmdir now empty", rmdir("d"));
    TRY("stat removed", stat("d", &st));
    return 0;
}
