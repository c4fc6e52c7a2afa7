// build: gcc-static
// Checks NULL and wild user pointers passed to read/write/stat/fstat/open/uname/getcwd/clock syscalls fail with EFAULT instead of crashing.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *ename(int e) {
    return e == 0 ? "OK" : e == EFAULT ? "EFAULT" : e == EINVAL ? "EINVAL" : e == ENOENT ? "ENOENT" : "other";
}
#define TRY(label, expr) do { errno = 0; long r_ = (long)(expr); printf("%-24s rc=%ld %s\n", label, r_, ename(r_ < 0 ? errno : 0)); } while (0)

int main(void) {
    void *volatile null = NULL;
    void *volatile wild = (void *)(uintptr_t)0x1000;
    void *volatile kern = (void *)(uintptr_t)0xffffffff81000000ULL;
    char dir[] = "/tmp/wisp-compat-err_efault-XXXXXX", path[80];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/f", dir);
    int zfd = open("/dev/zero", O_RDONLY);
    int wfd = open(path, O_CREAT | O_RDWR, 0600);

    TRY("read into NULL", read(zfd, null, 16));
    TRY("read into wild", read(zfd, wild, 16));
    TRY("read into kernel addr", read(zfd, kern, 16));
    TRY("write from NULL", write(wfd, null, 16));
    TRY("write from wild", write(wfd, wild, 16));
    TRY("write length 0 NULL", write(wfd, null, 0));
    struct stat st;
    TRY("libc stat NULL path", stat(null, &st));
    TRY("stat NULL path", syscall(SYS_stat, null, malloc(256)));
    TRY("stat wild path", syscall(SYS_stat, wild, malloc(256)));
    TRY("stat NULL buf", syscall(SYS_stat, "/", null));
    TRY("fstat wild buf", syscall(SYS_fstat, zfd, wild));
    TRY("open NULL path", syscall(SYS_open, null, O_RDONLY));
    TRY("uname NULL", syscall(SYS_uname, null));
    TRY("getcwd wild", syscall(SYS_getcwd, wild, 100));
    TRY("clock_gettime NULL", syscall(SYS_clock_gettime, 0, null));
    TRY("gettimeofday wild", syscall(SYS_gettimeofday, wild, NULL));
    TRY("getrandom kernel addr", syscall(SYS_getrandom, kern, 8, 0));

    fstat(wfd, &st);
    printf("file still empty: %d\n", st.st_size == 0);
    close(zfd); close(wfd);
    unlink(path);
    rmdir(dir);
    return 0;
}
