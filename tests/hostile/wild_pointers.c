// expect: native
// Passes wild pointers (0x1, -1, a kernel address, an unmapped mid-range address) to read/write/stat/uname/clock_gettime/getrandom; each must fail with EFAULT.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(long rc) {
    if (rc >= 0) return "OK";
    switch (errno) {
    case EFAULT: return "EFAULT"; case EINVAL: return "EINVAL"; case ENOENT: return "ENOENT";
    case ENAMETOOLONG: return "ENAMETOOLONG"; default: return "OTHER";
    }
}

int main(void) {
    char dir[] = "/tmp/wisp-hostile-wild_pointers-XXXXXX", path[96];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/out", dir);
    int zfd = open("/dev/zero", O_RDONLY);
    int wfd = open(path, O_CREAT | O_WRONLY, 0600);

    struct { const char *name; uintptr_t addr; } ptrs[] = {
        { "0x1", 1 }, { "-1", (uintptr_t)-1 }, { "kernel", 0xffff800000000000ULL },
        { "kernel-text", 0xffffffff81000000ULL }, { "mid-unmapped", 0x0000500000000000ULL },
        { "noncanonical", 0x0008000000000000ULL },
    };
    for (unsigned i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        void *p = (void *)ptrs[i].addr;
        long rc;
        printf("%-13s", ptrs[i].name);
        errno = 0; rc = syscall(SYS_read, zfd, p, 64);            printf(" read=%s", ename(rc));
        errno = 0; rc = syscall(SYS_write, wfd, p, 64);           printf(" write=%s", ename(rc));
        errno = 0; rc = syscall(SYS_stat, p, malloc(256));        printf(" stat-path=%s", ename(rc));
        errno = 0; rc = syscall(SYS_stat, "/", p);                printf(" stat-buf=%s", ename(rc));
        errno = 0; rc = syscall(SYS_uname, p);                    printf(" uname=%s", ename(rc));
        errno = 0; rc = syscall(SYS_clock_gettime, 1, p);         printf(" clock_gettime=%s", ename(rc));
        errno = 0; rc = syscall(SYS_getrandom, p, 16, 0);         printf(" getrandom=%s", ename(rc));
        printf("\n");
    }
    struct stat st;
    fstat(wfd, &st);
    printf("nothing was written: %d\n", st.st_size == 0);
    close(zfd); close(wfd);
    unlink(path); rmdir(dir);
    return 0;
}
