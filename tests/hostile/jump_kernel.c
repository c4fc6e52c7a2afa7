// expect: native
// Jumps to a kernel-half address (0xffffffff81000000), where a kernel-less guest might keep its own code; must die with SIGSEGV (139).
#include <stdint.h>
#include <stdio.h>

int main(void) {
    void (*volatile fn)(void) = (void (*)(void))(uintptr_t)0xffffffff81000000ULL;
    puts("jumping to 0xffffffff81000000");
    fflush(stdout);
    fn();
    puts("returned (wrong)");
    return 0;
}
