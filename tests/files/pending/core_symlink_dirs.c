// Checks symlinks to directories and how calls treat the last component: stat vs lstat, listing and creating through the link, O_NOFOLLOW only applying to the last component, O_PATH|O_NOFOLLOW opening the link itself (fstat and readlinkat with ""), rmdir and unlink with and without a trailing slash, O_CREAT on the link (EISDIR) and with O_EXCL (EEXIST), rename of a file over the link replacing only the link, a directory over the link (ENOTDIR), chdir through the link and getcwd showing the target, an absolute link into the work directory, and an empty target (ENOENT).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static const char *kind(const char *p, int follow) {
    struct stat st;
    if ((follow ? stat(p, &st) : lstat(p, &st)) != 0) return en(errno);
    return S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "other";
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *p) {
    DIR *d = opendir(p);
    if (!d) {
        printf("list %s: %s\n", p, en(errno));
        return;
    }
    char *names[32];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 32)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("list %s:", p);
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    char base[PATH_MAX];
    if (!getcwd(base, sizeof base)) return 3;
    mkdir("real", 0755);
    close(open("real/file", O_CREAT | O_WRONLY, 0644));
    symlink("real", "ln");
    printf("stat ln: %s, lstat ln: %s, lstat ln/: %s\n", kind("ln", 1), kind("ln", 0), kind("ln/", 0));
    list("ln");
    TRY("create through the link", close(open("ln/made", O_CREAT | O_WRONLY, 0644)));
    list("real");
    TRY("O_NOFOLLOW on ln/file", close(open("ln/file", O_RDONLY | O_NOFOLLOW)));
    TRY("O_NOFOLLOW|O_DIRECTORY on ln", open("ln", O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
    TRY("O_DIRECTORY on ln", close(open("ln", O_RDONLY | O_DIRECTORY)));
    int p = open("ln", O_PATH | O_NOFOLLOW);
    struct stat st;
    fstat(p, &st);
    printf("O_PATH|O_NOFOLLOW: fstat says symlink %d\n", S_ISLNK(st.st_mode));
    char t[64] = {0};
    TRY("readlinkat(fd, \"\")", readlinkat(p, "", t, sizeof t - 1));
    printf("target %s\n", t);
    close(p);

    TRY("rmdir ln", rmdir("ln"));
    TRY("rmdir ln/", rmdir("ln/"));
    TRY("unlink ln/", unlink("ln/"));
    TRY("O_CREAT on ln", open("ln", O_CREAT | O_WRONLY, 0644));
    TRY("O_CREAT|O_EXCL on ln", open("ln", O_CREAT | O_EXCL | O_WRONLY, 0644));
    mkdir("otherdir", 0755);
    TRY("rename a dir over ln", rename("otherdir", "ln"));
    printf("ln still: %s\n", kind("ln", 0));

    TRY("chdir ln", chdir("ln"));
    char cwd[PATH_MAX];
    getcwd(cwd, sizeof cwd);
    printf("getcwd: %s\n", strncmp(cwd, base, strlen(base)) == 0 ? cwd + strlen(base) : "(outside)");
    TRY("chdir ..", chdir(".."));
    getcwd(cwd, sizeof cwd);
    printf("back at the start: %d\n", strcmp(cwd, base) == 0);

    char abs[PATH_MAX + 16];
    snprintf(abs, sizeof abs, "%s/real/file", base);
    TRY("absolute symlink", symlink(abs, "absln"));
    long n = readlink("absln", cwd, sizeof cwd);
    printf("readlink gives the absolute target: %d, kind %s\n", n == (long)strlen(abs) && memcmp(cwd, abs, n) == 0,
           kind("absln", 1));
    TRY("empty target", symlink("", "emptyln"));

    close(open("plain", O_CREAT | O_WRONLY, 0644));
    TRY("rename a file over ln", rename("plain", "ln"));
    printf("ln now: %s, real still: %s\n", kind("ln", 0), kind("real", 0));
    list("real");
    TRY("unlink ln", unlink("ln"));
    symlink("real", "ln2");
    TRY("unlink a dir symlink", unlink("ln2"));
    printf("real after unlinking its links: %s\n", kind("real", 0));

    unlink("absln");
    unlink("real/file");
    unlink("real/made");
    rmdir("real");
    rmdir("otherdir");
    return 0;
}
