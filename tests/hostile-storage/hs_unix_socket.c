// Sockets as files: binding an AF_UNIX socket inside /data or the root would create a host socket file another host process could connect to; it must not appear.
#include <sys/socket.h>
#include <sys/un.h>
#include "hs.h"

static int bind_at(const char *path) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) return 0;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    struct stat st;
    int made = r == 0 && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    close(s);
    unlink(path);
    return made;
}

int main(void) {
    report("UNIX-SOCKET-VOLUME", bind_at("/data/hs-sock"));
    report("UNIX-SOCKET-ROOT", bind_at("/hs-sock"));
    return 0;
}
