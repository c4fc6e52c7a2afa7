// expect: native
// Requests absurd mappings (1<<46 and 1<<47 bytes, length -1, length 0, MAP_FIXED in the kernel half or past the user limit) and prints the errno names.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *name(int e) {
    switch (e) {
    case ENOMEM: return "ENOMEM"; case EINVAL: return "EINVAL"; case EPERM: return "EPERM";
    case EEXIST: return "EEXIST"; case EBADF: return "EBADF"; case EOVERFLOW: return "EOVERFLOW"; default: return "OTHER";
    }
}

static void try_map(const char *label, uintptr_t addr, size_t len, int extra) {
    errno = 0;
    void *p = (void *)syscall(SYS_mmap, addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
    if (p == MAP_FAILED) printf("%-34s -> %s\n", label, name(errno));
    else { printf("%-34s -> mapped\n", label); munmap(p, len); }
}

int main(void) {
    try_map("1<<46 bytes", 0, 1ULL << 46, 0);
    try_map("1<<47 bytes", 0, 1ULL << 47, 0);
    try_map("1<<47 bytes NORESERVE", 0, 1ULL << 47, MAP_NORESERVE);
    try_map("1<<62 bytes", 0, 1ULL << 62, 0);
    try_map("length -1", 0, (size_t)-1, 0);
    try_map("length -4096", 0, (size_t)-4096, 0);
    try_map("length 0", 0, 0, 0);
    try_map("FIXED at 0xffff800000000000", 0xffff800000000000ULL, 4096, MAP_FIXED);
    try_map("FIXED at 0xffffffff81000000", 0xffffffff81000000ULL, 4096, MAP_FIXED);
    try_map("FIXED straddling 1<<47", (1ULL << 47) - 4096, 8192, MAP_FIXED);
    try_map("FIXED at 1<<47", 1ULL << 47, 4096, MAP_FIXED);
    try_map("FIXED unaligned", 0x10000001, 4096, MAP_FIXED);
    try_map("FIXED wrapping -4096 + 8192", (uintptr_t)-4096, 8192, MAP_FIXED);
    try_map("hint in kernel half (not FIXED)", 0xffff800000000000ULL, 4096, 0);

    errno = 0;
    void *p = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, -1, 0);
    printf("%-34s -> %s\n", "file map with fd -1", p == MAP_FAILED ? name(errno) : "mapped");
    errno = 0;
    p = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0);
    printf("%-34s -> %s\n", "neither PRIVATE nor SHARED", p == MAP_FAILED ? name(errno) : "mapped");
    errno = 0;
    p = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 123);
    printf("%-34s -> %s\n", "anon with unaligned offset", p == MAP_FAILED ? name(errno) : "mapped");

    char *ok = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok[0] = 1; ok[(1 << 20) - 1] = 2;
    printf("a normal 1 MiB map still works: %d\n", ok[0] + ok[(1 << 20) - 1]);
    return 0;
}
