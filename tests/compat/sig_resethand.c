// build: gcc
// Checks SA_RESETHAND: the handler runs once and is reset to SIG_DFL, so a second SIGUSR1 kills the process (exit status 138).
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile int hits;
static void on_usr1(int sig) { (void)sig; hits++; }

int main(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);

    raise(SIGUSR1);
    printf("first SIGUSR1 handled: hits=%d\n", hits);
    sigaction(SIGUSR1, NULL, &old);
    printf("disposition now SIG_DFL: %d\n", old.sa_handler == SIG_DFL);

    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &old);
    printf("without SA_RESETHAND handler stays: hits=%d kept=%d\n", hits, old.sa_handler == on_usr1);

    printf("raising SIGUSR1 again, expecting death\n");
    fflush(stdout);
    raise(SIGUSR1);
    printf("survived (wrong)\n");
    return 0;
}
