// Connected UDP: send/write/read without addresses, getpeername, datagrams from other ports are filtered out, connect to AF_UNSPEC dissolves the association (ENOTCONN, EDESTADDRREQ after).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

// A socket bound to 127.0.0.1 and a free port; with `explicit` the port is named in bind (found via a probe socket).
static int bound(struct sockaddr_in *a, int explicit) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof *a;
    if (explicit) {
        int probe = socket(AF_INET, SOCK_DGRAM, 0);
        bind(probe, (struct sockaddr *)a, sizeof *a);
        getsockname(probe, (struct sockaddr *)a, &len);
        close(probe);
    }
    bind(fd, (struct sockaddr *)a, sizeof *a);
    getsockname(fd, (struct sockaddr *)a, &len);
    return fd;
}

// Waits up to `ms` for a datagram on fd and prints it with whether it came from `port`.
static void take(const char *what, int fd, int ms, in_port_t port) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1) {
        printf("%s: nothing\n", what);
        return;
    }
    char buf[64];
    struct sockaddr_in src;
    socklen_t len = sizeof src;
    int n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    printf("%s: %d \"%.*s\" from the expected port %d\n", what, n, n > 0 ? n : 0, buf, src.sin_port == port);
}

int main(void) {
    struct sockaddr_in aa, ab, ao, peer;
    int a = bound(&aa, 1), b = bound(&ab, 0), o = bound(&ao, 0);
    socklen_t len = sizeof peer;
    show("getpeername before connect", getpeername(a, (struct sockaddr *)&peer, &len));
    show("send before connect", send(a, "x", 1, 0));
    show("connect a to b", connect(a, (struct sockaddr *)&ab, sizeof ab));
    len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    show("getpeername", getpeername(a, (struct sockaddr *)&peer, &len));
    printf("peer: len %d %s is b %d\n", (int)len, inet_ntoa(peer.sin_addr), peer.sin_port == ab.sin_port);
    struct sockaddr_in self;
    len = sizeof self;
    getsockname(a, (struct sockaddr *)&self, &len);
    printf("own name kept: %s same port %d\n", inet_ntoa(self.sin_addr), self.sin_port == aa.sin_port);

    show("send", send(a, "via send", 8, 0));
    take("b got", b, 5000, aa.sin_port);
    show("write", write(a, "via write", 9));
    take("b got", b, 5000, aa.sin_port);
    // sendto with the peer's own address is allowed on a connected socket.
    show("sendto b explicitly", sendto(a, "to b", 4, 0, (struct sockaddr *)&ab, sizeof ab));
    take("b got", b, 5000, aa.sin_port);

    // Only the peer can reach a: o's datagram is dropped, b's arrives.
    show("o sendto a", sendto(o, "from o", 6, 0, (struct sockaddr *)&aa, sizeof aa));
    show("b sendto a", sendto(b, "from b", 6, 0, (struct sockaddr *)&aa, sizeof aa));
    char buf[64];
    struct pollfd p = {.fd = a, .events = POLLIN};
    int n = poll(&p, 1, 5000) == 1 ? read(a, buf, sizeof buf) : -2;
    printf("a read: %d \"%.*s\"\n", n, n > 0 ? n : 0, buf);
    take("a then", a, 100, ab.sin_port);

    // Connecting again to another address replaces the peer.
    show("connect a to o", connect(a, (struct sockaddr *)&ao, sizeof ao));
    len = sizeof peer;
    getpeername(a, (struct sockaddr *)&peer, &len);
    printf("peer is o now: %d\n", peer.sin_port == ao.sin_port);
    show("b sendto a", sendto(b, "b again", 7, 0, (struct sockaddr *)&aa, sizeof aa));
    show("o sendto a", sendto(o, "o again", 7, 0, (struct sockaddr *)&aa, sizeof aa));
    take("a got", a, 5000, ao.sin_port);
    take("a then", a, 100, ao.sin_port);

    // AF_UNSPEC dissolves the association; a keeps the port it named in bind.
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    show("connect AF_UNSPEC", connect(a, &un, sizeof un));
    len = sizeof peer;
    show("getpeername after", getpeername(a, (struct sockaddr *)&peer, &len));
    show("send after", send(a, "x", 1, 0));
    len = sizeof self;
    getsockname(a, (struct sockaddr *)&self, &len);
    printf("still bound to the same port: %d\n", self.sin_port == aa.sin_port);
    show("b sendto a", sendto(b, "b is back", 9, 0, (struct sockaddr *)&aa, sizeof aa));
    take("a got", a, 5000, ab.sin_port);
    show("sendto o", sendto(a, "hi o", 4, 0, (struct sockaddr *)&ao, sizeof ao));
    take("o got", o, 5000, aa.sin_port);
    return 0;
}
