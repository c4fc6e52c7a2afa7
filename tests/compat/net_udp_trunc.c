// UDP datagram edges: a short buffer truncates and drops the rest, recv MSG_TRUNC returns the full length, recvmsg sets MSG_TRUNC in msg_flags, MSG_PEEK leaves the datagram queued.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static int rx, tx;
static struct sockaddr_in to = {.sin_family = AF_INET};

static void put(const char *msg) { sendto(tx, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to); }

// Waits until a datagram is queued on the (non-blocking) receiver.
static void ready(void) {
    struct pollfd p = {.fd = rx, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1) printf("nothing arrived\n");
}

static void send_wait(const char *msg) {
    put(msg);
    ready();
}

static void rmsg(const char *what, char *b1, int l1, char *b2, int l2, int flags) {
    struct iovec iov[2] = {{b1, l1}, {b2, l2}};
    struct sockaddr_in src;
    struct msghdr m = {.msg_name = &src, .msg_namelen = sizeof src, .msg_iov = iov, .msg_iovlen = 2};
    int n = recvmsg(rx, &m, flags);
    printf("%s: %d msg_flags MSG_TRUNC %d namelen %d \"%.*s\"+\"%.*s\"\n", what, n, (m.msg_flags & MSG_TRUNC) != 0,
           (int)m.msg_namelen, l1, b1, l2, b2);
}

int main(void) {
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    bind(rx, (struct sockaddr *)&to, sizeof to);
    socklen_t len = sizeof to;
    getsockname(rx, (struct sockaddr *)&to, &len);
    char buf[64];

    // A buffer shorter than the datagram gets its head; the tail is gone.
    send_wait("0123456789abcdef");
    put("next");
    memset(buf, '.', sizeof buf);
    int n = recv(rx, buf, 6, 0);
    printf("recv 6 of 16: %d \"%.8s\"\n", n, buf);
    ready();
    n = recv(rx, buf, sizeof buf, 0);
    printf("recv next: %d \"%.*s\"\n", n, n, buf);

    // MSG_TRUNC makes recv return the real length of the datagram, copying only what fits.
    send_wait("twenty bytes of text");
    memset(buf, '.', sizeof buf);
    n = recv(rx, buf, 4, MSG_TRUNC);
    printf("recv 4 with MSG_TRUNC: %d \"%.6s\"\n", n, buf);

    // MSG_PEEK|MSG_TRUNC with no buffer gives the size of the next datagram and leaves it queued.
    send_wait("peek at me");
    printf("peek size: %zd\n", recv(rx, NULL, 0, MSG_PEEK | MSG_TRUNC));
    memset(buf, '.', sizeof buf);
    n = recv(rx, buf, 4, MSG_PEEK);
    printf("peek 4: %d \"%.*s\"\n", n, n, buf);
    n = recv(rx, buf, sizeof buf, MSG_PEEK);
    printf("peek all: %d \"%.*s\"\n", n, n, buf);
    n = recv(rx, buf, sizeof buf, 0);
    printf("recv after peeks: %d \"%.*s\"\n", n, n, buf);
    n = recv(rx, buf, sizeof buf, MSG_DONTWAIT);
    printf("queue now empty: %d %s\n", n, n < 0 && errno == EAGAIN ? "EAGAIN" : "?");

    // recvmsg scatters into two buffers and reports truncation in msg_flags.
    char h[4], t[8];
    send_wait("fits:exactly");
    rmsg("recvmsg 12 into 4+8", h, 4, t, 8, 0);
    send_wait("this one is too long");
    rmsg("recvmsg 20 into 4+8", h, 4, t, 8, 0);
    send_wait("peeked, then read");
    rmsg("recvmsg peek 17 into 4+8", h, 4, t, 8, MSG_PEEK);
    rmsg("recvmsg 17 into 4+8", h, 4, t, 8, 0);
    send_wait("");
    rmsg("recvmsg empty", h, 4, t, 8, 0);
    show("recv MSG_DONTWAIT at the end", recv(rx, buf, sizeof buf, MSG_DONTWAIT));
    return 0;
}
