// build: gcc-static
// Checks POSIX timers: timer_create with SIGEV_SIGNAL delivers the chosen signal with SI_TIMER, the timer id and sigev_value; an interval timer fires repeatedly; timer_gettime reports the interval and the time left; SIGEV_NONE only counts down; SIGEV_THREAD_ID signals one thread; the default sigevent is SIGALRM carrying the id; absolute times in the past fire at once; timer_delete stops a timer; bad ids, clocks and notify values fail with EINVAL.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int fired, last_code, last_value, last_signo;
static volatile pid_t handler_tid;

static void on_sig(int s, siginfo_t *si, void *uc) {
    (void)uc;
    last_signo = s;
    last_code = si->si_code;
    last_value = si->si_value.sival_int;
    handler_tid = (pid_t)syscall(SYS_gettid);
    fired++; /* last: the main thread reads the others once it sees this */
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static pid_t thread_tid;
static volatile int stop_thread;
static void *spin(void *arg) {
    (void)arg;
    thread_tid = (pid_t)syscall(SYS_gettid);
    while (!stop_thread) sleep_ms(5);
    return NULL;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);

    timer_t t;
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 1234;
    printf("create: %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = {{0, 0}, {0, 30000000}};
    timer_settime(t, 0, &its, NULL);
    sleep_ms(150);
    printf("one-shot fired %d code SI_TIMER %d value %d\n", fired, last_code == SI_TIMER, last_value);
    struct itimerspec cur;
    timer_gettime(t, &cur);
    printf("disarmed after: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

    fired = 0;
    struct itimerspec iv = {{0, 20000000}, {0, 20000000}};
    timer_settime(t, 0, &iv, NULL);
    timer_gettime(t, &cur);
    printf("interval reported: %ld ns, left <= 20ms: %d\n", cur.it_interval.tv_nsec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000);
    while (fired < 5) sleep_ms(5);
    printf("interval fired at least 5 times: %d\n", fired >= 5);
    struct itimerspec zero = {{0, 0}, {0, 0}}, old;
    timer_settime(t, 0, &zero, &old);
    printf("old setting kept the interval: %ld ns\n", old.it_interval.tv_nsec);
    int after = fired;
    sleep_ms(80);
    printf("disarmed stays quiet: %d\n", fired == after);
    printf("getoverrun: %d\n", timer_getoverrun(t) >= 0);

    /* SIGEV_NONE: counts down without a signal. */
    timer_t n;
    struct sigevent none = {0};
    none.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_REALTIME, &none, &n);
    struct itimerspec ten = {{0, 0}, {10, 0}};
    timer_settime(n, 0, &ten, NULL);
    timer_gettime(n, &cur);
    printf("SIGEV_NONE counting down: %d\n", cur.it_value.tv_sec >= 9 && cur.it_value.tv_sec <= 10);
    timer_delete(n);

    /* The kernel's default sigevent (raw syscall; glibc substitutes its
       own): SIGALRM with the timer id as value. */
    int kid = -1;
    syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &kid);
    fired = 0;
    struct itimerspec soon = {{0, 0}, {0, 10000000}};
    syscall(SYS_timer_settime, kid, 0, &soon, NULL);
    while (!fired) sleep_ms(5);
    printf("default: SIGALRM %d value is the id %d\n", last_signo == SIGALRM, last_value == kid);

    /* An absolute time in the past fires at once. */
    fired = 0;
    struct itimerspec past = {{0, 0}, {1, 0}};
    syscall(SYS_timer_settime, kid, TIMER_ABSTIME, &past, NULL);
    sleep_ms(50);
    printf("absolute past fired: %d\n", fired);
    syscall(SYS_timer_delete, kid);

    /* SIGEV_THREAD_ID: to one thread, which does not block it. */
    pthread_t th;
    pthread_create(&th, NULL, spin, NULL);
    while (!thread_tid) sleep_ms(1);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    timer_t tt;
    struct sigevent tid_ev = {0};
    tid_ev.sigev_notify = SIGEV_THREAD_ID;
    tid_ev.sigev_signo = SIGUSR1;
    tid_ev._sigev_un._tid = thread_tid;
    printf("thread timer: %d\n", timer_create(CLOCK_MONOTONIC, &tid_ev, &tt));
    fired = 0;
    timer_settime(tt, 0, &soon, NULL);
    while (!fired) sleep_ms(5);
    printf("handled by that thread: %d\n", handler_tid == thread_tid);
    stop_thread = 1;
    pthread_join(th, NULL);
    timer_delete(tt);

    /* Errors. */
    int ok = timer_delete(t) == 0 && timer_delete(t) == -1;
    printf("delete twice: %d EINVAL %d\n", ok, errno == EINVAL);
    errno = 0;
    long r = syscall(SYS_timer_settime, 999, 0, &its, NULL);
    printf("settime bad id: %ld EINVAL %d\n", r, errno == EINVAL);
    timer_t bad;
    r = syscall(SYS_timer_create, 12345, NULL, &bad);
    printf("bad clock: %ld EINVAL %d\n", r, errno == EINVAL);
    struct sigevent badev = {0};
    badev.sigev_notify = 77;
    r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &badev, &bad);
    printf("bad notify: %ld EINVAL %d\n", r, errno == EINVAL);
    badev.sigev_notify = SIGEV_SIGNAL;
    badev.sigev_signo = 99;
    r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &badev, &bad);
    printf("bad signal: %ld EINVAL %d\n", r, errno == EINVAL);
    struct itimerspec badts = {{0, 0}, {0, 2000000000L}};
    timer_create(CLOCK_MONOTONIC, &sev, &t);
    ok = timer_settime(t, 0, &badts, NULL);
    printf("bad nsec: %d EINVAL %d\n", ok, errno == EINVAL);
    return 0;
}
