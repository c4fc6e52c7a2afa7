// expect: native
// Recurses without bound until the stack guard is hit; must die with SIGSEGV (139), not hang or corrupt the machine.
#include <stdio.h>

static unsigned long depth;

static unsigned long dive(unsigned long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    depth++;
    if (n == (unsigned long)-1) return 0;
    return dive(n + 1) + frame[0];
}

int main(void) {
    puts("recursing forever");
    fflush(stdout);
    unsigned long r = dive(0);
    printf("returned %lu (wrong)\n", r);
    return 0;
}
