// Checks the temporary-file patterns: mkstemp replaces the six X's (keeping the prefix) and opens a new empty regular file O_RDWR with mode 0600, two calls give different names, mkstemps keeps a suffix, mkdtemp makes a 0700 directory, a template without six trailing X's is EINVAL, and the write-temp/fsync/rename-into-place and open/unlink/keep-using patterns (random names are never printed).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static int count_entries(void) {
    DIR *d = opendir(".");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static int x_replaced(const char *name, const char *prefix, const char *suffix) {
    size_t p = strlen(prefix), s = strlen(suffix), n = strlen(name);
    if (n != p + 6 + s || strncmp(name, prefix, p) || strcmp(name + p + 6, suffix)) return 0;
    return strncmp(name + p, "XXXXXX", 6) != 0;  /* replaced (all six staying X is a 1 in 62^6 chance) */
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    umask(022);
    char t1[] = "tmp.XXXXXX", t2[] = "tmp.XXXXXX";
    int a = mkstemp(t1);
    int b = mkstemp(t2);
    printf("mkstemp: %d %d, names well formed: %d %d, different: %d\n", a >= 0, b >= 0, x_replaced(t1, "tmp.", ""),
           x_replaced(t2, "tmp.", ""), strcmp(t1, t2) != 0);
    struct stat st;
    fstat(a, &st);
    printf("regular %d mode %o size %ld O_RDWR %d\n", S_ISREG(st.st_mode), st.st_mode & 07777, (long)st.st_size,
           (fcntl(a, F_GETFL) & O_ACCMODE) == O_RDWR);
    write(a, "scratch", 7);
    struct stat by_name;
    stat(t1, &by_name);
    printf("the name shows the descriptor's write: size %ld\n", (long)by_name.st_size);
    char buf[16] = {0};
    pread(a, buf, 7, 0);
    printf("reads back %s\n", buf);
    printf("entries: %d\n", count_entries());

    char t3[] = "data-XXXXXX.db";
    int c = mkstemps(t3, 3);
    printf("mkstemps: %d, well formed: %d\n", c >= 0, x_replaced(t3, "data-", ".db"));
    char t4[] = "dir.XXXXXX";
    char *d = mkdtemp(t4);
    stat(t4, &st);
    printf("mkdtemp: %d, well formed: %d, dir %d mode %o\n", d == t4, x_replaced(t4, "dir.", ""), S_ISDIR(st.st_mode),
           st.st_mode & 07777);
    char bad[] = "tmp.XXXXX";
    errno = 0;
    int r = mkstemp(bad);
    printf("five X's: %d %s, template unchanged: %d\n", r, en(errno), strcmp(bad, "tmp.XXXXX") == 0);
    char bad2[] = "tmp.XXXXXXy";
    errno = 0;
    r = mkstemp(bad2);
    printf("X's not at the end: %d %s\n", r, en(errno));
    printf("entries: %d\n", count_entries());

    /* write a temporary file inside the new directory, then rename it into place */
    char tmpl[64];
    snprintf(tmpl, sizeof tmpl, "%s/.settings.XXXXXX", t4);
    int t = mkstemp(tmpl);
    write(t, "key=value\n", 10);
    TRY("fsync temp", fsync(t));
    TRY("fchmod 644", fchmod(t, 0644));
    close(t);
    char final[64];
    snprintf(final, sizeof final, "%s/settings", t4);
    TRY("rename into place", rename(tmpl, final));
    int f = open(final, O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(f, buf, sizeof buf - 1);
    fstat(f, &st);
    close(f);
    printf("final: %s", buf);
    printf("final mode %o, temp gone: %d\n", st.st_mode & 07777, access(tmpl, F_OK) != 0);

    /* open, unlink at once, keep using the descriptor */
    TRY("unlink b's name", unlink(t2));
    TRY("write unlinked", write(b, "anonymous", 9));
    memset(buf, 0, sizeof buf);
    TRY("pread unlinked", pread(b, buf, 9, 0));
    fstat(b, &st);
    printf("unlinked: %s nlink %ld size %ld\n", buf, (long)st.st_nlink, (long)st.st_size);
    close(b);

    close(a);
    close(c);
    unlink(t1);
    unlink(t3);
    unlink(final);
    rmdir(t4);
    printf("entries at the end: %d\n", count_entries());
    return 0;
}
