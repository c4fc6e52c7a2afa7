// Many TCP connections at once: 40 non-blocking clients connect to one listener with a backlog of 64, all are accepted, each echo matches its client, and closing them all leaves the listener working.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define N 40

int main(void) {
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(srv, (struct sockaddr *)&s, sizeof s);
    socklen_t len = sizeof s;
    getsockname(srv, (struct sockaddr *)&s, &len);
    listen(srv, 64);
    int c[N], sv[N];
    int inprogress = 0;
    for (int i = 0; i < N; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(c[i], (struct sockaddr *)&s, sizeof s) < 0 && errno == EINPROGRESS) inprogress++;
    }
    printf("connects started: %d\n", N);
    int accepted = 0;
    for (int i = 0; i < N; i++) {
        sv[i] = accept(srv, NULL, NULL);
        accepted += sv[i] >= 0;
    }
    printf("accepted: %d\n", accepted);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        struct pollfd p = {.fd = c[i], .events = POLLOUT};
        poll(&p, 1, 5000);
        char msg[16];
        int m = snprintf(msg, sizeof msg, "client %d", i);
        write(c[i], msg, m);
    }
    // Each accepted socket echoes what it got; match echoes by content.
    for (int i = 0; i < N; i++) {
        char buf[32] = {0};
        ssize_t n = read(sv[i], buf, sizeof buf - 1);
        write(sv[i], buf, n > 0 ? n : 0);
    }
    for (int i = 0; i < N; i++) {
        char want[16], got[32] = {0};
        snprintf(want, sizeof want, "client %d", i);
        struct pollfd p = {.fd = c[i], .events = POLLIN};
        poll(&p, 1, 5000);
        read(c[i], got, sizeof got - 1);
        ok += strcmp(want, got) == 0;
    }
    printf("echoes matching: %d\n", ok);
    for (int i = 0; i < N; i++) close(c[i]), close(sv[i]);
    int late = socket(AF_INET, SOCK_STREAM, 0);
    printf("a late client connects: %d\n", connect(late, (struct sockaddr *)&s, sizeof s));
    printf("and is accepted: %d\n", accept(srv, NULL, NULL) >= 0);
    return 0;
}
