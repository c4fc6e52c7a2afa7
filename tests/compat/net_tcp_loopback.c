// TCP over 127.0.0.1: bind to port 0, getsockname, a forked client sends 1 MiB and half-closes, the server counts and answers, both see the other's end.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    printf("setsockopt SO_REUSEADDR: %d\n", setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    printf("bind: %d\n", bind(srv, (struct sockaddr *)&a, sizeof a));
    printf("listen: %d\n", listen(srv, 4));
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    printf("bound to loopback: %d, port set: %d, len %u\n", a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), a.sin_port != 0, len);
    int type = 0;
    len = sizeof type;
    getsockopt(srv, SOL_SOCKET, SO_TYPE, &type, &len);
    printf("SO_TYPE stream: %d\n", type == SOCK_STREAM);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) return 10;
        static char buf[1 << 20];
        memset(buf, 'x', sizeof buf);
        size_t sent = 0;
        while (sent < sizeof buf) {
            ssize_t n = write(c, buf + sent, sizeof buf - sent);
            if (n <= 0) return 11;
            sent += n;
        }
        shutdown(c, SHUT_WR);
        char reply[64] = {0};
        ssize_t n = read(c, reply, sizeof reply - 1);
        printf("client got: %s (%zd)\n", reply, n);
        printf("client then reads end: %zd\n", read(c, reply, sizeof reply));
        return 0;
    }
    struct sockaddr_in peer;
    len = sizeof peer;
    int s = accept(srv, (struct sockaddr *)&peer, &len);
    printf("accept: %d, peer loopback: %d, len %u\n", s >= 0, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK), len);
    struct sockaddr_in p2;
    len = sizeof p2;
    getpeername(s, (struct sockaddr *)&p2, &len);
    printf("getpeername matches accept: %d\n", p2.sin_port == peer.sin_port && p2.sin_addr.s_addr == peer.sin_addr.s_addr);
    char buf[65536];
    long total = 0;
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0) total += n;
    printf("server read %ld bytes, then %zd\n", total, n);
    char msg[64];
    int m = snprintf(msg, sizeof msg, "got %ld", total);
    write(s, msg, m);
    close(s);
    int st;
    waitpid(pid, &st, 0);
    fflush(stdout);
    printf("client exit: %d\n", WEXITSTATUS(st));
    close(srv);
    return 0;
}
