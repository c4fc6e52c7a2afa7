// AF_UNIX path names (relative to the cwd): EADDRINUSE for an existing path, ENOENT without a file, ECONNREFUSED for a closed socket's file or a regular file, unlink then rebind, a renamed socket file still connects, non-blocking connects in one process and epoll on the listener.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-net_unix_paths-XXXXXX";

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static struct sockaddr_un at(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    return a;
}
static int bindto(int fd, const char *path) { struct sockaddr_un a = at(path); return bind(fd, (struct sockaddr *)&a, sizeof a); }
static int connectto(int fd, const char *path) { struct sockaddr_un a = at(path); return connect(fd, (struct sockaddr *)&a, sizeof a); }
static int stream(int flags) { return socket(AF_UNIX, SOCK_STREAM | flags, 0); }
static int events(int ep) { struct epoll_event e = {0}; int n = epoll_wait(ep, &e, 1, 0); return n == 1 ? (int)e.events : -n; }

int main(void) {
    if (!mkdtemp(dir) || chdir(dir) != 0) { puts("mkdtemp failed"); return 1; }
    int srv = stream(0);
    show("bind relative path", bindto(srv, "s1"));
    struct sockaddr_un a = {0};
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    printf("getsockname: len %u, path %s\n", len, a.sun_path);
    show("bind the same path again", bindto(stream(0), "s1"));
    close(open("plain", O_CREAT | O_WRONLY, 0644));
    show("bind over a regular file", bindto(stream(0), "plain"));
    show("bind in a missing dir", bindto(stream(0), "nodir/s"));
    show("listen", listen(srv, 1));
    show("connect to a missing path", connectto(stream(0), "missing"));
    show("connect to a regular file", connectto(stream(0), "plain"));
    int dead = stream(0);
    bindto(dead, "dead");
    show("connect to a bound socket that is not listening", connectto(stream(0), "dead"));
    close(dead);
    struct stat st;
    show("closed socket's file remains", stat("dead", &st));
    printf("S_ISSOCK: %d\n", S_ISSOCK(st.st_mode));
    show("connect to a closed socket's file", connectto(stream(0), "dead"));
    show("rebind the stale path", bindto(stream(0), "dead"));
    show("unlink it", unlink("dead"));
    int again = stream(0);
    show("rebind after unlink", bindto(again, "dead"));
    show("listen", listen(again, 1));
    show("connect works again", connectto(stream(0), "dead"));
    mkdir("sub", 0755);
    int moved = stream(0);
    show("bind sub/s2", bindto(moved, "sub/s2"));
    listen(moved, 1);
    char full[128];
    snprintf(full, sizeof full, "%s/sub/s2", dir);
    show("connect by absolute path", connectto(stream(0), full));
    show("rename sub/s2 to s3", rename("sub/s2", "s3"));
    show("connect to the old name", connectto(stream(0), "sub/s2"));
    show("connect to the new name", connectto(stream(0), "s3"));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv};
    show("epoll_ctl add listener", epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev));
    printf("listener events before connect: %d\n", events(ep));
    int c1 = stream(SOCK_NONBLOCK);
    show("non-blocking connect", connectto(c1, "s1"));
    printf("listener events after connect: %#x\n", events(ep));
    int s = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
    show("accept", s < 0 ? -1 : 0);
    printf("listener events after accept: %d\n", events(ep));
    show("client writes", write(c1, "abc", 3));
    char buf[8] = {0};
    show("server reads", read(s, buf, sizeof buf - 1));
    printf("got: %s\n", buf);
    int n = 0, r;
    while (n < 10 && (r = connectto(stream(SOCK_NONBLOCK), "s1")) == 0) n++;
    printf("backlog 1: %d connects queued, then %s\n", n, r < 0 ? strerror(errno) : "ok");
    printf("listener events with a full queue: %#x\n", events(ep));
    show("blocking accept of a queued one", accept(srv, NULL, NULL) < 0 ? -1 : 0);
    show("unlink s1 while listening", unlink("s1"));
    show("connect to s1 now", connectto(stream(SOCK_NONBLOCK), "s1"));
    show("queued connection still accepted", accept(srv, NULL, NULL) < 0 ? -1 : 0);
    unlink("dead"); unlink("s3"); unlink("plain"); rmdir("sub");
    chdir("/");
    show("rmdir", rmdir(dir));
    return 0;
}
