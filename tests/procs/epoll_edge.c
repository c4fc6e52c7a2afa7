// Checks epoll semantics beyond level triggering: edge-triggered reports once per new write on a pipe and again after draining, level-triggered keeps reporting, one-shot needs EPOLL_CTL_MOD, a closed descriptor leaves the set (its number can be added again), two descriptors of one pipe can both be registered, an epoll set inside another is readable when it has events, and bad flags give EINVAL.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

static int wait0(int ep) {
    struct epoll_event out[8];
    return epoll_wait(ep, out, 8, 0);
}

int main(void) {
    int p[2];
    pipe2(p, O_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    printf("ET empty: %d\n", wait0(ep));
    write(p[1], "a", 1);
    printf("ET after write: %d\n", wait0(ep));
    printf("ET again without reading: %d\n", wait0(ep));
    write(p[1], "b", 1);
    printf("ET after a second write: %d\n", wait0(ep));
    char buf[16];
    while (read(p[0], buf, sizeof buf) > 0) {}
    printf("ET drained (errno EAGAIN %d): %d\n", errno == EAGAIN, wait0(ep));
    write(p[1], "c", 1);
    printf("ET after drain and write: %d\n", wait0(ep));

    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    int first = wait0(ep);
    printf("LT with data: %d %d\n", first, wait0(ep));
    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    first = wait0(ep);
    printf("oneshot: %d then %d\n", first, wait0(ep));
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    printf("oneshot re-armed: %d\n", wait0(ep));

    int d = dup(p[0]);
    ev.events = EPOLLIN;
    printf("dup of a registered pipe added: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
    printf("both report: %d\n", wait0(ep));
    int r = epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev);
    printf("add twice: %d errno EEXIST %d\n", r, errno == EEXIST);
    close(d);
    printf("closed dup leaves the set: %d\n", wait0(ep));

    int q[2];
    pipe(q);
    int num = q[0];
    epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
    close(q[0]);
    int q2[2];
    pipe(q2);
    r = epoll_ctl(ep, EPOLL_CTL_ADD, q2[0], &ev);
    printf("reused number %d, add again: %d\n", q2[0] == num, r);

    int outer = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN;
    printf("nest: %d\n", epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev));
    printf("outer sees the inner set ready: %d\n", wait0(outer));
    struct pollfd pf = {ep, POLLIN, 0};
    r = poll(&pf, 1, 0);
    printf("poll on an epoll fd: %d in=%d\n", r, !!(pf.revents & POLLIN));
    while (read(p[0], buf, sizeof buf) > 0) {}
    first = wait0(ep);
    printf("after draining: inner %d outer %d\n", first, wait0(outer));
    r = epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev);
    printf("self-add: %d errno EINVAL %d\n", r, errno == EINVAL);
    ev.events = EPOLLIN | 0x00800000;
    r = epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    printf("unknown flag: %d errno EINVAL %d\n", r, errno == EINVAL);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    r = epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev);
    printf("MOD of exclusive: %d errno EINVAL %d\n", r, errno == EINVAL);
    r = epoll_ctl(ep, EPOLL_CTL_DEL, q2[1], NULL);
    printf("DEL of an fd not in the set: %d errno ENOENT %d\n", r, errno == ENOENT);
    struct epoll_event out[1];
    r = epoll_wait(ep, out, 0, 0);
    printf("maxevents 0: %d errno EINVAL %d\n", r, errno == EINVAL);
    return 0;
}
