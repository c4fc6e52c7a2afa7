// expect: native
// Calls through a NULL function pointer; must die with SIGSEGV (status 139) without disturbing the machine.
#include <stdio.h>

int main(void) {
    void (*volatile fn)(void) = 0;
    puts("jumping to address 0");
    fflush(stdout);
    fn();
    puts("returned from NULL (wrong)");
    return 0;
}
