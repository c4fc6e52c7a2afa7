// Non-blocking TCP: accept and read give EAGAIN, connect gives EINPROGRESS then POLLOUT with SO_ERROR 0, poll sees POLLIN for data and for the peer's close.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bind(srv, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    listen(srv, 4);
    int r = accept(srv, NULL, NULL);
    printf("accept with nothing pending: %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
    r = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("connect: %d %s\n", r, r == 0 ? "at once" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
    struct pollfd pc = {.fd = c, .events = POLLOUT};
    printf("poll for POLLOUT: %d, POLLOUT set: %d\n", poll(&pc, 1, 5000), (pc.revents & POLLOUT) != 0);
    int err = -1;
    len = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    printf("SO_ERROR: %d\n", err);
    struct pollfd ps = {.fd = srv, .events = POLLIN};
    printf("listener readable: %d\n", poll(&ps, 1, 5000) == 1 && (ps.revents & POLLIN));
    int s = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
    printf("accept4: %d\n", s >= 0);
    char buf[16];
    r = read(s, buf, sizeof buf);
    printf("read with nothing there: %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    r = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    printf("recv MSG_DONTWAIT: %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    struct pollfd p0 = {.fd = s, .events = POLLIN};
    printf("poll 0 ms with nothing there: %d\n", poll(&p0, 1, 0));
    write(c, "hello", 5);
    printf("poll after data: %d, POLLIN: %d\n", poll(&p0, 1, 5000), (p0.revents & POLLIN) != 0);
    r = recv(s, buf, 2, MSG_PEEK);
    printf("peek: %d %.2s\n", r, buf);
    r = read(s, buf, sizeof buf);
    printf("read: %d %.5s\n", r, buf);
    close(c);
    printf("poll after close: %d, POLLIN: %d\n", poll(&p0, 1, 5000), (p0.revents & POLLIN) != 0);
    printf("read at end: %zd\n", read(s, buf, sizeof buf));
    return 0;
}
