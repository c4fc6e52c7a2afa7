// Checks mkdir/rmdir, directory listing via opendir/readdir (sorted), rename, unlink, and ENOTEMPTY/EISDIR/ENOTDIR errors.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-file_dir-XXXXXX";

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *label) {
    char *names[64]; int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", label);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

static void touch(const char *name, const char *text) {
    char p[128]; snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, text, strlen(text)); close(fd);
}

int main(void) {
    char a[128], b[128];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    list("empty");
    for (int i = 0; i < 20; i++) { char n[16]; snprintf(n, sizeof n, "file%02d", 19 - i); touch(n, "x"); }
    list("twenty");
    for (int i = 2; i < 20; i++) { snprintf(a, sizeof a, "%s/file%02d", dir, i); unlink(a); }
    touch("charlie", "c"); touch("alpha", "a");
    snprintf(a, sizeof a, "%s/sub", dir);
    printf("mkdir: %d\n", mkdir(a, 0755));
    printf("mkdir again EEXIST: %d\n", mkdir(a, 0755) == -1 && errno == EEXIST);
    touch("sub/inner", "i");
    list("mixed");

    printf("rmdir non-empty ENOTEMPTY: %d\n", rmdir(a) == -1 && errno == ENOTEMPTY);
    printf("unlink dir EISDIR: %d\n", unlink(a) == -1 && errno == EISDIR);
    snprintf(b, sizeof b, "%s/alpha/x", dir);
    printf("path through file ENOTDIR: %d\n", open(b, O_RDONLY) == -1 && errno == ENOTDIR);

    snprintf(a, sizeof a, "%s/alpha", dir); snprintf(b, sizeof b, "%s/zulu", dir);
    printf("rename: %d\n", rename(a, b));
    snprintf(a, sizeof a, "%s/charlie", dir);
    printf("rename over existing: %d\n", rename(a, b));
    char buf[8] = {0};
    int fd = open(b, O_RDONLY); read(fd, buf, 7); close(fd);
    printf("zulu now holds: %s\n", buf);
    snprintf(a, sizeof a, "%s/sub", dir); snprintf(b, sizeof b, "%s/moved", dir);
    printf("rename dir: %d\n", rename(a, b));
    list("renamed");

    snprintf(a, sizeof a, "%s/moved/inner", dir); unlink(a);
    snprintf(a, sizeof a, "%s/moved", dir); printf("rmdir: %d\n", rmdir(a));
    snprintf(a, sizeof a, "%s/zulu", dir); unlink(a);
    snprintf(a, sizeof a, "%s/file00", dir); unlink(a);
    snprintf(a, sizeof a, "%s/file01", dir); unlink(a);
    list("final");
    printf("rmdir tmpdir: %d\n", rmdir(dir));
    return 0;
}
