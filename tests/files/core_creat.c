// Checks creat() and O_CREAT modes: the umask applied to the mode (0666, 0755, 0), a write-only descriptor (read is EBADF, F_GETFL says O_WRONLY), creat on an existing file truncating it but keeping its old mode, EISDIR for a directory, ENOENT in a missing directory, creating through a dangling symlink makes its target, and O_EXCL refusing a dangling symlink.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static void show(const char *p) {
    struct stat st;
    if (lstat(p, &st) != 0) {
        printf("  %s: %s\n", p, en(errno));
        return;
    }
    printf("  %s: %s mode %o size %ld\n", p, S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "link" : "other",
           st.st_mode & 07777, (long)st.st_size);
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    umask(022);
    int fd = creat("c1", 0666);
    printf("creat c1: %d\n", fd >= 0);
    printf("access mode is O_WRONLY: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
    TRY("write", write(fd, "hello world", 11));
    char b[32] = {0};
    TRY("read from creat fd", read(fd, b, sizeof b));
    printf("offset %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    show("c1");
    fd = creat("c2", 0755);
    close(fd);
    fd = creat("c3", 0);
    close(fd);
    show("c2");
    show("c3");

    fd = creat("c1", 0600);
    printf("creat existing: %d\n", fd >= 0);
    show("c1");
    TRY("write again", write(fd, "new", 3));
    close(fd);
    fd = open("c1", O_RDONLY);
    memset(b, 0, sizeof b);
    TRY("read back", read(fd, b, sizeof b));
    printf("content [%s]\n", b);
    close(fd);
    fd = open("c1", O_CREAT | O_RDWR, 0600);
    printf("O_CREAT on existing keeps size and mode:\n");
    show("c1");
    close(fd);

    mkdir("d", 0755);
    TRY("creat a directory", creat("d", 0644));
    TRY("creat in a missing dir", creat("missing/x", 0644));
    TRY("creat under a file", creat("c1/x", 0644));

    symlink("made-by-link", "dangling");
    TRY("O_CREAT|O_EXCL via dangling link", open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
    show("made-by-link");
    fd = creat("dangling", 0640);
    printf("creat via dangling link: %d\n", fd >= 0);
    write(fd, "via", 3);
    close(fd);
    show("dangling");
    show("made-by-link");
    TRY("O_CREAT|O_EXCL|O_NOFOLLOW on the link", open("dangling", O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0644));

    unlink("c1");
    unlink("c2");
    unlink("c3");
    unlink("dangling");
    unlink("made-by-link");
    rmdir("d");
    return 0;
}
