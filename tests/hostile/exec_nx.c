// expect: native
// Copies a `ret` instruction into a PROT_READ|PROT_WRITE mapping and calls it; no-execute must hold, so SIGSEGV (139).
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { puts("mmap failed"); return 1; }
    memset(p, 0xc3, 4096); /* ret */
    puts("calling into a non-executable page");
    fflush(stdout);
    ((void (*)(void))p)();
    puts("executed from a non-exec page (wrong)");
    return 0;
}
