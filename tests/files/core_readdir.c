// Checks directory listings: getdents through readdir with "." and "..", entry types (file, dir, symlink), names sorted before printing, entries deleted and added between two listings, rewinddir, and readdir of an emptied directory.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(DIR *d, const char *label) {
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char *s = malloc(300);
        char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : e->d_type == DT_REG ? 'f' : '?';
        snprintf(s, 300, "%s:%c", e->d_name, t);
        names[n++] = s;
    }
    qsort(names, n, sizeof *names, cmp);
    printf("%s (%d):", label, n);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("d", 0755);
    close(open("d/b-file", O_CREAT | O_WRONLY, 0644));
    close(open("d/a-file", O_CREAT | O_WRONLY, 0644));
    mkdir("d/sub", 0755);
    symlink("a-file", "d/link");
    DIR *d = opendir("d");
    list(d, "first");
    unlink("d/b-file");
    close(open("d/c-new", O_CREAT | O_WRONLY, 0644));
    rewinddir(d);
    list(d, "after changes");
    closedir(d);
    const char *names[] = {"d/a-file", "d/c-new", "d/link"};
    for (int i = 0; i < 3; i++) unlink(names[i]);
    rmdir("d/sub");
    d = opendir("d");
    list(d, "emptied");
    closedir(d);
    rmdir("d");
    return 0;
}
