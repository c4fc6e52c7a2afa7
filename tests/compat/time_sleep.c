// Checks nanosleep(10ms) returns 0 and MONOTONIC advances by at least 10ms; also clock_nanosleep relative/absolute and invalid nsec -> EINVAL.
#include <errno.h>
#include <stdio.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    struct timespec req = { 0, 10 * 1000000L }, rem = { 9, 9 };
    long long t0 = now_ns();
    int rc = nanosleep(&req, &rem);
    long long dt = now_ns() - t0;
    printf("nanosleep 10ms: rc=%d advanced>=10ms %d under 5s %d\n", rc, dt >= 10000000LL, dt < 5000000000LL);

    req.tv_nsec = 5 * 1000000L;
    t0 = now_ns();
    rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    dt = now_ns() - t0;
    printf("clock_nanosleep relative 5ms: rc=%d advanced>=5ms %d\n", rc, dt >= 5000000LL);

    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 20 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
    long long target = abs.tv_sec * 1000000000LL + abs.tv_nsec;
    printf("clock_nanosleep absolute: rc=%d reached target %d\n", rc, now_ns() >= target);

    abs.tv_sec -= 100;
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
    printf("absolute time in the past returns at once: rc=%d\n", rc);

    struct timespec bad = { 0, 1000000000L };
    errno = 0;
    rc = nanosleep(&bad, NULL);
    printf("nanosleep nsec=1e9: rc=%d EINVAL=%d\n", rc, errno == EINVAL);
    struct timespec neg = { -1, 0 };
    errno = 0;
    rc = nanosleep(&neg, NULL);
    printf("nanosleep negative: rc=%d EINVAL=%d\n", rc, errno == EINVAL);
    struct timespec zero = { 0, 0 };
    printf("nanosleep zero: rc=%d\n", nanosleep(&zero, NULL));
    return 0;
}
