// Checks that threads share signal dispositions: a handler installed by the main thread after a thread started runs in that thread on pthread_kill, and a handler the thread installs is seen by the main thread.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_in_thread, usr2_in_main;
static pthread_t main_thread;
static volatile int ready, installed;

static void on_usr1(int s) { (void)s; usr1_in_thread = !pthread_equal(pthread_self(), main_thread); }
static void on_usr2(int s) { (void)s; usr2_in_main = pthread_equal(pthread_self(), main_thread); }

static void *worker(void *arg) {
    (void)arg;
    ready = 1;
    while (!usr1_in_thread) usleep(1000);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    installed = 1;
    return NULL;
}

int main(void) {
    main_thread = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!ready) usleep(1000);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    raise(SIGUSR2);
    printf("handler installed by main ran in thread: %s\n", usr1_in_thread ? "yes" : "no");
    printf("handler installed by thread ran in main: %s\n", usr2_in_main ? "yes" : "no");
    return 0;
}
