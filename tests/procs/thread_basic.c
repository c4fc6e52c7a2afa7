// Checks threads: pthread_create/join of 8 threads sharing memory under a mutex, thread ids differ from the process id, getpid is shared, and a thread's return value reaches join.
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static pid_t pids[8], tids[8];

static void *work(void *arg) {
    long i = (long)arg;
    pids[i] = getpid();
    tids[i] = (pid_t)syscall(SYS_gettid);
    for (int k = 0; k < 10000; k++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(i * 10);
}

int main(void) {
    pthread_t t[8];
    for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, work, (void *)i);
    long sum = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    int same_pid = 1, distinct_tid = 1;
    for (int i = 0; i < 8; i++) {
        same_pid &= pids[i] == getpid();
        distinct_tid &= tids[i] != getpid();
        for (int j = 0; j < i; j++) distinct_tid &= tids[i] != tids[j];
    }
    printf("counter=%ld joined sum=%ld same pid=%d distinct tids=%d\n", counter, sum, same_pid, distinct_tid);
    return 0;
}
