// Creates 500 files in nested directories, counts them through readdir, renames half, deletes them all, and checks the tree is empty again.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int count(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    char p[64], q[64];
    for (int d = 0; d < 5; d++) {
        snprintf(p, sizeof p, "d%d", d);
        mkdir(p, 0755);
        for (int i = 0; i < 100; i++) {
            snprintf(p, sizeof p, "d%d/f%03d", d, i);
            int fd = open(p, O_CREAT | O_WRONLY, 0644);
            write(fd, p, 8);
            close(fd);
        }
    }
    int total = 0;
    for (int d = 0; d < 5; d++) {
        snprintf(p, sizeof p, "d%d", d);
        total += count(p);
    }
    printf("created %d\n", total);
    int renamed = 0;
    for (int d = 0; d < 5; d++)
        for (int i = 0; i < 100; i += 2) {
            snprintf(p, sizeof p, "d%d/f%03d", d, i);
            snprintf(q, sizeof q, "d%d/r%03d", (d + 1) % 5, i);
            renamed += rename(p, q) == 0;
        }
    printf("renamed %d, d0 has %d\n", renamed, count("d0"));
    int removed = 0;
    for (int d = 0; d < 5; d++)
        for (int i = 0; i < 100; i++) {
            snprintf(p, sizeof p, "d%d/f%03d", d, i);
            removed += unlink(p) == 0;
            snprintf(p, sizeof p, "d%d/r%03d", d, i);
            removed += unlink(p) == 0;
        }
    for (int d = 0; d < 5; d++) {
        snprintf(p, sizeof p, "d%d", d);
        removed += rmdir(p) == 0;
    }
    printf("removed %d, left %d\n", removed, count("."));
    return 0;
}
