// Checks sigaltstack: a SIGSEGV handler with SA_ONSTACK runs on the alternate stack, including after a stack overflow from infinite recursion.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sigjmp_buf env;
static char *alt;
static size_t altsize = 64 * 1024;
static volatile int on_alt, flags_onstack;

static void handler(int sig) {
    char local;
    stack_t cur;
    (void)sig;
    on_alt = (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + altsize;
    sigaltstack(NULL, &cur);
    flags_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
    siglongjmp(env, 1);
}

static int depth;
static int recurse(int n) {
    volatile char pad[512];
    if (n == -1) return 0;
    pad[0] = (char)n;
    depth++;
    return recurse(n + 1) + pad[0];
}

int main(void) {
    alt = malloc(altsize);
    stack_t ss = { .ss_sp = alt, .ss_size = altsize, .ss_flags = 0 };
    printf("sigaltstack set: %d\n", sigaltstack(&ss, NULL));
    stack_t q;
    sigaltstack(NULL, &q);
    printf("query: size matches %d, disabled %d, onstack %d\n", q.ss_size == altsize, (q.ss_flags & SS_DISABLE) != 0, (q.ss_flags & SS_ONSTACK) != 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    if (sigsetjmp(env, 1) == 0) { *(volatile int *)0 = 1; }
    printf("NULL write: handler on altstack %d, SS_ONSTACK inside %d\n", on_alt, flags_onstack);

    on_alt = flags_onstack = 0;
    if (sigsetjmp(env, 1) == 0) { recurse(0); }
    printf("stack overflow: handler on altstack %d, SS_ONSTACK inside %d, recursed deep %d\n", on_alt, flags_onstack, depth > 1000);

    sigaltstack(NULL, &q);
    printf("after return: onstack %d\n", (q.ss_flags & SS_ONSTACK) != 0);
    return 0;
}
