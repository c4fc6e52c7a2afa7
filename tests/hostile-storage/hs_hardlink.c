// Hard links across the volume boundary: linking the volume's metadata, /etc/image-file, a /tmp file or a /proc/self/fd link into /data must fail (EXDEV or ENOENT), so no name in the volume points at a file outside it.
#include <errno.h>
#include "hs.h"

int main(void) {
    report("LINK-METADATA", link("/data/../volume", "/data/hs-meta") == 0 && opens_secret("/data/hs-meta"));
    unlink("/data/hs-meta");
    report("LINK-IMAGE-FILE", link("/etc/image-file", "/data/hs-img") == 0);
    unlink("/data/hs-img");
    int t = open("/tmp/hs-link-src", O_CREAT | O_WRONLY, 0644);
    close(t);
    report("LINK-FROM-TMP", link("/tmp/hs-link-src", "/data/hs-tmp") == 0);
    unlink("/data/hs-tmp");
    unlink("/tmp/hs-link-src");
    int fd = open("/etc/image-file", O_RDONLY);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    report("LINK-PROC-FD", linkat(AT_FDCWD, p, AT_FDCWD, "/data/hs-proc", AT_SYMLINK_FOLLOW) == 0);
    unlink("/data/hs-proc");
    report("LINK-EMPTY-PATH", linkat(fd, "", AT_FDCWD, "/data/hs-empty", AT_EMPTY_PATH) == 0);
    unlink("/data/hs-empty");
    close(fd);
    return 0;
}
