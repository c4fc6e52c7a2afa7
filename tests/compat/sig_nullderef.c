// Checks an uncaught NULL dereference kills the process with SIGSEGV (exit status 139); buffered output is lost, flushed output is kept.
#include <stdio.h>

int main(void) {
    printf("flushed before crash\n");
    fflush(stdout);
    printf("still in the stdio buffer, never written\n");
    volatile int *volatile p = 0;
    *p = 1;
    puts("survived (wrong)");
    return 0;
}
