// Checks hard links: nlink counts on files as names are added and removed, data shared between names, unlinking one name keeps the data, link to a directory (EPERM), link over an existing name (EEXIST), linkat with and without AT_SYMLINK_FOLLOW on a symlink.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static long nlink(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? (long)st.st_nlink : -1;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("a", O_CREAT | O_RDWR, 0644);
    write(fd, "one", 3);
    printf("nlink %ld\n", nlink("a"));
    TRY("link b", link("a", "b"));
    TRY("link c", link("a", "c"));
    printf("nlink %ld %ld %ld\n", nlink("a"), nlink("b"), nlink("c"));
    int fb = open("b", O_WRONLY | O_APPEND);
    write(fb, "+two", 4);
    close(fb);
    char buf[16] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("a reads %s\n", buf);
    unlink("a");
    printf("after unlink a: b %ld\n", nlink("b"));
    int fc = open("c", O_RDONLY);
    char c2[16] = {0};
    read(fc, c2, sizeof c2 - 1);
    printf("c reads %s\n", c2);
    close(fc);
    mkdir("d", 0755);
    TRY("link a dir", link("d", "d2"));
    TRY("link over existing", link("b", "c"));
    TRY("link missing", link("nope", "x"));
    symlink("b", "sl");
    TRY("linkat nofollow", linkat(AT_FDCWD, "sl", AT_FDCWD, "sl-hard", 0));
    struct stat st;
    lstat("sl-hard", &st);
    printf("sl-hard is a link: %d\n", S_ISLNK(st.st_mode));
    TRY("linkat follow", linkat(AT_FDCWD, "sl", AT_FDCWD, "b-hard", AT_SYMLINK_FOLLOW));
    lstat("b-hard", &st);
    printf("b-hard is a file: %d nlink %ld\n", S_ISREG(st.st_mode), (long)st.st_nlink);
    close(fd);
    const char *names[] = {"b", "c", "sl", "sl-hard", "b-hard"};
    for (unsigned i = 0; i < 5; i++) unlink(names[i]);
    rmdir("d");
    return 0;
}
