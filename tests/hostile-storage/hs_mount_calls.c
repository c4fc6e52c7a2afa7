// Namespace and mount calls against the volume: chroot("/data") then climbing, pivot_root, mount and umount of /data must not expose the volume's parent or detach it.
#include <sys/mount.h>
#include <sys/syscall.h>
#include "hs.h"

int main(void) {
    int keep = open("/", O_RDONLY | O_DIRECTORY);
    int c = chroot("/data");
    int leaked = opens_secret("/volume") || opens_secret("../volume");
    fchdir(keep);
    for (int i = 0; i < 10; i++) chdir("..");
    leaked |= opens_secret("volume") || opens_secret("data/../volume");
    report("CHROOT-VOLUME", leaked);
    (void)c;
    report("PIVOT-ROOT", syscall(SYS_pivot_root, "/data", "/data") == 0);
    report("MOUNT-OVER-DATA", mount("none", "/data", "tmpfs", 0, NULL) == 0);
    report("UMOUNT-DATA", umount2("/data", MNT_DETACH) == 0);
    return 0;
}
