// expect: native
// Feeds bad ranges (raw syscalls, no libc rounding) to mprotect/munmap/mremap/madvise/msync (unmapped, unaligned, zero length, kernel half) and prints errno names.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name(int rc) {
    if (rc == 0) return "OK";
    switch (errno) {
    case ENOMEM: return "ENOMEM"; case EINVAL: return "EINVAL"; case EFAULT: return "EFAULT";
    case EPERM: return "EPERM"; case EACCES: return "EACCES"; default: return "OTHER";
    }
}
#define TRY(label, call) do { errno = 0; int rc_ = (call); printf("%-36s %s\n", label, name(rc_)); } while (0)

int main(void) {
    char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 2 * 4096, 4096); /* hole at page 2 */
    char *hole = p + 2 * 4096;
    char *far = (char *)(uintptr_t)0x0000500000000000ULL;
    char *kern = (char *)(uintptr_t)0xffff800000000000ULL;

    TRY("mprotect unmapped range", (int)syscall(SYS_mprotect, far, 4096, PROT_READ));
    TRY("mprotect range spanning a hole", (int)syscall(SYS_mprotect, p, 4 * 4096, PROT_READ));
    TRY("mprotect unaligned", (int)syscall(SYS_mprotect, p + 1, 4096, PROT_READ));
    TRY("mprotect kernel half", (int)syscall(SYS_mprotect, kern, 4096, PROT_READ));
    TRY("mprotect bad prot bits", (int)syscall(SYS_mprotect, p, 4096, 0x100));
    TRY("mprotect length 0", (int)syscall(SYS_mprotect, p, 0, PROT_READ));
    TRY("munmap unaligned", (int)syscall(SYS_munmap, p + 1, 4096));
    TRY("munmap length 0", (int)syscall(SYS_munmap, p, 0));
    TRY("munmap unmapped range", (int)syscall(SYS_munmap, far, 4096));
    TRY("munmap kernel half", (int)syscall(SYS_munmap, kern, 4096));
    TRY("munmap wrapping", (int)syscall(SYS_munmap, (void *)(uintptr_t)-4096, 8192));
    TRY("madvise unmapped", (int)syscall(SYS_madvise, far, 4096, MADV_DONTNEED));
    TRY("madvise unaligned", (int)syscall(SYS_madvise, p + 1, 4096, MADV_DONTNEED));
    TRY("madvise bad advice", (int)syscall(SYS_madvise, p, 4096, 12345));
    TRY("msync unmapped", (int)syscall(SYS_msync, hole, 4096, MS_SYNC));
    TRY("msync bad flags", (int)syscall(SYS_msync, p, 4096, MS_SYNC | MS_ASYNC));
    errno = 0;
    void *r = (void *)syscall(SYS_mremap, far, 4096, 8192, MREMAP_MAYMOVE);
    printf("%-36s %s\n", "mremap unmapped source", r == MAP_FAILED ? name(-1) : "OK");
    errno = 0;
    r = (void *)syscall(SYS_mremap, p, 4096, 8192, MREMAP_FIXED);
    printf("%-36s %s\n", "mremap FIXED without MAYMOVE", r == MAP_FAILED ? name(-1) : "OK");
    errno = 0;
    r = (void *)syscall(SYS_mremap, p, 4096, 0, MREMAP_MAYMOVE);
    printf("%-36s %s\n", "mremap to length 0", r == MAP_FAILED ? name(-1) : "OK");

    /* Linux may have applied the spanning mprotect to pages before the hole; restore them. */
    mprotect(p, 2 * 4096, PROT_READ | PROT_WRITE);
    mprotect(p + 3 * 4096, 4096, PROT_READ | PROT_WRITE);
    p[0] = 'a'; p[4096] = 'b'; p[3 * 4096] = 'd';
    printf("surviving pages still usable: %c%c%c\n", p[0], p[4096], p[3 * 4096]);
    return 0;
}
