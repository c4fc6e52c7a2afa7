// Checks name limits and odd names: a 255-byte name works and 256 bytes is ENAMETOOLONG, names with spaces, newlines, UTF-8 and leading dashes work, trailing slashes on a file are ENOTDIR, and "." or ".." as a target of mkdir are EEXIST.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    TRY("255 bytes", close(open(name, O_CREAT | O_WRONLY, 0644)));
    TRY("unlink it", unlink(name));
    memset(name, 'n', 256);
    name[256] = 0;
    TRY("256 bytes", open(name, O_CREAT | O_WRONLY, 0644));
    const char *odd[] = {"with space", "new\nline", "\xc3\xa9t\xc3\xa9", "-dash", "a.b.c", ".hidden"};
    for (int i = 0; i < 6; i++) {
        int fd = open(odd[i], O_CREAT | O_WRONLY, 0644);
        struct stat st;
        printf("odd name %d: open %d stat %d\n", i, fd >= 0, stat(odd[i], &st));
        close(fd);
        unlink(odd[i]);
    }
    close(open("file", O_CREAT | O_WRONLY, 0644));
    struct stat st;
    TRY("file with trailing slash", stat("file/", &st));
    TRY("open file/ for create", open("file/", O_CREAT | O_WRONLY, 0644));
    TRY("mkdir .", mkdir(".", 0755));
    TRY("mkdir ..", mkdir("..", 0755));
    mkdir("dir", 0755);
    TRY("dir with trailing slash", stat("dir/", &st));
    TRY("mkdir existing", mkdir("dir", 0755));
    TRY("empty path", stat("", &st));
    unlink("file");
    rmdir("dir");
    return 0;
}
