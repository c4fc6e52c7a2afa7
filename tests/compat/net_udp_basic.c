// UDP over 127.0.0.1: bind to port 0 and getsockname, SO_TYPE and SO_PROTOCOL, sendto/recvfrom naming the sender, three datagrams keep their boundaries, a zero-length datagram.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static int opt(int fd, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, name, &v, &len);
    return v;
}

// Receives one datagram (waiting at most 5 s) and prints its length, text and whether it came from `from_port`.
static void take(int fd, in_port_t from_port) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1) {
        printf("nothing arrived\n");
        return;
    }
    char buf[256];
    struct sockaddr_in src;
    memset(&src, 0xab, sizeof src);
    socklen_t len = sizeof src;
    int n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    printf("recvfrom: %d \"%.*s\" addrlen %d family AF_INET %d from %s sender port matches %d\n", n, n > 0 ? n : 0, buf,
           (int)len, src.sin_family == AF_INET, inet_ntoa(src.sin_addr), src.sin_port == from_port);
}

int main(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in b = a;
    int sa = socket(AF_INET, SOCK_DGRAM, 0);
    int sb = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    printf("sockets: %d %d\n", sa >= 0, sb >= 0);
    printf("SO_TYPE is SOCK_DGRAM: %d\n", opt(sa, SO_TYPE) == SOCK_DGRAM);
    printf("SO_PROTOCOL is IPPROTO_UDP: %d %d\n", opt(sa, SO_PROTOCOL) == IPPROTO_UDP, opt(sb, SO_PROTOCOL) == IPPROTO_UDP);
    printf("SO_DOMAIN is AF_INET: %d\n", opt(sa, SO_DOMAIN) == AF_INET);
    show("bind a", bind(sa, (struct sockaddr *)&a, sizeof a));
    show("bind b", bind(sb, (struct sockaddr *)&b, sizeof b));
    socklen_t len = sizeof a;
    show("getsockname a", getsockname(sa, (struct sockaddr *)&a, &len));
    printf("a: len %d family AF_INET %d addr %s port nonzero %d\n", (int)len, a.sin_family == AF_INET, inet_ntoa(a.sin_addr), a.sin_port != 0);
    len = sizeof b;
    getsockname(sb, (struct sockaddr *)&b, &len);
    printf("b port nonzero %d, differs from a %d\n", b.sin_port != 0, b.sin_port != a.sin_port);

    show("sendto a->b", sendto(sa, "ping", 4, 0, (struct sockaddr *)&b, sizeof b));
    take(sb, a.sin_port);
    show("sendto b->a", sendto(sb, "pong!", 5, 0, (struct sockaddr *)&a, sizeof a));
    take(sa, b.sin_port);

    // Three datagrams of different sizes stay three datagrams.
    const char *msgs[] = {"x", "a longer datagram", "medium one"};
    for (int i = 0; i < 3; i++) show("sendto", sendto(sa, msgs[i], strlen(msgs[i]), 0, (struct sockaddr *)&b, sizeof b));
    for (int i = 0; i < 3; i++) take(sb, a.sin_port);

    // A zero-length datagram is a datagram: it wakes poll and recvfrom returns 0.
    show("sendto empty", sendto(sb, "", 0, 0, (struct sockaddr *)&a, sizeof a));
    take(sa, b.sin_port);
    show("sendto after empty", sendto(sb, "after", 5, 0, (struct sockaddr *)&a, sizeof a));
    take(sa, b.sin_port);
    show("write a->b unconnected", write(sa, "w", 1));
    show("close a", close(sa));
    show("close b", close(sb));
    return 0;
}
