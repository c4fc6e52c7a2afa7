// Checks that a signal sent to the process reaches the thread that does not block it: main blocks SIGUSR1 and SIGTERM, a dedicated thread waits for them with sigwait, and kill(getpid()) wakes it.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static sigset_t set;
static int got[2];

static void *waiter(void *arg) {
    (void)arg;
    for (int i = 0; i < 2; i++) sigwait(&set, &got[i]);
    return NULL;
}

int main(void) {
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* inherited by the thread */
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    usleep(20000);
    kill(getpid(), SIGUSR1);
    usleep(20000);
    kill(getpid(), SIGTERM);
    pthread_join(t, NULL);
    printf("sigwait thread got: %s then %s\n", got[0] == SIGUSR1 ? "SIGUSR1" : "other", got[1] == SIGTERM ? "SIGTERM" : "other");
    return 0;
}
