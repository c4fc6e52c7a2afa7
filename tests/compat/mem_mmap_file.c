// Checks file mmap: MAP_PRIVATE reads file data and private writes stay invisible to the file; MAP_SHARED writes reach it; past-EOF page gives SIGBUS.
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_bus(int sig) { (void)sig; siglongjmp(env, 1); }

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char dir[] = "/tmp/wisp-compat-mem_mmap_file-XXXXXX", path[80], buf[64];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    for (int i = 0; i < 3; i++) { memset(buf, 'a' + i, sizeof buf); for (long j = 0; j < pg; j += 64) write(fd, buf, 64); }
    write(fd, "tail", 4);

    char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("private map reads: %c %c %c %.4s\n", p[0], p[pg], p[2 * pg + 7], p + 3 * pg);
    printf("bytes after EOF in last page zero: %s\n", p[3 * pg + 4] == 0 && p[4 * pg - 1] == 0 ? "yes" : "no");
    memcpy(p, "PRIVATE", 7);
    pread(fd, buf, 7, 0);
    printf("file after private write: %.7s (map has %.7s)\n", buf, p);

    char *o = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
    printf("offset map page 1: %c\n", o[0]);

    char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * pg);
    memcpy(s, "SHARED", 6);
    msync(s, pg, MS_SYNC);
    pread(fd, buf, 6, 2 * pg);
    printf("file after shared write: %.6s\n", buf);
    pwrite(fd, "WRITE", 5, 2 * pg + 10);
    printf("shared map sees pwrite: %.5s\n", s + 10);

    signal(SIGBUS, on_bus);
    char *b = mmap(NULL, 8 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
    if (sigsetjmp(env, 1) == 0) { (void)*(volatile char *)(b + 6 * pg); puts("no fault past EOF"); }
    else puts("sigbus caught past EOF");

    munmap(p, 4 * pg); munmap(o, pg); munmap(s, pg); munmap(b, 8 * pg);
    close(fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
