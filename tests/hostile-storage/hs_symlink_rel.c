// Relative symlinks on the volume climbing out of it ("../volume", "../../other/data/other-secret", long ../ chains to the host /tmp) resolve inside the volume's root.
#include "hs.h"

int main(void) {
    mkdir("/data/hs-rel", 0755);
    mkdir("/data/hs-rel/a", 0755);
    const char *targets[] = {"../volume", "../../volume", "../../../volume", "../../other/data/other-secret",
                             "../../../../../../../../tmp/wisp-hostile-secret", "a/../../../volume"};
    for (int i = 0; i < 6; i++) {
        char link[64], name[64];
        snprintf(link, sizeof link, "/data/hs-rel/l%d", i);
        symlink(targets[i], link);
        snprintf(name, sizeof name, "REL-LINK-%d", i);
        report(name, opens_secret(link) || opens(link));
        unlink(link);
    }
    rmdir("/data/hs-rel/a");
    rmdir("/data/hs-rel");
    return 0;
}
