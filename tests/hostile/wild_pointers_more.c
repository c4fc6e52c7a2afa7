// expect: native
// More bad user memory: wild sigaction/sigprocmask/nanosleep/getdents64/sigaltstack pointers, iovecs that point at or contain wild buffers, and a path string running into an unmapped page.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *ename(long rc) {
    if (rc >= 0) return "OK";
    switch (errno) {
    case EFAULT: return "EFAULT"; case EINVAL: return "EINVAL"; case ENOENT: return "ENOENT";
    case ENAMETOOLONG: return "ENAMETOOLONG"; case EBADF: return "EBADF"; default: return "OTHER";
    }
}
#define TRY(label, call) do { errno = 0; long rc_ = (call); printf("%-34s %s\n", label, ename(rc_)); } while (0)

int main(void) {
    void *wild = (void *)(uintptr_t)0x0000500000000000ULL;
    void *kern = (void *)(uintptr_t)0xffff800000000000ULL;
    TRY("rt_sigaction wild act", syscall(SYS_rt_sigaction, 10, wild, NULL, 8));
    TRY("rt_sigaction wild oldact", syscall(SYS_rt_sigaction, 10, NULL, kern, 8));
    TRY("rt_sigprocmask wild set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, wild, NULL, 8));
    TRY("rt_sigprocmask wild oldset", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, kern, 8));
    TRY("nanosleep wild req", syscall(SYS_nanosleep, wild, NULL));
    TRY("sigaltstack wild ss", syscall(SYS_sigaltstack, wild, NULL));
    TRY("sigaltstack wild old", syscall(SYS_sigaltstack, NULL, kern));
    int dfd = open("/", O_RDONLY | O_DIRECTORY);
    TRY("getdents64 wild buffer", syscall(SYS_getdents64, dfd, wild, 4096));
    TRY("readlink wild buffer", syscall(SYS_readlink, "/proc/self/exe", kern, 64));
    TRY("getcwd kernel buffer", syscall(SYS_getcwd, kern, 4096));
    close(dfd);

    int z = open("/dev/zero", O_RDONLY);
    int n = open("/dev/null", O_WRONLY);
    char ok[16];
    struct iovec mixed[2] = { { ok, sizeof ok }, { wild, 16 } };
    TRY("readv iovec array wild", syscall(SYS_readv, z, wild, 2));
    TRY("writev iovec array kernel", syscall(SYS_writev, n, kern, 2));
    errno = 0;
    long r = syscall(SYS_readv, z, mixed, 2);
    printf("%-34s %s\n", "readv second iovec wild", r == 16 ? "short read 16" : ename(r));
    struct iovec only_wild[1] = { { wild, 16 } };
    TRY("readv only wild iovec", syscall(SYS_readv, z, only_wild, 1));
    TRY("readv iovcnt -1", syscall(SYS_readv, z, mixed, -1));
    TRY("readv iovcnt 100000", syscall(SYS_readv, z, mixed, 100000));
    close(z); close(n);

    char *page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    memset(page, 'a', 4096);
    page[0] = '/';
    TRY("open path running into hole", syscall(SYS_open, page + 4096 - 10, O_RDONLY));
    TRY("open 4095-byte unterminated path", syscall(SYS_open, page + 1, O_RDONLY));
    page[4095] = 0;
    TRY("open 4095-char path", syscall(SYS_open, page, O_RDONLY));
    puts("still alive");
    return 0;
}
