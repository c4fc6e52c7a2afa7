// Absolute symlinks on the volume pointing at host paths (/tmp/wisp-hostile-secret, /etc/hostname, /volume, /../volume, the state directory) are followed inside the machine, never on the host.
#include "hs.h"

int main(void) {
    mkdir("/data/hs-abs", 0755);
    const char *targets[] = {"/tmp/wisp-hostile-secret", "/../volume", "/data/../volume", "/../../other/data/other-secret",
                             "/var/lib/wisp/volumes/vol/volume", "/../../../../../../tmp/wisp-hostile-secret"};
    for (int i = 0; i < 6; i++) {
        char link[64], name[64];
        snprintf(link, sizeof link, "/data/hs-abs/l%d", i);
        symlink(targets[i], link);
        snprintf(name, sizeof name, "ABS-LINK-%d", i);
        report(name, opens_secret(link));
        unlink(link);
    }
    rmdir("/data/hs-abs");
    return 0;
}
