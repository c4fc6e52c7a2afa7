// expect: native
// Forges a signal frame by hand (rip -> landing(), IOPL=3 requested in eflags) and calls rt_sigreturn; the jump works, but IOPL must stay 0 so `cli` faults (SIGSEGV, 139).
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static unsigned char landing_stack[65536] __attribute__((aligned(16)));
static unsigned char frame_area[8192] __attribute__((aligned(64)));

static void landing(void) {
    unsigned long fl;
    __asm__ volatile("pushf\n\tpop %0" : "=r"(fl));
    printf("landed via forged sigreturn, IOPL=%lu\n", (fl >> 12) & 3);
    fflush(stdout);
    __asm__ volatile("cli");
    puts("cli executed in user mode (wrong)");
    fflush(stdout);
    _exit(0);
}

int main(void) {
    /* The kernel reads the frame as: 8-byte return address, then ucontext_t, then siginfo. */
    unsigned char *sp = frame_area + 64;
    ucontext_t *uc = (ucontext_t *)(sp);
    memset(frame_area, 0, sizeof frame_area);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)landing;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)(landing_stack + sizeof landing_stack - 8);
    uc->uc_mcontext.gregs[REG_EFL] = 0x202 | (3 << 12);
    uc->uc_mcontext.gregs[REG_CSGSFS] = 0x33; /* cs = __USER_CS, gs = fs = 0, ss implied */
    uc->uc_mcontext.fpregs = 0;
    sigemptyset(&uc->uc_sigmask);
    puts("forging a sigreturn frame");
    fflush(stdout);
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "mov %1, %%eax\n\t"
                     "syscall\n\t"
                     "ud2"
                     : : "r"(sp), "i"(SYS_rt_sigreturn) : "memory");
    return 0;
}
