// Checks an uncaught abort() kills the process with SIGABRT (exit status 134) after flushed output, and atexit handlers do not run.
#include <stdio.h>
#include <stdlib.h>

static void never(void) { puts("atexit handler ran (wrong)"); }

int main(void) {
    atexit(never);
    puts("about to abort");
    fflush(stdout);
    abort();
    puts("abort returned (wrong)");
    return 0;
}
