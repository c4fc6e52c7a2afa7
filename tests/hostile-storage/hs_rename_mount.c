// Renames across and over mount points: /data/f to /f and /tmp/f to /data/f (EXDEV), and renaming or removing /data itself must fail, leaving the volume mounted.
#include "hs.h"

int main(void) {
    int fd = open("/data/hs-ren", O_CREAT | O_WRONLY, 0644);
    close(fd);
    report("RENAME-OUT-OF-VOLUME", rename("/data/hs-ren", "/hs-ren") == 0);
    unlink("/hs-ren");
    fd = open("/tmp/hs-ren", O_CREAT | O_WRONLY, 0644);
    close(fd);
    report("RENAME-INTO-VOLUME", rename("/tmp/hs-ren", "/data/hs-ren2") == 0);
    unlink("/data/hs-ren2");
    unlink("/tmp/hs-ren");
    report("RENAME-MOUNT-POINT", rename("/data", "/data2") == 0);
    report("RMDIR-MOUNT-POINT", rmdir("/data") == 0);
    report("VOLUME-STILL-THERE", !opens("/data/hs-ren"));
    unlink("/data/hs-ren");
    return 0;
}
