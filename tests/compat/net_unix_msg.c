// AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET socketpairs: message boundaries, empty messages, truncation with a short buffer, MSG_TRUNC in recvmsg's msg_flags and as a recv flag, MSG_PEEK, and what the survivor sees after the peer's close.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, long r) { printf("  %s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static void got(const char *what, int fd, int size, int flags) {
    char buf[64] = {0};
    long n = recv(fd, buf, size, flags);
    printf("  %s: %ld %s\n", what, n, n < 0 ? strerror(errno) : buf);
}

static void msg(const char *what, int fd, int size) {
    char buf[64] = {0};
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    long n = recvmsg(fd, &m, MSG_DONTWAIT);
    printf("  %s: %ld %s, MSG_TRUNC %d, MSG_EOR %d\n", what, n, n < 0 ? strerror(errno) : buf,
           (m.msg_flags & MSG_TRUNC) != 0, (m.msg_flags & MSG_EOR) != 0);
}

static void run(int type, const char *name) {
    int sv[2];
    printf("%s\n", name);
    show("socketpair", socketpair(AF_UNIX, type, 0, sv));
    int t = 0;
    socklen_t len = sizeof t;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &len);
    printf("  SO_TYPE matches: %d\n", t == type);
    send(sv[0], "one", 3, 0);
    send(sv[0], "three", 5, 0);
    send(sv[0], "", 0, 0);
    send(sv[0], "four", 4, 0);
    got("recv 1", sv[1], 63, 0);
    got("recv 2", sv[1], 63, 0);
    got("recv empty message", sv[1], 63, 0);
    got("recv 4", sv[1], 63, 0);
    got("recv nothing left", sv[1], 63, MSG_DONTWAIT);
    send(sv[1], "abcdefghij", 10, 0);
    send(sv[1], "next", 4, 0);
    got("short buffer of 4", sv[0], 4, 0);
    got("rest was dropped", sv[0], 63, 0);
    send(sv[1], "0123456789", 10, 0);
    msg("recvmsg into 4", sv[0], 4);
    send(sv[1], "fits", 4, 0);
    msg("recvmsg that fits", sv[0], 63);
    send(sv[1], "0123456789", 10, 0);
    got("recv MSG_TRUNC into 4 gives the real length", sv[0], 4, MSG_TRUNC);
    send(sv[1], "peeked", 6, 0);
    got("peek 3", sv[0], 3, MSG_PEEK);
    got("then recv", sv[0], 63, 0);
    send(sv[0], "left", 4, 0);
    close(sv[0]);
    struct pollfd p = {.fd = sv[1], .events = POLLIN | POLLOUT};
    int r = poll(&p, 1, 0);
    printf("  poll after peer's close: %d%s%s%s\n", r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLHUP ? " HUP" : "");
    got("queued message survives", sv[1], 63, 0);
    got("then", sv[1], 63, MSG_DONTWAIT);
    show("send to the closed peer", send(sv[1], "x", 1, 0));
    show("send again", send(sv[1], "x", 1, 0));
    close(sv[1]);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    run(SOCK_DGRAM, "SOCK_DGRAM");
    run(SOCK_SEQPACKET, "SOCK_SEQPACKET");
    return 0;
}
