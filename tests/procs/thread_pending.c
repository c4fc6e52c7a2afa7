// Checks the process-wide pending set: a signal sent to the process while every thread blocks it is pending for all of them (sigpending in each thread), and the first thread to unblock it runs the handler; a signal sent to one thread (pthread_kill) is pending only there.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile pid_t handled_by;
static pid_t worker_tid;
static int seen_by_worker, worker_own_pending;
static int go, done_flag;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void on_usr1(int s) { (void)s; handled_by = (pid_t)syscall(SYS_gettid); }

static void wait_for(int *flag, int value) {
    pthread_mutex_lock(&mu);
    while (*flag < value) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void set_flag(int *flag, int value) {
    pthread_mutex_lock(&mu);
    *flag = value;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg) {
    (void)arg;
    worker_tid = (pid_t)syscall(SYS_gettid);
    set_flag(&done_flag, 1);
    wait_for(&go, 1);
    sigset_t pend;
    sigpending(&pend);
    seen_by_worker = sigismember(&pend, SIGUSR1);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL); /* takes it here */
    set_flag(&done_flag, 2);
    wait_for(&go, 2);
    sigpending(&pend);
    worker_own_pending = sigismember(&pend, SIGUSR2);
    set_flag(&done_flag, 3);
    return NULL;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    wait_for(&done_flag, 1);
    kill(getpid(), SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    printf("pending in main: %d\n", sigismember(&pend, SIGUSR1));
    set_flag(&go, 1);
    wait_for(&done_flag, 2);
    sigpending(&pend);
    printf("pending in worker: %d\n", seen_by_worker);
    printf("handled by the worker: %d\n", handled_by == worker_tid);
    printf("pending in main after: %d\n", sigismember(&pend, SIGUSR1));
    pthread_kill(pthread_self(), SIGUSR2);
    sigpending(&pend);
    printf("thread-directed pending in main: %d\n", sigismember(&pend, SIGUSR2));
    set_flag(&go, 2);
    wait_for(&done_flag, 3);
    printf("thread-directed pending in worker: %d\n", worker_own_pending);
    pthread_join(t, NULL);
    int sig;
    sigwait(&set, &sig);
    printf("main takes its own: %d\n", sig == SIGUSR2);
    return 0;
}
