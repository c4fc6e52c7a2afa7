// AF_UNIX stream socketpair shared with a forked child: the child speaks first, echoes lines upper-cased, counts 1 MiB until the parent's half-close and answers; the parent sees the child's end of file and exit status.
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static long readline(int fd, char *buf, long size) {
    long n = 0;
    while (n < size - 1 && read(fd, buf + n, 1) == 1)
        if (buf[n++] == '\n') break;
    buf[n] = 0;
    return n;
}

static int child(int fd) {
    char line[128];
    write(fd, "hello from child\n", 17);
    for (;;) {
        if (readline(fd, line, sizeof line) <= 0) return 10;
        if (!strcmp(line, "bulk\n")) break;
        for (char *p = line; *p; p++) *p = toupper((unsigned char)*p);
        write(fd, line, strlen(line));
    }
    static char buf[65536];
    long total = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (long i = 0; i < n; i++) total += buf[i] == 'x';
    if (n < 0) return 11;
    n = snprintf(buf, sizeof buf, "child counted %ld\n", total);
    write(fd, buf, n);
    return 3;
}

int main(void) {
    int sv[2];
    printf("socketpair: %d\n", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(child(sv[1]));
    }
    close(sv[1]);
    int fd = sv[0];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 10000);
    printf("poll for the child's greeting: %d, POLLIN: %d\n", r, (p.revents & POLLIN) != 0);
    char line[128];
    readline(fd, line, sizeof line);
    printf("got: %s", line);
    const char *words[] = {"one\n", "two words\n", "Mixed Case 3\n"};
    for (int i = 0; i < 3; i++) {
        write(fd, words[i], strlen(words[i]));
        readline(fd, line, sizeof line);
        printf("echo: %s", line);
    }
    write(fd, "bulk\n", 5);
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    long sent = 0;
    while (sent < (long)sizeof buf) {
        long n = write(fd, buf + sent, sizeof buf - sent);
        if (n <= 0) { printf("write failed: %s\n", strerror(errno)); break; }
        sent += n;
    }
    printf("sent %ld\n", sent);
    printf("shutdown SHUT_WR: %d\n", shutdown(fd, SHUT_WR));
    long n = readline(fd, line, sizeof line);
    printf("reply (%ld): %s", n, line);
    printf("then end of file: %zd\n", read(fd, line, sizeof line));
    int st = 0;
    printf("waitpid: %d\n", waitpid(pid, &st, 0) == pid);
    printf("child exited: %d, status %d\n", WIFEXITED(st), WEXITSTATUS(st));
    close(fd);
    return 0;
}
