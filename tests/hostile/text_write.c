// expect: native
// Writes over the program's own read-only text page (main's first byte); must die with SIGSEGV (139) and not patch the code.
#include <stdio.h>

int main(void) {
    volatile unsigned char *code = (volatile unsigned char *)(void *)main;
    printf("text byte readable: %d\n", code[0] == code[0]);
    fflush(stdout);
    code[0] = 0xcc;
    puts("text page was writable (wrong)");
    return 0;
}
