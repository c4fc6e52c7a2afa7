// TCP benchmarks.
// Over 127.0.0.1 between a process and its forked child:
//   `tcp stream MIB`: prints the throughput in Gbit/s of MIB MiB one way.
//   `tcp rr N`: prints the median round trip in microseconds of N 1-byte
//   request/response exchanges.
// Between two programs (two machines of a cloud, or two host processes):
//   `tcp serve PORT`: serves clients one after another, forever.
//   `tcp client ADDR PORT stream MIB` / `tcp client ADDR PORT rr N`: as
//   above, against a server; the server acknowledges the end of a stream.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int serve(int port) {
    int srv = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(srv, (struct sockaddr *)&a, sizeof a) || listen(srv, 8)) return 3;
    static char buf[256 << 10];
    for (;;) {
        int s = accept(srv, NULL, NULL);
        if (s < 0) continue;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char mode;
        if (read(s, &mode, 1) == 1) {
            ssize_t r;
            if (mode == 's') {
                while ((r = read(s, buf, sizeof buf)) > 0) {}
                write(s, "k", 1);
            } else {
                while ((r = read(s, buf, sizeof buf)) > 0)
                    if (write(s, buf, r) != r) break;
            }
        }
        close(s);
    }
}

static int client(const char *addr, int port, const char *mode, long n) {
    int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) return 2;
    for (int i = 0; connect(c, (struct sockaddr *)&a, sizeof a); i++) {
        if (i == 100) return 4;
        close(c);
        c = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        usleep(50000);
    }
    if (!strcmp(mode, "stream")) {
        static char buf[256 << 10];
        long left = n << 20;
        double t0 = now();
        if (write(c, "s", 1) != 1) return 5;
        while (left > 0) {
            ssize_t w = write(c, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
            if (w <= 0) return 5;
            left -= w;
        }
        shutdown(c, SHUT_WR);
        char k;
        if (read(c, &k, 1) != 1) return 6;
        printf("%.3f\n", (double)(n << 20) * 8 / (now() - t0) / 1e9);
        return 0;
    }
    double *rt = malloc(n * sizeof *rt);
    char b = 'r';
    if (write(c, &b, 1) != 1) return 5;
    for (long i = 0; i < n; i++) {
        double t0 = now();
        if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1) return 7;
        rt[i] = (now() - t0) * 1e6;
    }
    qsort(rt, n, sizeof *rt, cmp);
    printf("%.1f\n", rt[n / 2]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "serve")) return serve(atoi(argv[2]));
    if (argc == 6 && !strcmp(argv[1], "client")) return client(argv[2], atoi(argv[3]), argv[4], atol(argv[5]));
    if (argc != 3) return 2;
    long n = atol(argv[2]);
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(srv, (struct sockaddr *)&a, sizeof a) || listen(srv, 1)) return 3;
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    int one = 1;
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c, (struct sockaddr *)&a, sizeof a)) return 4;
        if (!strcmp(argv[1], "stream")) {
            static char buf[256 << 10];
            long left = n << 20;
            while (left > 0) {
                ssize_t w = write(c, buf, left < (long)sizeof buf ? left : (long)sizeof buf);
                if (w <= 0) return 5;
                left -= w;
            }
        } else {
            char b = 0;
            for (long i = 0; i < n; i++)
                if (read(c, &b, 1) != 1 || write(c, &b, 1) != 1) return 6;
        }
        close(c);
        return 0;
    }
    int s = accept(srv, NULL, NULL);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!strcmp(argv[1], "stream")) {
        static char buf[256 << 10];
        long got = 0;
        double t0 = now();
        ssize_t r;
        while ((r = read(s, buf, sizeof buf)) > 0) got += r;
        double t = now() - t0;
        printf("%.3f\n", got * 8 / t / 1e9);
    } else {
        double *rt = malloc(n * sizeof *rt);
        char b = 1;
        for (long i = 0; i < n; i++) {
            double t0 = now();
            if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) return 7;
            rt[i] = (now() - t0) * 1e6;
        }
        qsort(rt, n, sizeof *rt, cmp);
        printf("%.1f\n", rt[n / 2]);
    }
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
