// expect: native
// Executes privileged instructions from user mode (hlt, cli, sti, in, out, rdmsr, wrmsr, mov cr3, lgdt, invlpg, wbinvd, int $0x81); each must raise SIGSEGV, never reach the hypervisor as a real halt/IO.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile int got;
static void on_sig(int sig) { got = sig; siglongjmp(env, 1); }

#define TRY(label, asmtext, ...) do {                                  \
        got = 0;                                                       \
        if (sigsetjmp(env, 1) == 0) { __asm__ volatile(asmtext __VA_ARGS__); } \
        printf("%-10s %s\n", label, got == SIGSEGV ? "SIGSEGV" : got == SIGILL ? "SIGILL" : got == SIGBUS ? "SIGBUS" : got ? "other signal" : "EXECUTED"); \
    } while (0)

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    static unsigned char gdtr[10];

    TRY("hlt", "hlt");
    TRY("cli", "cli");
    TRY("sti", "sti");
    TRY("in", "mov $0x3f8, %%dx\n\tin %%dx, %%al", : : : "rax", "rdx");
    TRY("out", "mov $0x3f8, %%dx\n\tmov $0x41, %%al\n\tout %%al, %%dx", : : : "rax", "rdx");
    TRY("out 0x80", "mov $0x80, %%al\n\tout %%al, $0x80", : : : "rax");
    TRY("rdmsr", "mov $0xc0000080, %%ecx\n\trdmsr", : : : "rax", "rcx", "rdx");
    TRY("wrmsr", "mov $0xc0000080, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr", : : : "rax", "rcx", "rdx");
    TRY("mov cr3", "mov %%cr3, %%rax", : : : "rax");
    TRY("mov to cr0", "xor %%eax, %%eax\n\tmov %%rax, %%cr0", : : : "rax");
    TRY("lgdt", "lgdt %0", : : "m"(gdtr));
    TRY("invlpg", "invlpg (%%rsp)", : : : "memory");
    TRY("wbinvd", "wbinvd");
    TRY("int 0x81", "int $0x81");
    /* vmcall is deliberately absent: under KVM a CPL3 vmcall just returns -KVM_EPERM, on bare metal it is #UD. */
    puts("still alive");
    return 0;
}
