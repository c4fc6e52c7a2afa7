// Checks open flags: O_CREAT|O_EXCL on an existing file (EEXIST), O_TRUNC empties, O_DIRECTORY on a file (ENOTDIR), O_NOFOLLOW on a symlink (ELOOP), writing an O_RDONLY descriptor (EBADF), reading an O_WRONLY one (EBADF), opening a directory for writing (EISDIR), and O_CREAT in a missing directory (ENOENT).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_WRONLY, 0644);
    write(fd, "hello", 5);
    close(fd);
    TRY("O_EXCL existing", open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
    fd = open("f", O_WRONLY | O_TRUNC);
    struct stat st;
    fstat(fd, &st);
    printf("after O_TRUNC size %ld\n", (long)st.st_size);
    TRY("write O_WRONLY", write(fd, "ab", 2));
    TRY("read O_WRONLY", read(fd, (char[4]){0}, 4));
    close(fd);
    mkdir("d", 0755);
    symlink("f", "link");
    TRY("O_DIRECTORY on a file", open("f", O_RDONLY | O_DIRECTORY));
    TRY("O_NOFOLLOW on a symlink", open("link", O_RDONLY | O_NOFOLLOW));
    fd = open("link", O_RDONLY);
    char b[8] = {0};
    TRY("read through the link", read(fd, b, sizeof b));
    printf("content %s\n", b);
    TRY("write O_RDONLY", write(fd, "x", 1));
    close(fd);
    TRY("dir for writing", open("d", O_WRONLY));
    TRY("dir O_RDONLY", open("d", O_RDONLY) >= 0 ? 0 : -1);
    TRY("create in a missing dir", open("missing/f", O_CREAT | O_WRONLY, 0644));
    TRY("O_EXCL new", open("new", O_CREAT | O_EXCL | O_WRONLY, 0600) >= 0 ? 0 : -1);
    stat("new", &st);
    printf("new mode %o\n", st.st_mode & 0777);
    unlink("new");
    unlink("link");
    unlink("f");
    rmdir("d");
    return 0;
}
