// O_PATH descriptor chains: openat(O_PATH fd of /data, "..") repeated, then opening "volume" and "other/data/other-secret" relative to the result; and openat2 with RESOLVE_BENEATH or no resolve flags from the volume's descriptor.
#include <stdint.h>
#include <sys/syscall.h>
#include "hs.h"

struct open_how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_BENEATH 0x08
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int main(void) {
    int fd = open("/data", O_PATH | O_DIRECTORY);
    for (int i = 0; i < 10; i++) {
        int up = openat(fd, "..", O_PATH | O_DIRECTORY);
        if (up < 0) break;
        close(fd);
        fd = up;
    }
    int v = openat(fd, "volume", O_RDONLY);
    int o = openat(fd, "other/data/other-secret", O_RDONLY);
    report("OPATH-CHAIN", secret_fd(v) || secret_fd(o) || v >= 0);
    int d = open("/data", O_RDONLY | O_DIRECTORY);
    struct open_how how = {.flags = O_RDONLY};
    int r = syscall(SYS_openat2, d, "../volume", &how, sizeof how);
    report("OPENAT2-PLAIN", secret_fd(r) || r >= 0);
    how.resolve = RESOLVE_BENEATH;
    r = syscall(SYS_openat2, d, "../volume", &how, sizeof how);
    report("OPENAT2-BENEATH", r >= 0);
    return 0;
}
