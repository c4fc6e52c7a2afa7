// UDP errors: EADDRINUSE (and SO_REUSEADDR on both sockets), EINVAL for a second bind, EDESTADDRREQ, EMSGSIZE past 65507 bytes, EAFNOSUPPORT, EOPNOTSUPP for listen/accept, ENOTCONN for shutdown, EPROTONOSUPPORT.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static int udp(void) { return socket(AF_INET, SOCK_DGRAM, 0); }

static int reuse(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

int main(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = udp();
    show("bind", bind(s, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    show("bind the same socket again", bind(s, (struct sockaddr *)&a, sizeof a));
    int t = udp();
    show("bind the same port", bind(t, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in any = a;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    show("bind the same port on INADDR_ANY", bind(t, (struct sockaddr *)&any, sizeof any));
    show("SO_REUSEADDR on the second only", reuse(t));
    show("bind the same port", bind(t, (struct sockaddr *)&a, sizeof a));
    close(t);

    struct sockaddr_in r = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r1 = udp(), r2 = udp();
    show("SO_REUSEADDR on the first", reuse(r1));
    show("SO_REUSEADDR on the second", reuse(r2));
    show("bind first", bind(r1, (struct sockaddr *)&r, sizeof r));
    len = sizeof r;
    getsockname(r1, (struct sockaddr *)&r, &len);
    show("bind second to the same port", bind(r2, (struct sockaddr *)&r, sizeof r));
    int v = 0;
    len = sizeof v;
    getsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &v, &len);
    printf("SO_REUSEADDR reads back: %d\n", v != 0);
    close(r1), close(r2);

    int c = udp();
    show("sendto without an address", sendto(c, "x", 1, 0, NULL, 0));
    show("send unconnected", send(c, "x", 1, 0));
    show("sendto with a short address", sendto(c, "x", 1, 0, (struct sockaddr *)&a, 4));
    struct sockaddr_in bad = a;
    bad.sin_family = 12345;
    show("sendto with a bad family", sendto(c, "x", 1, 0, (struct sockaddr *)&bad, sizeof bad));
    show("bind with a bad family", bind(c, (struct sockaddr *)&bad, sizeof bad));
    show("bind with a short address", bind(c, (struct sockaddr *)&a, 4));
    show("connect with a bad family", connect(c, (struct sockaddr *)&bad, sizeof bad));
    show("listen", listen(c, 1));
    show("accept", accept(c, NULL, NULL));
    show("shutdown unconnected", shutdown(c, SHUT_RDWR));
    close(c);
    show("socket with IPPROTO_TCP", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));

    // 65507 bytes is the largest UDP payload over IPv4.
    static char big[70000], in[70000];
    memset(big, 'b', sizeof big);
    int u = udp();
    show("sendto 65508 bytes", sendto(u, big, 65508, 0, (struct sockaddr *)&a, sizeof a));
    show("sendto 70000 bytes", sendto(u, big, 70000, 0, (struct sockaddr *)&a, sizeof a));
    show("sendto 65507 bytes", sendto(u, big, 65507, 0, (struct sockaddr *)&a, sizeof a));
    struct pollfd p = {.fd = s, .events = POLLIN};
    poll(&p, 1, 5000);
    int n = recv(s, in, sizeof in, MSG_DONTWAIT);
    printf("received: %d intact %d\n", n, n == 65507 && !memcmp(big, in, n));
    show("connect", connect(u, (struct sockaddr *)&a, sizeof a));
    show("send 65508 bytes connected", send(u, big, 65508, 0));
    len = sizeof v;
    getsockopt(u, SOL_SOCKET, SO_ERROR, &v, &len);
    printf("SO_ERROR: %d\n", v);
    show("recv with nothing queued", recv(s, in, sizeof in, MSG_DONTWAIT));
    return 0;
}
