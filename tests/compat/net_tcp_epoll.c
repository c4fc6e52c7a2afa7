// epoll with TCP: level-triggered readiness repeats until drained, EPOLLET reports new data once, EPOLLONESHOT disarms until EPOLL_CTL_MOD, EPOLLOUT on a fresh connection, EPOLLRDHUP on the peer's shutdown.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int pair(int *a, int *b) {
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(srv, (struct sockaddr *)&s, sizeof s);
    socklen_t len = sizeof s;
    getsockname(srv, (struct sockaddr *)&s, &len);
    listen(srv, 1);
    *a = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*a, (struct sockaddr *)&s, sizeof s)) return -1;
    *b = accept(srv, NULL, NULL);
    close(srv);
    return 0;
}

static int wait1(int ep, unsigned *ev) {
    struct epoll_event e;
    int n = epoll_wait(ep, &e, 1, 200);
    *ev = n > 0 ? e.events : 0;
    return n;
}

int main(void) {
    int a, b;
    if (pair(&a, &b)) return 1;
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = b};
    epoll_ctl(ep, EPOLL_CTL_ADD, b, &e);
    unsigned ev;
    printf("nothing yet: %d\n", wait1(ep, &ev));
    write(a, "abc", 3);
    printf("LT data: %d in=%d\n", wait1(ep, &ev), !!(ev & EPOLLIN));
    printf("LT again before reading: %d\n", wait1(ep, &ev));
    char buf[16];
    read(b, buf, sizeof buf);
    printf("LT after draining: %d\n", wait1(ep, &ev));
    e.events = EPOLLIN | EPOLLET;
    epoll_ctl(ep, EPOLL_CTL_MOD, b, &e);
    write(a, "d", 1);
    printf("ET data: %d\n", wait1(ep, &ev));
    printf("ET again without new data: %d\n", wait1(ep, &ev));
    read(b, buf, sizeof buf);
    e.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, b, &e);
    write(a, "e", 1);
    printf("ONESHOT first: %d\n", wait1(ep, &ev));
    printf("ONESHOT disarmed: %d\n", wait1(ep, &ev));
    epoll_ctl(ep, EPOLL_CTL_MOD, b, &e);
    printf("ONESHOT re-armed: %d\n", wait1(ep, &ev));
    read(b, buf, sizeof buf);
    struct epoll_event o = {.events = EPOLLOUT, .data.fd = a};
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &o);
    printf("EPOLLOUT on the client: %d out=%d\n", wait1(ep, &ev), !!(ev & EPOLLOUT));
    epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL);
    e.events = EPOLLIN | EPOLLRDHUP;
    epoll_ctl(ep, EPOLL_CTL_MOD, b, &e);
    shutdown(a, SHUT_WR);
    printf("peer shut down: %d in=%d rdhup=%d\n", wait1(ep, &ev), !!(ev & EPOLLIN), !!(ev & EPOLLRDHUP));
    printf("read at end: %zd\n", read(b, buf, sizeof buf));
    return 0;
}
