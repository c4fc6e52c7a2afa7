// Dot-dot climbs out of the volume: /data/../volume, openat(fd of /data, "../volume"), deep chains, and chdir("..") twenty times from inside /data; none may reach the volume's metadata or a sibling volume.
#include "hs.h"

int main(void) {
    report("DOTDOT-ABS", opens("/data/../volume") || opens("/data/../other/data/other-secret"));
    int d = open("/data", O_RDONLY | O_DIRECTORY);
    int fd = openat(d, "../volume", O_RDONLY);
    report("DOTDOT-OPENAT", secret_fd(fd));
    if (fd >= 0) close(fd);
    fd = openat(d, "../../../../../../tmp/wisp-hostile-secret", O_RDONLY);
    report("DOTDOT-DEEP", secret_fd(fd));
    if (fd >= 0) close(fd);
    fchdir(d);
    for (int i = 0; i < 20; i++) chdir("..");
    report("DOTDOT-CHDIR", opens_secret("volume") || opens_secret("other/data/other-secret") ||
                               opens_secret("vol/volume") || opens_secret("tmp/wisp-hostile-secret"));
    struct stat st;
    report("DOTDOT-STAT", stat("/data/../volume", &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 64);
    close(d);
    return 0;
}
