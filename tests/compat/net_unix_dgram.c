// Named AF_UNIX datagram sockets: sendto by path, recvfrom names the sender's path (length 0 for an unbound sender), connect() then send, a connected socket refuses strangers (EPERM), ENOENT and ECONNREFUSED for dead paths, AF_UNSPEC disconnects.
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-net_unix_dgram-XXXXXX";

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static struct sockaddr_un at(const char *name) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name);
    return a;
}
static int named(const char *name) {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = at(name);
    if (bind(fd, (struct sockaddr *)&a, sizeof a)) printf("bind %s: %s\n", name, strerror(errno));
    return fd;
}
static long sendto_name(int fd, const char *msg, const char *name) {
    struct sockaddr_un a = at(name);
    return sendto(fd, msg, strlen(msg), MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a);
}
// Prints the message and the sender as a name relative to our dir, checking the address length.
static void from(const char *what, int fd) {
    char buf[64] = {0};
    struct sockaddr_un a;
    memset(&a, 0x55, sizeof a);
    socklen_t len = sizeof a;
    long n = recvfrom(fd, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&a, &len);
    if (n < 0) { printf("%s: %ld %s\n", what, n, strerror(errno)); return; }
    size_t d = strlen(dir);
    if (len <= offsetof(struct sockaddr_un, sun_path)) { printf("%s: %ld %s from unnamed, len %u\n", what, n, buf, len); return; }
    int ok = len == offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1 && !strncmp(a.sun_path, dir, d);
    printf("%s: %ld %s from %s, len ok %d\n", what, n, buf, ok ? a.sun_path + d + 1 : "?", ok);
}

int main(void) {
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    int a = named("a"), b = named("b");
    show("a sends to b by path", sendto_name(a, "to b", "b"));
    show("a sends again", sendto_name(a, "second", "b"));
    from("b receives", b);
    from("b receives", b);
    from("b has nothing more", b);
    show("b answers to a", sendto_name(b, "to a", "a"));
    from("a receives", a);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    show("unbound socket sends to b", sendto_name(u, "anon", "b"));
    from("b receives", b);
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    show("unbound sender is still unnamed", getsockname(u, (struct sockaddr *)&sa, &len));
    printf("its name length: %u\n", len);
    show("send on an unconnected socket", send(a, "x", 1, 0));
    struct sockaddr_un bp = at("b");
    show("connect a to b", connect(a, (struct sockaddr *)&bp, sizeof bp));
    len = sizeof sa;
    show("getpeername of a", getpeername(a, (struct sockaddr *)&sa, &len));
    printf("peer is b: %d\n", !strcmp(sa.sun_path, bp.sun_path));
    show("a sends with send()", send(a, "connected", 9, 0));
    show("a sends with write()", write(a, "written", 7));
    from("b receives", b);
    from("b receives", b);
    int c = named("c");
    show("a sendto c while connected to b", sendto_name(a, "to c", "c"));
    from("c receives", c);
    show("c sends to a, which is connected to b", sendto_name(c, "stranger", "a"));
    show("b sends to a", sendto_name(b, "friend", "a"));
    from("a receives", a);
    show("a recv when empty", recv(a, &sa, 1, MSG_DONTWAIT));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    show("disconnect a with AF_UNSPEC", connect(a, &unspec, sizeof unspec));
    len = sizeof sa;
    show("getpeername after disconnect", getpeername(a, (struct sockaddr *)&sa, &len));
    show("c sends to a again", sendto_name(c, "now ok", "a"));
    from("a receives", a);
    show("send to a missing path", sendto_name(a, "x", "missing"));
    close(c);
    show("send to a closed socket's path", sendto_name(a, "x", "c"));
    struct sockaddr_un cp = at("c");
    show("connect to a closed socket's path", connect(u, (struct sockaddr *)&cp, sizeof cp));
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) { struct sockaddr_un p = at(names[i]); unlink(p.sun_path); }
    show("rmdir", rmdir(dir));
    return 0;
}
