// build: gcc
// Checks clocks: MONOTONIC never decreases over 1000 calls, REALTIME is after 2020, gettimeofday/time agree within 2s, clock_getres is sane.
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    struct timespec prev, cur, res;
    int decreased = 0, badnsec = 0;
    clock_gettime(CLOCK_MONOTONIC, &prev);
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &cur);
        if (ns(cur) < ns(prev)) decreased++;
        if (cur.tv_nsec < 0 || cur.tv_nsec >= 1000000000L) badnsec++;
        prev = cur;
    }
    printf("monotonic decreased %d times, bad tv_nsec %d\n", decreased, badnsec);

    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    printf("realtime after 2020-01-01: %d\n", rt.tv_sec > 1577836800);
    struct tm tm;
    gmtime_r(&rt.tv_sec, &tm);
    printf("gmtime year >= 2020: %d\n", tm.tm_year + 1900 >= 2020);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    long diff = (long)(t - tv.tv_sec);
    printf("time vs gettimeofday within 2s: %d, usec in range: %d\n", diff >= -2 && diff <= 2, tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    printf("realtime vs time within 2s: %d\n", t - rt.tv_sec >= -2 && t - rt.tv_sec <= 2);

    clockid_t ids[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID };
    const char *names[] = { "REALTIME", "MONOTONIC", "MONOTONIC_RAW", "BOOTTIME", "PROCESS_CPUTIME_ID" };
    for (int i = 0; i < 5; i++) {
        int rc = clock_getres(ids[i], &res);
        int rc2 = clock_gettime(ids[i], &cur);
        printf("%s: getres rc=%d res<=1ms %d, gettime rc=%d\n", names[i], rc, res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000, rc2);
    }
    struct timespec mono, boot;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    printf("boottime >= monotonic: %d\n", ns(boot) >= ns(mono));
    printf("bad clock id rejected: %d\n", clock_gettime((clockid_t)1234, &cur) == -1);
    return 0;
}
