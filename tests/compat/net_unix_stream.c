// Named AF_UNIX stream socket: bind creates a socket file (S_ISSOCK) that outlives close, listen, a forked child connects by path, accept4 with SOCK_CLOEXEC|SOCK_NONBLOCK, getsockname/getpeername on both ends (an unbound client's name is just the family, length 2).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-net_unix_stream-XXXXXX";
static struct sockaddr_un addr = {.sun_family = AF_UNIX};

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

// 1 if the address is our server's path with the exact length.
static int is_ours(struct sockaddr_un *a, socklen_t len) {
    return len == offsetof(struct sockaddr_un, sun_path) + strlen(addr.sun_path) + 1 && a->sun_family == AF_UNIX &&
           !strcmp(a->sun_path, addr.sun_path);
}

static int child(void) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&addr, sizeof addr) != 0) return 10;
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    if (getpeername(c, (struct sockaddr *)&a, &len) != 0 || !is_ours(&a, len)) return 11;
    len = sizeof a;
    if (getsockname(c, (struct sockaddr *)&a, &len) != 0 || len != sizeof(sa_family_t)) return 12;
    write(c, "ping from child", 15);
    char buf[16] = {0};
    if (read(c, buf, sizeof buf - 1) != 4 || strcmp(buf, "pong")) return 13;
    return 0;
}

int main(void) {
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/server.sock", dir);
    struct stat st;
    show("stat before bind", stat(addr.sun_path, &st));
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind", bind(srv, (struct sockaddr *)&addr, sizeof addr));
    show("stat after bind", stat(addr.sun_path, &st));
    printf("S_ISSOCK: %d, S_ISREG: %d\n", S_ISSOCK(st.st_mode), S_ISREG(st.st_mode));
    show("lstat", lstat(addr.sun_path, &st));
    printf("lstat S_ISSOCK: %d\n", S_ISSOCK(st.st_mode));
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    show("getsockname", getsockname(srv, (struct sockaddr *)&a, &len));
    const char *base = len > offsetof(struct sockaddr_un, sun_path) ? strrchr(a.sun_path, '/') : NULL;
    printf("name is the path: %d, basename %s\n", is_ours(&a, len), base ? base + 1 : "?");
    show("listen", listen(srv, 4));
    int acc = 0;
    len = sizeof acc;
    getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len);
    printf("SO_ACCEPTCONN: %d\n", acc);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(child());
    struct pollfd p = {.fd = srv, .events = POLLIN};
    int r = poll(&p, 1, 10000);
    printf("listener poll: %d, POLLIN: %d\n", r, (p.revents & POLLIN) != 0);
    if (r != 1) goto out;
    len = sizeof a;
    memset(&a, 0x55, sizeof a);
    int s = accept4(srv, (struct sockaddr *)&a, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    show("accept4", s < 0 ? -1 : 0);
    printf("accept4 address length: %u, family unix: %d\n", len, a.sun_family == AF_UNIX);
    printf("FD_CLOEXEC: %d, O_NONBLOCK: %d\n", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(s, F_GETFL) & O_NONBLOCK) != 0);
    printf("listener stays blocking: %d\n", (fcntl(srv, F_GETFL) & O_NONBLOCK) == 0);
    len = sizeof a;
    show("getpeername of accepted", getpeername(s, (struct sockaddr *)&a, &len));
    printf("peer address length: %u\n", len);
    len = sizeof a;
    show("getsockname of accepted", getsockname(s, (struct sockaddr *)&a, &len));
    printf("accepted socket is named like the listener: %d\n", is_ours(&a, len));
    p = (struct pollfd){.fd = s, .events = POLLIN};
    r = poll(&p, 1, 10000);
    printf("poll: %d, POLLIN: %d\n", r, (p.revents & POLLIN) != 0);
    char buf[32] = {0};
    show("read", read(s, buf, sizeof buf - 1));
    printf("got: %s\n", buf);
    show("write", write(s, "pong", 4));
    r = poll(&p, 1, 10000);
    printf("poll for the child's end: %d, POLLIN: %d\n", r, (p.revents & POLLIN) != 0);
    show("read after the child's end", read(s, buf, sizeof buf));
    close(s);
out:;
    int wst = 0;
    waitpid(pid, &wst, 0);
    printf("child exit: %d\n", WEXITSTATUS(wst));
    close(srv);
    show("socket file still there after close", stat(addr.sun_path, &st));
    show("unlink", unlink(addr.sun_path));
    show("rmdir", rmdir(dir));
    return 0;
}
