// Sockets as files: a guest's AF_UNIX socket in /data or the root is an inert socket inode (mknodat S_IFSOCK) named in the machine's own table, never a host socket: once its listener is closed nothing answers on it, and a name planted through a symlink stays inside the machine.
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "hs.h"

static struct sockaddr_un at(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    return a;
}

/* Leaks when, after the machine's own listener on `path` is closed,
   something still accepts a connection there. */
static int answered_after_close(const char *path) {
    unlink(path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = at(path);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 0;
    struct stat st;
    if (lstat(path, &st) || !S_ISSOCK(st.st_mode)) return 0;
    close(s);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    int leaked = r == 0 || errno != ECONNREFUSED;
    close(c);
    unlink(path);
    return leaked;
}

int main(void) {
    report("UNIX-SOCKET-VOLUME", answered_after_close("/data/hs-sock"));
    report("UNIX-SOCKET-ROOT", answered_after_close("/hs-sock"));
    /* A symlink pointing out of the root: the socket file lands inside. */
    unlink("/data/hs-link");
    symlink("/../../../../tmp/hs-escaped-sock", "/data/hs-link");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = at("/data/hs-link");
    int bound = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    struct stat st;
    /* Bound or not, the name may exist only where the machine sees it. */
    report("UNIX-SOCKET-SYMLINK", bound && lstat("/tmp/hs-escaped-sock", &st) != 0);
    close(s);
    unlink("/tmp/hs-escaped-sock");
    unlink("/data/hs-link");
    return 0;
}
