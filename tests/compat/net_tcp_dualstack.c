// Dual-stack TCP: an AF_INET6 listener on :: with IPV6_V6ONLY off takes an IPv4 client and a client of ::ffff:127.0.0.1, and names them as IPv4-mapped addresses.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show_peer(int s) {
    struct sockaddr_in6 p;
    socklen_t len = sizeof p;
    getpeername(s, (struct sockaddr *)&p, &len);
    char buf[64];
    inet_ntop(AF_INET6, &p.sin6_addr, buf, sizeof buf);
    printf("peer family %d len %u addr %s port set %d\n", p.sin6_family, len, buf, p.sin6_port != 0);
}

int main(void) {
    int srv = socket(AF_INET6, SOCK_STREAM, 0);
    int off = 0;
    printf("V6ONLY off: %d\n", setsockopt(srv, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off));
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    printf("bind ::: %d\n", bind(srv, (struct sockaddr *)&a, sizeof a));
    listen(srv, 4);
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    char buf[64];
    inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
    printf("listening on family %d addr %s len %u\n", a.sin6_family, buf, len);
    int dom = 0;
    len = sizeof dom;
    getsockopt(srv, SOL_SOCKET, SO_DOMAIN, &dom, &len);
    printf("SO_DOMAIN: %d\n", dom);
    int c4 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = a.sin6_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    printf("IPv4 client connects: %d\n", connect(c4, (struct sockaddr *)&v4, sizeof v4));
    int s = accept(srv, NULL, NULL);
    show_peer(s);
    write(c4, "four", 4);
    printf("read: %zd\n", read(s, buf, sizeof buf));
    int c6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = a.sin6_port};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
    printf("mapped client connects: %d\n", connect(c6, (struct sockaddr *)&m, sizeof m));
    int s2 = accept(srv, NULL, NULL);
    show_peer(s2);
    struct sockaddr_in short_addr;
    printf("an AF_INET address on an AF_INET6 socket: %d %s\n", connect(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&v4, sizeof short_addr), strerror(errno));
    return 0;
}
