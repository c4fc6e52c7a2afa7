// UDP echo with a forked child server: the client is bound implicitly by its first sendmsg, gathers each request from three iovecs, scatters each reply into two; 50 round trips.
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// Answers each datagram with the sender's port (2 bytes) and the text upper-cased, until "quit".
static int serve(int fd) {
    char buf[2048];
    int served = 0, ports = 0;
    in_port_t last = 0;
    for (;;) {
        struct sockaddr_in src;
        socklen_t len = sizeof src;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) != 1) return 12;
        int n = recvfrom(fd, buf + 2, sizeof buf - 2, 0, (struct sockaddr *)&src, &len);
        if (n < 0) return 10;
        if (n == 4 && !memcmp(buf + 2, "quit", 4)) n = snprintf(buf + 2, sizeof buf - 2, "served %d from %d port(s)", served, ports);
        else served++;
        for (int i = 2; i < n + 2; i++) buf[i] = toupper((unsigned char)buf[i]);
        ports += src.sin_port != last;
        last = src.sin_port;
        memcpy(buf, &src.sin_port, 2);
        if (sendto(fd, buf, n + 2, 0, (struct sockaddr *)&src, len) != n + 2) return 11;
        if (!memcmp(buf + 2, "SERVED", 6)) return served;
    }
}

int main(void) {
    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, me;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    bind(s, (struct sockaddr *)&srv, sizeof srv);
    socklen_t len = sizeof srv;
    getsockname(s, (struct sockaddr *)&srv, &len);
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(c);
        _exit(serve(s));
    }
    close(s);
    len = sizeof me;
    getsockname(c, (struct sockaddr *)&me, &len);
    printf("before the first send: %s port zero %d\n", inet_ntoa(me.sin_addr), me.sin_port == 0);

    int ok = 0, bytes = 0, from_server = 0, port_seen = 0;
    for (int i = 0; i <= 50; i++) {
        char num[16], pad[1024], hdr[2], text[2048];
        memset(pad, 'a' + i % 26, sizeof pad);
        int nl = i < 50 ? snprintf(num, sizeof num, "request %d ", i) : snprintf(num, sizeof num, "quit");
        struct iovec out[3] = {{"", 0}, {num, nl}, {pad, i < 50 ? i * 17 : 0}};
        if (i < 50) out[0] = (struct iovec){"udp ", 4};
        struct msghdr m = {.msg_name = &srv, .msg_namelen = sizeof srv, .msg_iov = out, .msg_iovlen = 3};
        int sent = sendmsg(c, &m, 0);
        if (i == 0) {
            len = sizeof me;
            getsockname(c, (struct sockaddr *)&me, &len);
            printf("after: %s port nonzero %d\n", inet_ntoa(me.sin_addr), me.sin_port != 0);
        }
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1) {
            printf("no reply to %d\n", i);
            break;
        }
        struct sockaddr_in src;
        struct iovec in[2] = {{hdr, 2}, {text, sizeof text - 1}};
        struct msghdr r = {.msg_name = &src, .msg_namelen = sizeof src, .msg_iov = in, .msg_iovlen = 2};
        int n = recvmsg(c, &r, 0);
        from_server += src.sin_port == srv.sin_port && src.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
        port_seen += !memcmp(hdr, &me.sin_port, 2);
        text[n > 2 ? n - 2 : 0] = 0;
        if (i < 3 || i == 50) printf("reply %d: sent %d got %d \"%.40s\"\n", i, sent, n, text);
        int good = n == sent + 2 && !strncmp(text, "UDP REQUEST ", 12) && text[n - 3] == (i ? toupper('a' + i % 26) : ' ');
        ok += i < 50 && good;
        bytes += i < 50 ? n : 0;
    }
    printf("good replies: %d, reply bytes: %d, from the server: %d, server saw our port: %d\n", ok, bytes, from_server, port_seen);
    int st;
    waitpid(pid, &st, 0);
    printf("server exit status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
