/*
 * wisp's vDSO: clock_gettime, gettimeofday, time and getcpu without leaving
 * the guest. Time is the guest TSC scaled by parameters the host writes into
 * the data page (vvar) mapped just below this image; see kernel/src/vdso.rs.
 * Built by guest/build.rs with guest/vdso/vdso.lds.
 */
#include <stdint.h>

struct vvar {
    volatile uint32_t seq;   /* odd while the host rewrites the page */
    uint32_t flags;          /* bit 0: the TSC parameters are valid */
    uint64_t tsc_base;       /* guest TSC at the base instant */
    uint64_t mult;           /* nanoseconds per tick, 32.32 fixed point */
    uint64_t mono_base;      /* CLOCK_MONOTONIC at the base instant, ns */
    uint64_t real_base;      /* CLOCK_REALTIME at the base instant, ns */
};

extern const struct vvar wisp_vvar __attribute__((visibility("hidden")));

#define EXPORT __attribute__((visibility("default")))

struct kts { long tv_sec; long tv_nsec; };
struct ktv { long tv_sec; long tv_usec; };

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static long sys2(long n, long a, long b) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

/* Returns 0 and the time in ns of the monotonic (real=0) or real-time clock. */
static int now_ns(int real, uint64_t *ns) {
    const volatile struct vvar *v = &wisp_vvar;
    uint32_t seq;
    uint64_t base, tsc_base, mult, t;
    do {
        seq = v->seq;
        __asm__ volatile("" ::: "memory");
        if (!(v->flags & 1)) return -1;
        base = real ? v->real_base : v->mono_base;
        tsc_base = v->tsc_base;
        mult = v->mult;
        t = rdtsc();
        __asm__ volatile("" ::: "memory");
    } while ((seq & 1) || seq != v->seq);
    if (t < tsc_base) t = tsc_base;
    *ns = base + (uint64_t)(((unsigned __int128)(t - tsc_base) * mult) >> 32);
    return 0;
}

EXPORT int __vdso_clock_gettime(int clk, struct kts *ts) {
    uint64_t ns;
    int real;
    switch (clk) {
    case 0: case 5: case 11: real = 1; break;      /* REALTIME, REALTIME_COARSE, TAI */
    case 1: case 4: case 6: case 7: real = 0; break; /* MONOTONIC, _RAW, _COARSE, BOOTTIME */
    default: return (int)sys2(228, clk, (long)ts);
    }
    if (now_ns(real, &ns)) return (int)sys2(228, clk, (long)ts);
    ts->tv_sec = (long)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}

EXPORT int __vdso_gettimeofday(struct ktv *tv, void *tz) {
    uint64_t ns;
    if (now_ns(1, &ns)) return (int)sys2(96, (long)tv, (long)tz);
    if (tv) {
        tv->tv_sec = (long)(ns / 1000000000u);
        tv->tv_usec = (long)(ns % 1000000000u / 1000u);
    }
    if (tz) {
        ((int *)tz)[0] = 0;
        ((int *)tz)[1] = 0;
    }
    return 0;
}

EXPORT long __vdso_time(long *t) {
    uint64_t ns;
    if (now_ns(1, &ns)) return sys2(201, (long)t, 0);
    long s = (long)(ns / 1000000000u);
    if (t) *t = s;
    return s;
}

EXPORT int __vdso_getcpu(unsigned *cpu, unsigned *node) {
    if (cpu) *cpu = 0;
    if (node) *node = 0;
    return 0;
}

EXPORT int __vdso_clock_getres(int clk, struct kts *res) {
    return (int)sys2(229, clk, (long)res);
}

int clock_gettime(int, struct kts *) EXPORT __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct ktv *, void *) EXPORT __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) EXPORT __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *) EXPORT __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(int, struct kts *) EXPORT __attribute__((weak, alias("__vdso_clock_getres")));
