// Checks robust mutexes (set_robust_list): a thread that exits holding a robust mutex makes the next lock return EOWNERDEAD, pthread_mutex_consistent repairs it, a waiter blocked at the time is woken with EOWNERDEAD, and a process-shared robust mutex held by a child process that dies is recovered by the parent.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m;
static int waiter_result = -1;

static void *die_holding(void *arg) {
    pthread_mutex_lock((pthread_mutex_t *)arg);
    return NULL; /* exits without unlocking */
}

static void *hold_then_die(void *arg) {
    pthread_mutex_lock(&m);
    usleep(100000);
    (void)arg;
    return NULL;
}

static void *waiter(void *arg) {
    (void)arg;
    usleep(20000);
    waiter_result = pthread_mutex_lock(&m);
    if (waiter_result == EOWNERDEAD) pthread_mutex_consistent(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void init_robust(pthread_mutex_t *mu, int shared) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (shared) pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(mu, &a);
}

int main(void) {
    init_robust(&m, 0);
    pthread_t t;
    pthread_create(&t, NULL, die_holding, &m);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&m);
    printf("lock after the owner died: EOWNERDEAD %d\n", r == EOWNERDEAD);
    printf("consistent: %d\n", pthread_mutex_consistent(&m));
    printf("unlock: %d\n", pthread_mutex_unlock(&m));
    printf("lock again: %d\n", pthread_mutex_lock(&m));
    pthread_mutex_unlock(&m);

    pthread_t a, b;
    pthread_create(&a, NULL, hold_then_die, NULL);
    usleep(10000);
    pthread_create(&b, NULL, waiter, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("blocked waiter woken with EOWNERDEAD: %d\n", waiter_result == EOWNERDEAD);

    pthread_mutex_t *sm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    init_robust(sm, 1);
    pid_t c = fork();
    if (c == 0) {
        pthread_mutex_lock(sm);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    r = pthread_mutex_lock(sm);
    printf("shared mutex after the child died: EOWNERDEAD %d\n", r == EOWNERDEAD);
    pthread_mutex_consistent(sm);
    pthread_mutex_unlock(sm);
    printf("shared lock again: %d\n", pthread_mutex_lock(sm));
    return 0;
}
