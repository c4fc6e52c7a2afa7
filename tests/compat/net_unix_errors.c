// AF_UNIX errors: a wrong sun_family, over-long and short addresses, bad socket types and protocols (SOCK_RAW is taken as SOCK_DGRAM), listen on a datagram or unbound socket, accept without listen, recv/send unconnected, EPROTOTYPE across types, EISCONN, bind twice, a bad shutdown.
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-net_unix_errors-XXXXXX";

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }
static int stream(void) { return socket(AF_UNIX, SOCK_STREAM, 0); }

int main(void) {
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    struct sockaddr_un a = {.sun_family = AF_UNIX}, d = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/listener", dir);
    snprintf(d.sun_path, sizeof d.sun_path, "%s/dgram", dir);
    int srv = stream();
    show("bind", bind(srv, (struct sockaddr *)&a, sizeof a));
    show("bind twice", bind(srv, (struct sockaddr *)&d, sizeof d));
    show("listen", listen(srv, 4));
    struct sockaddr_un bad = a;
    bad.sun_family = AF_INET;
    show("connect with sun_family AF_INET", connect(stream(), (struct sockaddr *)&bad, sizeof bad));
    show("bind with sun_family AF_INET", bind(stream(), (struct sockaddr *)&bad, sizeof bad));
    show("connect with an address of 1 byte", connect(stream(), (struct sockaddr *)&a, 1));
    show("connect with only the family", connect(stream(), (struct sockaddr *)&a, sizeof(sa_family_t)));
    char big[256];
    memset(big, 'x', sizeof big);
    ((struct sockaddr_un *)big)->sun_family = AF_UNIX;
    big[2] = '/';
    show("connect with a 120-byte path", connect(stream(), (struct sockaddr *)big, offsetof(struct sockaddr_un, sun_path) + 120));
    show("bind with a 120-byte path", bind(stream(), (struct sockaddr *)big, offsetof(struct sockaddr_un, sun_path) + 120));
    show("connect with a 108-byte path, no NUL", connect(stream(), (struct sockaddr *)big, sizeof(struct sockaddr_un)));
    show("socket type 99", socket(AF_UNIX, 99, 0));
    show("socket protocol 5", socket(AF_UNIX, SOCK_STREAM, 5));
    show("socketpair protocol 5", socketpair(AF_UNIX, SOCK_STREAM, 5, (int[2]){0}));
    show("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}));
    int raw = socket(AF_UNIX, SOCK_RAW, 0);
    int type = 0;
    socklen_t len = sizeof type;
    getsockopt(raw, SOL_SOCKET, SO_TYPE, &type, &len);
    printf("socket SOCK_RAW: %s, SO_TYPE is SOCK_DGRAM: %d\n", raw < 0 ? strerror(errno) : "ok", type == SOCK_DGRAM);
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    show("bind dgram", bind(dg, (struct sockaddr *)&d, sizeof d));
    show("listen on SOCK_DGRAM", listen(dg, 1));
    show("accept on SOCK_DGRAM", accept(dg, NULL, NULL));
    show("listen on an unbound stream socket", listen(stream(), 1));
    int c = stream();
    show("accept on an unlistened stream socket", accept(c, NULL, NULL));
    show("recv on an unconnected stream socket", recv(c, big, 1, MSG_DONTWAIT));
    show("send on an unconnected stream socket", send(c, "x", 1, MSG_NOSIGNAL));
    struct sockaddr_un peer;
    len = sizeof peer;
    show("getpeername unconnected", getpeername(c, (struct sockaddr *)&peer, &len));
    show("connect a stream socket to a dgram path", connect(c, (struct sockaddr *)&d, sizeof d));
    show("connect a dgram socket to a stream path", connect(socket(AF_UNIX, SOCK_DGRAM, 0), (struct sockaddr *)&a, sizeof a));
    show("sendto a stream path from dgram", sendto(socket(AF_UNIX, SOCK_DGRAM, 0), "x", 1, 0, (struct sockaddr *)&a, sizeof a));
    show("connect", connect(c, (struct sockaddr *)&a, sizeof a));
    show("connect again", connect(c, (struct sockaddr *)&a, sizeof a));
    show("sendto with an address on a connected stream", sendto(c, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a));
    show("connect a listening socket", connect(srv, (struct sockaddr *)&a, sizeof a));
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    show("connect a socketpair end", connect(sv[0], (struct sockaddr *)&a, sizeof a));
    show("listen on a socketpair end", listen(sv[0], 1));
    show("shutdown with how 7", shutdown(sv[0], 7));
    show("sendto dgram with no address, unconnected", sendto(dg, "x", 1, 0, NULL, 0));
    unlink(a.sun_path);
    unlink(d.sun_path);
    show("rmdir", rmdir(dir));
    return 0;
}
