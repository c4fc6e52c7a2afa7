// Checks thread exits: a thread calling pthread_exit while the main thread continues, exit() from a non-main thread ending the whole process with its status (33), and threads killed with the process.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *quiet(void *arg) { (void)arg; pthread_exit((void *)7); }
static void *sleeper(void *arg) { (void)arg; for (;;) pause(); }
static void *ender(void *arg) {
    (void)arg;
    usleep(20000);
    fflush(stdout);
    exit(33);
}

int main(void) {
    pthread_t a, b, c;
    void *r;
    pthread_create(&a, NULL, quiet, NULL);
    pthread_join(a, &r);
    printf("pthread_exit value=%ld\n", (long)r);
    pthread_create(&b, NULL, sleeper, NULL);
    pthread_create(&c, NULL, ender, NULL);
    for (;;) pause();
}
