// Checks which calls move timestamps (starting each time from mtime set to an old exact value): write, pwrite, truncate to a new size, O_TRUNC of a non-empty file and a store through a shared mapping set a recent mtime; read, chmod, fstat and a failed write leave mtime alone while chmod makes ctime recent; creating, unlinking and renaming entries set the directory's mtime, writing to a file inside does not; utimensat/futimens with NULL set both times to now.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OLD 1000000000L
static time_t start;

static void set_old(const char *p) {
    struct timespec ts[2] = {{OLD, 0}, {OLD, 0}};
    utimensat(AT_FDCWD, p, ts, 0);
}

/* "old" if mtime is still exactly OLD, "recent" if it is within the run, else "other" */
static const char *age(long sec, long nsec) {
    if (sec == OLD && nsec == 0) return "old";
    if (sec >= start - 2 && sec <= time(NULL) + 2) return "recent";
    return "other";
}

static const char *mt(const char *p) {
    struct stat st;
    stat(p, &st);
    return age(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    start = time(NULL);
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    write(fd, "0123456789", 10);
    set_old("f");
    printf("after setting: %s\n", mt("f"));
    char b[8];
    pread(fd, b, 4, 0);
    printf("read: %s\n", mt("f"));
    write(fd, "x", 1);
    printf("write: %s\n", mt("f"));
    set_old("f");
    pwrite(fd, "y", 1, 2);
    printf("pwrite: %s\n", mt("f"));
    set_old("f");
    ftruncate(fd, 4);
    printf("ftruncate shorter: %s\n", mt("f"));
    set_old("f");
    truncate("f", 100);
    printf("truncate longer: %s\n", mt("f"));
    set_old("f");
    chmod("f", 0600);
    struct stat st;
    stat("f", &st);
    printf("chmod: mtime %s ctime %s\n", age(st.st_mtim.tv_sec, st.st_mtim.tv_nsec), age(st.st_ctim.tv_sec, st.st_ctim.tv_nsec));
    fstat(fd, &st);
    printf("fstat: %s\n", mt("f"));
    int ro = open("f", O_RDONLY);
    write(ro, "z", 1);
    close(ro);
    printf("failed write: %s\n", mt("f"));
    close(open("f", O_WRONLY | O_TRUNC));
    printf("O_TRUNC: %s\n", mt("f"));

    ftruncate(fd, 4096);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    set_old("f");
    m[10] = 'M';
    msync(m, 4096, MS_SYNC);
    printf("store through a shared map: %s\n", mt("f"));
    munmap(m, 4096);

    struct timespec ts[2] = {{OLD, 0}, {OLD, 0}};
    futimens(fd, ts);
    futimens(fd, NULL);
    fstat(fd, &st);
    printf("futimens NULL: atime %s mtime %s\n", age(st.st_atim.tv_sec, st.st_atim.tv_nsec), age(st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
    set_old("f");
    utimensat(AT_FDCWD, "f", NULL, 0);
    stat("f", &st);
    printf("utimensat NULL: atime %s mtime %s\n", age(st.st_atim.tv_sec, st.st_atim.tv_nsec), age(st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
    close(fd);

    mkdir("d", 0755);
    close(open("d/inner", O_CREAT | O_WRONLY, 0644));
    set_old("d");
    printf("dir to start: %s\n", mt("d"));
    int in = open("d/inner", O_WRONLY);
    write(in, "data", 4);
    close(in);
    printf("dir after writing a file inside: %s\n", mt("d"));
    close(open("d/new", O_CREAT | O_WRONLY, 0644));
    printf("dir after create: %s\n", mt("d"));
    set_old("d");
    rename("d/new", "d/renamed");
    printf("dir after rename inside: %s\n", mt("d"));
    set_old("d");
    unlink("d/renamed");
    printf("dir after unlink: %s\n", mt("d"));
    set_old("d");
    mkdir("d/sub", 0755);
    printf("dir after mkdir: %s\n", mt("d"));
    set_old("d");
    symlink("inner", "d/ln");
    printf("dir after symlink: %s\n", mt("d"));
    set_old("d");
    stat("d/inner", &st);
    access("d/missing", F_OK);
    printf("dir after lookups: %s\n", mt("d"));

    unlink("d/ln");
    rmdir("d/sub");
    unlink("d/inner");
    rmdir("d");
    unlink("f");
    return 0;
}
