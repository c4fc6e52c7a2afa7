// expect: native
// Issues raw `syscall` instructions with negative, x32-only and out-of-range numbers (-1, -2, 512, 547, 600, 1000, 0x7fffffff, high-bit-set forms of getpid) and checks the results and that registers survive.
#include <stdint.h>
#include <stdio.h>

static long raw(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

int main(void) {
    long nums[] = { -1, -2, -38, 512, 547, 600, 1000, 4096, 0x7fffffffL, (long)0x8000000000000027ULL, 0x100000027L };
    long mypid = raw(39, 0, 0, 0);
    /* Linux >= 5.x treats the number as a 32-bit int, so the high-bit forms of 39 act as getpid. */
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        long r = raw(nums[i], 1, 2, 3);
        printf("syscall %#lx -> %s\n", (unsigned long)nums[i], r == -38 ? "ENOSYS" : r == mypid ? "acts as getpid" : r < 0 && r > -4096 ? "other error" : "other result");
    }
    printf("getpid still works: %d\n", raw(39, 0, 0, 0) == mypid && mypid > 0);
    long rbx_after = 0x1234;
    __asm__ volatile("mov $-1, %%rax\n\tmov $0x5a5a, %%rbx\n\tsyscall\n\tmov %%rbx, %0" : "=r"(rbx_after) : : "rax", "rbx", "rcx", "r11", "memory");
    printf("callee-saved rbx preserved across bad syscall: %d\n", rbx_after == 0x5a5a);
    return 0;
}
