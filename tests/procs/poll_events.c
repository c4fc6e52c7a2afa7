// Checks readiness: poll/select/epoll on pipes (empty vs readable, write end writable, EOF as POLLHUP), epoll_wait timeouts, EPOLLONESHOT, eventfd counters and semaphore mode, and a timerfd expiring.
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(void) {
    int p[2];
    pipe(p);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    int r = poll(pf, 2, 0);
    printf("poll empty: %d in=%d out=%d\n", r, !!(pf[0].revents & POLLIN), !!(pf[1].revents & POLLOUT));
    write(p[1], "x", 1);
    r = poll(pf, 1, 0);
    printf("poll readable: %d in=%d\n", r, !!(pf[0].revents & POLLIN));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {0, 0};
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    printf("select readable: %d set=%d\n", r, FD_ISSET(p[0], &rs));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 42};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct epoll_event out[4];
    int n = epoll_wait(ep, out, 4, 100);
    (void)r;
    printf("epoll: %d data=%llu in=%d\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL, n > 0 && (out[0].events & EPOLLIN));
    printf("oneshot disarmed: %d\n", epoll_wait(ep, out, 4, 20));
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    printf("re-armed: %d\n", epoll_wait(ep, out, 4, 0));
    char c;
    read(p[0], &c, 1);
    printf("drained timeout: %d\n", epoll_wait(ep, out, 4, 20));
    close(p[1]);
    pf[0].events = POLLIN;
    poll(pf, 1, 100);
    printf("EOF hup=%d\n", !!(pf[0].revents & POLLHUP));
    int e = eventfd(2, 0);
    uint64_t v = 5;
    write(e, &v, 8);
    read(e, &v, 8);
    printf("eventfd sum=%llu\n", (unsigned long long)v);
    int s = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    int ones = 0;
    while (read(s, &v, 8) == 8) ones += (int)v;
    printf("eventfd semaphore reads=%d\n", ones);
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 0}, {0, 30 * 1000 * 1000}};
    timerfd_settime(t, 0, &its, NULL);
    uint64_t exp = 0;
    read(t, &exp, 8);
    printf("timerfd expirations=%llu\n", (unsigned long long)exp);
    return 0;
}
