// Abstract AF_UNIX names (sun_path[0] == 0): a stream listener takes a connection, no file appears, names are exact (length matters), EADDRINUSE while bound, free again at close, autobind gives a 5 hex digit name.
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-compat-net_unix_abstract-XXXXXX";
static struct sockaddr_un name = {.sun_family = AF_UNIX};
static socklen_t namelen;

static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok"); }

static int entries(void) {
    int n = 0;
    DIR *d = opendir(".");
    for (struct dirent *e; d && (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

static int same(struct sockaddr_un *a, socklen_t len) { return len == namelen && !memcmp(a, &name, len); }

int main(void) {
    if (!mkdtemp(dir) || chdir(dir) != 0) { puts("mkdtemp failed"); return 1; }
    // The pid keeps concurrent runs on one host apart; it is never printed.
    int n = snprintf(name.sun_path + 1, sizeof name.sun_path - 1, "wisp-compat-abstract-%d", (int)getpid());
    namelen = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind abstract", bind(srv, (struct sockaddr *)&name, namelen));
    printf("files in the cwd: %d\n", entries());
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    show("getsockname", getsockname(srv, (struct sockaddr *)&a, &len));
    printf("same name and length: %d, leading zero byte: %d\n", same(&a, len), a.sun_path[0] == 0);
    show("listen", listen(srv, 4));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect", connect(c, (struct sockaddr *)&name, namelen));
    len = sizeof a;
    getpeername(c, (struct sockaddr *)&a, &len);
    printf("client's peer is the name: %d\n", same(&a, len));
    int s = accept(srv, NULL, NULL);
    show("accept", s < 0 ? -1 : 0);
    show("client writes", write(c, "abstract", 8));
    char buf[16] = {0};
    show("server reads", read(s, buf, sizeof buf - 1));
    printf("got: %s\n", buf);
    close(c);
    show("server reads end", read(s, buf, sizeof buf));
    close(s);
    show("connect with one byte less", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&name, namelen - 1));
    show("connect with a trailing zero", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&name, namelen + 1));
    show("connect with the full struct size", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&name, sizeof name));
    show("bind the name again", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&name, namelen));
    show("bind the name to a datagram socket", bind(socket(AF_UNIX, SOCK_DGRAM, 0), (struct sockaddr *)&name, namelen));
    close(srv);
    show("connect after close", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&name, namelen));
    int again = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind after close", bind(again, (struct sockaddr *)&name, namelen));
    close(again);
    int au = socket(AF_UNIX, SOCK_STREAM, 0);
    show("autobind (address is only the family)", bind(au, (struct sockaddr *)&name, sizeof(sa_family_t)));
    len = sizeof a;
    getsockname(au, (struct sockaddr *)&a, &len);
    int hex = 1;
    for (int i = 1; i < 6; i++) hex &= isxdigit((unsigned char)a.sun_path[i]) && !isupper((unsigned char)a.sun_path[i]);
    printf("autobound name: len %u, leading zero %d, 5 lowercase hex digits %d\n", len, a.sun_path[0] == 0, hex);
    show("listen on the autobound socket", listen(au, 1));
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect to the autobound name", connect(c2, (struct sockaddr *)&a, len));
    printf("files in the cwd at the end: %d\n", entries());
    chdir("/");
    show("rmdir", rmdir(dir));
    return 0;
}
