// Checks more rename cases: a file moved between directories stays usable through an open descriptor, a symlink is renamed itself (its target untouched), a full directory moves with its contents, renameat between two dirfds, "." and ".." as either side (EBUSY), a file with a trailing slash (ENOTDIR), onto an ancestor (ENOTEMPTY), into a missing directory (ENOENT), onto another hard link of itself (a no-op keeping both names), and renameat2: RENAME_NOREPLACE to a free name, RENAME_EXCHANGE of a file and a directory, with a missing side (ENOENT), and both flags together (EINVAL).
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
    static char b[4][32];
    static int next;
    char *s = b[next++ % 4];
    memset(s, 0, 32);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return en(errno);
    if (read(fd, s, 31) < 0) strcpy(s, en(errno));
    close(fd);
    return s;
}

static const char *kind(const char *p) {
    struct stat st;
    if (lstat(p, &st) != 0) return en(errno);
    return S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "other";
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("a", 0755);
    mkdir("b", 0755);
    put("a/f", "first");
    int fd = open("a/f", O_RDWR);
    TRY("move a/f to b/g", rename("a/f", "b/g"));
    printf("a/f %s, b/g %s\n", kind("a/f"), get("b/g"));
    TRY("write through the old descriptor", pwrite(fd, "FIRST", 5, 0));
    printf("b/g now %s\n", get("b/g"));
    close(fd);

    symlink("b/g", "ln");
    TRY("rename a symlink", rename("ln", "ln2"));
    char t[32] = {0};
    readlink("ln2", t, sizeof t - 1);
    printf("ln2 is a %s -> %s, reads %s; b/g is a %s\n", kind("ln2"), t, get("ln2"), kind("b/g"));

    mkdir("a/tree", 0755);
    mkdir("a/tree/sub", 0755);
    put("a/tree/sub/leaf", "leaf");
    TRY("move a full directory", rename("a/tree", "b/tree"));
    printf("b/tree/sub/leaf %s, a/tree %s\n", get("b/tree/sub/leaf"), kind("a/tree"));
    int da = open("a", O_RDONLY | O_DIRECTORY), db = open("b", O_RDONLY | O_DIRECTORY);
    TRY("renameat b/g -> a/h", renameat(db, "g", da, "h"));
    printf("a/h %s\n", get("a/h"));
    close(da);
    close(db);

    TRY("rename a/. away", rename("a/.", "c"));
    TRY("rename a/.. away", rename("a/..", "c"));
    TRY("rename onto a/.", rename("b/tree", "a/."));
    TRY("file with a trailing slash", rename("a/h/", "a/h2"));
    TRY("onto a trailing-slash name", rename("a/h", "a/h2/"));
    TRY("dir with trailing slashes", rename("b/tree/", "b/tree2/"));
    TRY("onto its own ancestor", rename("b/tree2/sub", "b/tree2"));
    TRY("into a missing directory", rename("a/h", "nowhere/h"));

    link("a/h", "a/h-link");
    TRY("onto a hard link of itself", rename("a/h", "a/h-link"));
    printf("both names stay: %s %s\n", kind("a/h"), kind("a/h-link"));

    TRY("RENAME_NOREPLACE to a free name", syscall(SYS_renameat2, AT_FDCWD, "a/h-link", AT_FDCWD, "a/free", 1));
    printf("a/free %s, a/h-link %s\n", get("a/free"), kind("a/h-link"));
    TRY("RENAME_EXCHANGE file and dir", syscall(SYS_renameat2, AT_FDCWD, "a/free", AT_FDCWD, "b/tree2", 2));
    printf("a/free is a %s with %s, b/tree2 is a %s with %s\n", kind("a/free"), get("a/free/sub/leaf"), kind("b/tree2"),
           get("b/tree2"));
    TRY("RENAME_EXCHANGE with a missing side", syscall(SYS_renameat2, AT_FDCWD, "a/h", AT_FDCWD, "a/none", 2));
    TRY("both flags", syscall(SYS_renameat2, AT_FDCWD, "a/h", AT_FDCWD, "b/tree2", 3));

    unlink("b/tree2");
    unlink("a/h");
    unlink("ln2");
    unlink("a/free/sub/leaf");
    rmdir("a/free/sub");
    rmdir("a/free");
    rmdir("a");
    rmdir("b");
    return 0;
}
