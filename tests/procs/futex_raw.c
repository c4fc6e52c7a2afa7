// build: gcc-static
// Checks futex(2) directly: WAIT with a mismatched value (EAGAIN), WAIT with a timeout (ETIMEDOUT), WAKE with no waiters (0), a thread woken by WAKE, and a misaligned address (EINVAL).
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word;

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void *waiter(void *arg) {
    (void)arg;
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0) futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL);
    return NULL;
}

int main(void) {
    errno = 0;
    long r = futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL);
    printf("wait on wrong value: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "other");
    struct timespec ts = {0, 20 * 1000 * 1000};
    errno = 0;
    r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts);
    printf("wait with timeout: %ld %s\n", r, errno == ETIMEDOUT ? "ETIMEDOUT" : "other");
    printf("wake with no waiters: %ld\n", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL));
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    usleep(50000);
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL);
    pthread_join(t, NULL);
    printf("waiter joined after wake\n");
    errno = 0;
    r = futex((uint32_t *)((char *)&word + 1), FUTEX_WAKE_PRIVATE, 1, NULL);
    printf("misaligned: %ld %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    return 0;
}
