// /proc magic links from a descriptor of /data: /proc/self/fd/N/../volume, /proc/self/fd/N/../../other/data/other-secret, /proc/self/cwd/.. after chdir /data, and /proc/self/root/../volume.
#include "hs.h"

int main(void) {
    int d = open("/data", O_RDONLY | O_DIRECTORY);
    char p[128];
    snprintf(p, sizeof p, "/proc/self/fd/%d/../volume", d);
    report("PROC-FD-DOTDOT", opens_secret(p) || opens(p));
    snprintf(p, sizeof p, "/proc/self/fd/%d/../../other/data/other-secret", d);
    report("PROC-FD-SIBLING", opens_secret(p));
    chdir("/data");
    report("PROC-CWD", opens_secret("/proc/self/cwd/../volume") || opens("/proc/self/cwd/../volume"));
    report("PROC-ROOT", opens_secret("/proc/self/root/../volume") || opens_secret("/proc/1/root/../volume"));
    int o = open("/data", O_PATH);
    snprintf(p, sizeof p, "/proc/self/fd/%d/..", o);
    int up = open(p, O_RDONLY | O_DIRECTORY);
    int fd = up >= 0 ? openat(up, "volume", O_RDONLY) : -1;
    report("PROC-OPATH-PARENT", secret_fd(fd));
    close(d);
    return 0;
}
