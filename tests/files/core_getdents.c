// Checks getdents64 directly: a 60-entry directory read through a 256-byte buffer in several calls lists every name exactly once (sorted before printing) with "." and "..", d_type for files, directories and symlinks, d_reclen as Linux computes it (8-byte aligned header+name+NUL), 0 at the end, EINVAL for a buffer too small for one entry, EBADF for a closed descriptor, and a relisting after lseek to 0 reflecting deletions and additions.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errname.h"

struct d64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static char *names[200];
static int n_names, calls, bad_reclen, zero_at_end;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(int fd) {
    for (int i = 0; i < n_names; i++) free(names[i]);
    n_names = calls = bad_reclen = zero_at_end = 0;
    char buf[256] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) {
            printf("getdents64 failed: %s\n", en(errno));
            return;
        }
        if (n == 0) break;
        calls++;
        for (long pos = 0; pos < n;) {
            struct d64 *e = (struct d64 *)(buf + pos);
            size_t want = (offsetof(struct d64, name) + strlen(e->name) + 1 + 7) & ~(size_t)7;
            if (e->reclen != want) bad_reclen++;
            char *s = malloc(strlen(e->name) + 4);
            char t = e->type == DT_DIR ? 'd' : e->type == DT_REG ? 'f' : e->type == DT_LNK ? 'l' : '?';
            sprintf(s, "%s:%c", e->name, t);
            if (n_names < 200) names[n_names++] = s;
            pos += e->reclen;
        }
    }
    zero_at_end = syscall(SYS_getdents64, fd, buf, sizeof buf) == 0;
    qsort(names, n_names, sizeof *names, cmp);
}

static void print(const char *label) {
    printf("%s: %d entries, several calls %d, bad reclen %d, 0 again at the end %d\n", label, n_names, calls > 1,
           bad_reclen, zero_at_end);
    for (int i = 0; i < n_names; i++) printf("%s%s", names[i], (i + 1) % 10 == 0 || i + 1 == n_names ? "\n" : " ");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    mkdir("d", 0755);
    char p[64];
    for (int i = 0; i < 56; i++) {
        snprintf(p, sizeof p, "d/f%02d%.*s", i, i % 23, "_abcdefghijklmnopqrstuvwxyz");
        close(open(p, O_CREAT | O_WRONLY, 0644));
    }
    mkdir("d/sub1", 0755);
    mkdir("d/sub2", 0755);
    symlink("f00", "d/l1");
    symlink("nowhere", "d/l2");
    int fd = open("d", O_RDONLY | O_DIRECTORY);
    list(fd);
    print("first");
    char tiny[16] __attribute__((aligned(8)));
    lseek(fd, 0, SEEK_SET);
    TRY("buffer too small", syscall(SYS_getdents64, fd, tiny, sizeof tiny));
    for (int i = 0; i < 56; i += 4) {
        snprintf(p, sizeof p, "d/f%02d%.*s", i, i % 23, "_abcdefghijklmnopqrstuvwxyz");
        unlink(p);
    }
    rmdir("d/sub2");
    close(open("d/new-after", O_CREAT | O_WRONLY, 0644));
    TRY("lseek 0", lseek(fd, 0, SEEK_SET));
    list(fd);
    print("after deleting 15 and adding 1");
    close(fd);
    TRY("closed descriptor", syscall(SYS_getdents64, fd, tiny, sizeof tiny));
    for (int i = 0; i < 56; i++) {
        snprintf(p, sizeof p, "d/f%02d%.*s", i, i % 23, "_abcdefghijklmnopqrstuvwxyz");
        unlink(p);
    }
    unlink("d/l1");
    unlink("d/l2");
    unlink("d/new-after");
    rmdir("d/sub1");
    TRY("rmdir emptied", rmdir("d"));
    return 0;
}
