// Checks SIGILL from ud2 is caught (skipped by editing RIP in the ucontext; __builtin_trap left via siglongjmp) and SIGTRAP from int3 resumes after the breakpoint.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile int ill_count, trap_count, ill_code, trap_ok, use_jump;

static void on_ill(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    (void)sig;
    ill_code = si->si_code;
    ill_count++;
    if (use_jump) siglongjmp(env, 1);
    unsigned char *rip = (unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    if (rip[0] == 0x0f && rip[1] == 0x0b) uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip ud2 */
}

static void on_trap(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    (void)sig; (void)si;
    unsigned char *rip = (unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    trap_ok = rip[-1] == 0xcc; /* RIP points just past int3 */
    trap_count++;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = on_ill;
    sigaction(SIGILL, &sa, NULL);
    sa.sa_sigaction = on_trap;
    sigaction(SIGTRAP, &sa, NULL);

    __asm__ volatile("ud2");
    printf("after ud2: SIGILL count=%d ILL_ILLOPN=%d\n", ill_count, ill_code == ILL_ILLOPN);
    volatile long r = 0;
    __asm__ volatile("mov $41, %%rax\n\tud2\n\tinc %%rax\n\tmov %%rax, %0" : "=m"(r) : : "rax");
    printf("registers preserved across handler: %ld\n", r);

    use_jump = 1;
    if (sigsetjmp(env, 1) == 0) { __builtin_trap(); }
    printf("after __builtin_trap: SIGILL count=%d\n", ill_count);

    __asm__ volatile("int3");
    printf("after int3: SIGTRAP count=%d rip-after-int3=%d\n", trap_count, trap_ok);
    for (int i = 0; i < 3; i++) __asm__ volatile("int3");
    printf("after 3 more int3: SIGTRAP count=%d\n", trap_count);
    return 0;
}
