// TCP errors: ECONNREFUSED, EADDRINUSE, ENOTCONN, EISCONN, EINVAL for accept on a non-listener, ENOTSOCK, EAFNOSUPPORT for a bad sockaddr family.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

int main(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    show("bind", bind(srv, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    show("listen", listen(srv, 1));
    int other = socket(AF_INET, SOCK_STREAM, 0);
    show("bind same port", bind(other, (struct sockaddr *)&a, sizeof a));
    close(other);
    // A port known to be closed: bound by a socket that is gone.
    struct sockaddr_in closed = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int t = socket(AF_INET, SOCK_STREAM, 0);
    bind(t, (struct sockaddr *)&closed, sizeof closed);
    len = sizeof closed;
    getsockname(t, (struct sockaddr *)&closed, &len);
    close(t);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    show("connect to a closed port", connect(c, (struct sockaddr *)&closed, sizeof closed));
    close(c);
    c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in peer;
    len = sizeof peer;
    show("getpeername unconnected", getpeername(c, (struct sockaddr *)&peer, &len));
    show("accept on a non-listener", accept(c, NULL, NULL));
    show("connect", connect(c, (struct sockaddr *)&a, sizeof a));
    show("connect again", connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in bad = a;
    bad.sin_family = 12345;
    int d = socket(AF_INET, SOCK_STREAM, 0);
    show("connect with a bad family", connect(d, (struct sockaddr *)&bad, sizeof bad));
    show("bind with a short address", bind(d, (struct sockaddr *)&a, 4));
    show("listen on a pipe", ({ int p[2]; pipe(p); listen(p[0], 1); }));
    show("socket with a bad type", socket(AF_INET, 99, 0));
    int s = accept(srv, NULL, NULL);
    show("accept", s >= 0 ? 0 : -1);
    show("shutdown bad how", shutdown(s, 7));
    return 0;
}
