// TCP shutdown: after SHUT_WR writes fail with EPIPE (SIGPIPE ignored) while reads go on; the peer reads end of file and can still answer; MSG_NOSIGNAL; close of an unread connection.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(srv, (struct sockaddr *)&s, sizeof s);
    socklen_t len = sizeof s;
    getsockname(srv, (struct sockaddr *)&s, &len);
    listen(srv, 2);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    connect(a, (struct sockaddr *)&s, sizeof s);
    int b = accept(srv, NULL, NULL);
    printf("shutdown(SHUT_WR): %d\n", shutdown(a, SHUT_WR));
    ssize_t w = write(a, "x", 1);
    printf("write after SHUT_WR: %zd %s\n", w, strerror(errno));
    w = send(a, "x", 1, MSG_NOSIGNAL);
    printf("send MSG_NOSIGNAL after SHUT_WR: %zd %s\n", w, strerror(errno));
    char buf[32];
    printf("peer reads end: %zd\n", read(b, buf, sizeof buf));
    printf("peer answers: %zd\n", write(b, "still here", 10));
    ssize_t n = read(a, buf, sizeof buf);
    printf("half-closed side reads: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
    close(b);
    printf("then end: %zd\n", read(a, buf, sizeof buf));
    close(a);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&s, sizeof s);
    int d = accept(srv, NULL, NULL);
    write(c, "unread", 6);
    printf("close with unread data: %d\n", close(d));
    usleep(100000);
    int r = shutdown(c, SHUT_RDWR);
    printf("shutdown(SHUT_RDWR) of the reset connection: %d %s\n", r, strerror(errno));
    r = shutdown(socket(AF_INET, SOCK_STREAM, 0), SHUT_RD);
    printf("shutdown of an unconnected socket: %d %s\n", r, strerror(errno));
    return 0;
}
