// TCP socket options and a refused non-blocking connect: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN before and after listen, EINPROGRESS then POLLERR with SO_ERROR ECONNREFUSED read once.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int opt(int s, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(s, level, name, &v, &len)) return -errno;
    return v;
}

int main(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    printf("SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d\n", opt(s, SOL_SOCKET, SO_TYPE), opt(s, SOL_SOCKET, SO_DOMAIN),
           opt(s, SOL_SOCKET, SO_PROTOCOL));
    printf("SO_ACCEPTCONN before listen: %d\n", opt(s, SOL_SOCKET, SO_ACCEPTCONN));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 1);
    printf("SO_ACCEPTCONN after listen: %d\n", opt(s, SOL_SOCKET, SO_ACCEPTCONN));
    printf("SO_ERROR of a listener: %d\n", opt(s, SOL_SOCKET, SO_ERROR));
    // A port known to be closed.
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in closed = a;
    bind(t, (struct sockaddr *)&closed, sizeof closed);
    socklen_t len = sizeof closed;
    getsockname(t, (struct sockaddr *)&closed, &len);
    close(t);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr *)&closed, sizeof closed);
    printf("connect: %d %s\n", r, r == 0 ? "ok" : (errno == EINPROGRESS || errno == ECONNREFUSED) ? "in progress or refused" : strerror(errno));
    struct pollfd p = {.fd = c, .events = POLLOUT};
    poll(&p, 1, 5000);
    printf("POLLOUT %d POLLERR %d POLLHUP %d\n", !!(p.revents & POLLOUT), !!(p.revents & POLLERR), !!(p.revents & POLLHUP));
    int e = opt(c, SOL_SOCKET, SO_ERROR);
    printf("SO_ERROR: %s\n", strerror(e));
    printf("SO_ERROR again: %d\n", opt(c, SOL_SOCKET, SO_ERROR));
    return 0;
}
