// Non-blocking UDP: recvfrom/read give EAGAIN on an empty socket; poll, epoll and select see POLLOUT always and POLLIN only while a datagram is queued.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static void eagain(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 && errno == EAGAIN ? "EAGAIN" : r < 0 ? strerror(errno) : "data"); }

static void polls(const char *what, int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    int n = poll(&p, 1, ms);
    printf("poll %s: %d IN %d OUT %d ERR|HUP %d\n", what, n, (p.revents & POLLIN) != 0, (p.revents & POLLOUT) != 0,
           (p.revents & (POLLERR | POLLHUP)) != 0);
}

static void selects(const char *what, int fd) {
    if (fd < 0 || fd >= FD_SETSIZE) {
        printf("select %s: no socket\n", what);
        return;
    }
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    struct timeval tv = {0, 0};
    int n = select(fd + 1, &r, &w, NULL, &tv);
    printf("select %s: %d readable %d writable %d\n", what, n, FD_ISSET(fd, &r) != 0, FD_ISSET(fd, &w) != 0);
}

int main(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    printf("O_NONBLOCK from SOCK_NONBLOCK: %d\n", rx >= 0 && (fcntl(rx, F_GETFL) & O_NONBLOCK) != 0);
    bind(rx, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(rx, (struct sockaddr *)&a, &len);
    char buf[32];
    struct sockaddr_in src;
    len = sizeof src;
    eagain("recvfrom empty", recvfrom(rx, buf, sizeof buf, 0, (struct sockaddr *)&src, &len));
    eagain("read empty", read(rx, buf, sizeof buf));
    eagain("recv MSG_DONTWAIT on a blocking socket", recv(tx, buf, sizeof buf, MSG_DONTWAIT));
    polls("empty", rx, 0);
    polls("empty with 50 ms", rx, 50);
    polls("unbound sender", tx, 0);
    selects("empty", rx);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[4];
    printf("epoll_ctl add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, rx, &ev));
    printf("epoll_wait empty: %d\n", epoll_wait(ep, out, 4, 0));

    // Two datagrams arrive: readable until both are read.
    sendto(tx, "one", 3, 0, (struct sockaddr *)&a, sizeof a);
    sendto(tx, "two!", 4, 0, (struct sockaddr *)&a, sizeof a);
    polls("after two sends", rx, 5000);
    int n = epoll_wait(ep, out, 4, 5000);
    printf("epoll_wait: %d data %u EPOLLIN %d\n", n, out[0].data.u32, (out[0].events & EPOLLIN) != 0);
    selects("with data", rx);
    eagain("recvfrom", n = recvfrom(rx, buf, sizeof buf, 0, NULL, NULL));
    printf("got %d \"%.*s\"\n", n, n > 0 ? n : 0, buf);
    polls("one left", rx, 5000);
    printf("epoll_wait one left: %d\n", epoll_wait(ep, out, 4, 0));
    n = recv(rx, buf, sizeof buf, 0);
    printf("got %d \"%.*s\"\n", n, n > 0 ? n : 0, buf);
    polls("drained", rx, 0);
    printf("epoll_wait drained: %d\n", epoll_wait(ep, out, 4, 0));
    selects("drained", rx);
    eagain("recvfrom drained", recvfrom(rx, buf, sizeof buf, 0, NULL, NULL));

    // EPOLLOUT is reported at once for a datagram socket, with EPOLLET only once.
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    printf("epoll_ctl mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, rx, &ev));
    n = epoll_wait(ep, out, 4, 0);
    printf("epoll_wait EPOLLOUT: %d OUT %d IN %d\n", n, n == 1 && (out[0].events & EPOLLOUT), n == 1 && (out[0].events & EPOLLIN) != 0);
    printf("epoll_wait again (edge): %d\n", epoll_wait(ep, out, 4, 0));

    // A blocked poll wakes when a datagram arrives; a zero-length one counts.
    sendto(tx, "", 0, 0, (struct sockaddr *)&a, sizeof a);
    n = epoll_wait(ep, out, 4, 5000);
    printf("epoll_wait after empty datagram: %d IN %d\n", n, n == 1 && (out[0].events & EPOLLIN) != 0);
    eagain("recv empty datagram", recv(rx, buf, sizeof buf, 0));
    eagain("recv after", recv(rx, buf, sizeof buf, 0));
    return 0;
}
