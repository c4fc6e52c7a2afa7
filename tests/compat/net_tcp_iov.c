// Vectored TCP I/O: writev and sendmsg of several buffers arrive as one stream; readv and recvmsg scatter it; recvmsg reports no flags; MSG_WAITALL collects a whole message; select() sees readability.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(srv, (struct sockaddr *)&s, sizeof s);
    socklen_t len = sizeof s;
    getsockname(srv, (struct sockaddr *)&s, &len);
    listen(srv, 1);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    connect(a, (struct sockaddr *)&s, sizeof s);
    int b = accept(srv, NULL, NULL);
    struct iovec w[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
    printf("writev: %zd\n", writev(a, w, 3));
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(b, &rd);
    struct timeval tv = {5, 0};
    printf("select: %d readable %d\n", select(b + 1, &rd, NULL, NULL, &tv), FD_ISSET(b, &rd));
    char x[6] = {0}, y[8] = {0};
    struct iovec r[2] = {{x, 5}, {y, 7}};
    char all[16] = {0};
    ssize_t n = recv(b, all, 13, MSG_WAITALL);
    printf("recv MSG_WAITALL: %zd '%s'\n", n, all);
    struct msghdr m = {0};
    struct iovec sw[2] = {{"abcde", 5}, {"fghijkl", 7}};
    m.msg_iov = sw;
    m.msg_iovlen = 2;
    printf("sendmsg: %zd\n", sendmsg(a, &m, 0));
    size_t got = 0;
    while (got < 12) {
        ssize_t k = readv(b, r, 2);
        if (k <= 0) break;
        got += k;
        break;
    }
    printf("readv: %zu '%s' '%s'\n", got, x, y);
    write(a, "tail", 4);
    char t[8] = {0};
    struct iovec ti = {t, sizeof t - 1};
    struct msghdr rm = {.msg_iov = &ti, .msg_iovlen = 1};
    n = recvmsg(b, &rm, MSG_WAITALL & 0);
    printf("recvmsg: %zd '%s' flags %d\n", n, t, rm.msg_flags);
    return 0;
}
