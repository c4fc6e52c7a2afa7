// Overlay metadata through extended attributes: setting trusted.overlay.opaque or user.overlay.* on /etc (which could hide the image's files or redirect lookups) and security.* on a volume file must fail.
#include <sys/xattr.h>
#include "hs.h"

int main(void) {
    report("XATTR-TRUSTED-OPAQUE", setxattr("/etc", "trusted.overlay.opaque", "y", 1, 0) == 0);
    report("XATTR-USER-OPAQUE", setxattr("/etc", "user.overlay.opaque", "y", 1, 0) == 0);
    report("XATTR-REDIRECT", lsetxattr("/etc", "trusted.overlay.redirect", "/", 1, 0) == 0);
    int fd = open("/data/hs-x", O_CREAT | O_WRONLY, 0644);
    report("XATTR-SECURITY", fsetxattr(fd, "security.capability", "\x01\x00\x00\x02", 4, 0) == 0);
    close(fd);
    unlink("/data/hs-x");
    report("IMAGE-FILE-VISIBLE", !opens("/etc/image-file"));
    return 0;
}
