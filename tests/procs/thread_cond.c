// Checks condition variables and semaphores between threads: a ping-pong of 200 rounds over a condvar, and a counting semaphore handing out 5 tokens in order.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn, rounds;
static sem_t sem;
static int order[5], n;

static void *pong(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&m);
        while (turn != 1) pthread_cond_wait(&c, &m);
        turn = 0;
        rounds++;
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *taker(void *arg) {
    sem_wait(&sem);
    order[n++] = (int)(long)arg;
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, pong, NULL);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&m);
        while (turn != 0) pthread_cond_wait(&c, &m);
        turn = 1;
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
    }
    pthread_join(t, NULL);
    printf("ping-pong rounds=%d\n", rounds);
    sem_init(&sem, 0, 0);
    for (long i = 0; i < 5; i++) {
        pthread_t w;
        pthread_create(&w, NULL, taker, (void *)i);
        sem_post(&sem);
        pthread_join(w, NULL);
    }
    printf("semaphore order: %d %d %d %d %d\n", order[0], order[1], order[2], order[3], order[4]);
    return 0;
}
