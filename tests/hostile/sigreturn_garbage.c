// expect: native
// Calls rt_sigreturn with no signal pending and the stack pointing at an all-zero fake frame; the restored garbage context must kill only this process (SIGSEGV, 139).
#include <stdio.h>
#include <sys/syscall.h>

static unsigned char fake[8192] __attribute__((aligned(64)));

int main(void) {
    puts("rt_sigreturn on a zeroed frame");
    fflush(stdout);
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "mov %1, %%eax\n\t"
                     "syscall\n\t"
                     "ud2"
                     : : "r"(fake + 4096), "i"(SYS_rt_sigreturn) : "memory");
    return 0;
}
