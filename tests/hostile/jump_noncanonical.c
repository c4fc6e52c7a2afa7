// expect: native
// Jumps to a non-canonical address (0x0000900000000000 has bits 47..63 mismatched), raising #GP; must die with SIGSEGV (139).
#include <stdint.h>
#include <stdio.h>

int main(void) {
    void (*volatile fn)(void) = (void (*)(void))(uintptr_t)0x0000900000000000ULL;
    puts("jumping to a non-canonical address");
    fflush(stdout);
    fn();
    puts("returned (wrong)");
    return 0;
}
