// AF_UNIX stream socketpair: data both ways, SOCK_NONBLOCK|SOCK_CLOEXEC flags, MSG_PEEK, MSG_DONTWAIT EAGAIN, poll readiness, shutdown(SHUT_WR) gives the peer end of file, writes after the peer's close are EPIPE (SIGPIPE ignored).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static void showpoll(const char *what, int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
    int n = poll(&p, 1, 0);
    printf("poll %s: %d%s%s%s%s\n", what, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLRDHUP ? " RDHUP" : "", p.revents & POLLHUP ? " HUP" : "");
}

static void got(const char *what, int fd, int size, int flags) {
    char buf[64] = {0};
    long n = recv(fd, buf, size, flags);
    printf("%s: %ld %s\n", what, n, n < 0 ? strerror(errno) : buf);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    show("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int type = 0, dom = 0;
    socklen_t len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof dom;
    getsockopt(sv[1], SOL_SOCKET, SO_DOMAIN, &dom, &len);
    printf("SO_TYPE stream: %d, SO_DOMAIN unix: %d\n", type == SOCK_STREAM, dom == AF_UNIX);
    printf("flags: nonblock %d cloexec %d\n", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0, (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
    got("recv MSG_DONTWAIT empty", sv[1], 63, MSG_DONTWAIT);
    showpoll("b empty", sv[1]);
    show("write a->b", write(sv[0], "hello", 5));
    showpoll("b with data", sv[1]);
    got("peek 3", sv[1], 3, MSG_PEEK);
    got("peek all", sv[1], 63, MSG_PEEK);
    got("recv", sv[1], 63, 0);
    show("write b->a", write(sv[1], "world!", 6));
    got("a reads", sv[0], 63, 0);
    write(sv[0], "ab", 2); write(sv[0], "cd", 2); write(sv[0], "ef", 2);
    got("three writes, one read", sv[1], 63, 0);
    write(sv[1], "123456", 6);
    got("short read 2", sv[0], 2, 0);
    got("rest", sv[0], 63, 0);
    show("shutdown a SHUT_WR", shutdown(sv[0], SHUT_WR));
    showpoll("b after a's SHUT_WR", sv[1]);
    got("b reads end", sv[1], 63, 0);
    got("b reads end again", sv[1], 63, MSG_DONTWAIT);
    show("a writes after SHUT_WR", write(sv[0], "x", 1));
    show("b still writes", write(sv[1], "back", 4));
    got("a still reads", sv[0], 63, 0);
    close(sv[0]);
    showpoll("b after a's close", sv[1]);
    show("b writes after a's close", write(sv[1], "x", 1));
    show("b send MSG_NOSIGNAL", send(sv[1], "x", 1, MSG_NOSIGNAL));
    got("b reads end after close", sv[1], 63, 0);
    close(sv[1]);
    int nb[2];
    show("socketpair NONBLOCK|CLOEXEC", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, nb));
    printf("flags: nonblock %d cloexec %d\n", (fcntl(nb[1], F_GETFL) & O_NONBLOCK) != 0, (fcntl(nb[1], F_GETFD) & FD_CLOEXEC) != 0);
    char c;
    show("read on empty nonblocking", read(nb[1], &c, 1));
    static char big[1 << 16];
    long total = 0, n;
    while ((n = write(nb[0], big, sizeof big)) > 0) total += n;
    printf("fill until EAGAIN: %s, filled some: %d\n", n < 0 && errno == EAGAIN ? "EAGAIN" : "?", total > 0);
    showpoll("full writer", nb[0]);
    long drained = 0;
    while ((n = read(nb[1], big, sizeof big)) > 0) drained += n;
    printf("drained all: %d\n", drained == total);
    showpoll("writer after drain", nb[0]);
    return 0;
}
