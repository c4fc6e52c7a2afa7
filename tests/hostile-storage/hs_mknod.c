// Special files: a 0/0 character device (an overlayfs whiteout) over /etc/image-file's neighbour and in /data, real device numbers (1,3 and 8,0) and a FIFO on the volume must not be created as devices a host process could trip over.
#include <sys/sysmacros.h>
#include "hs.h"

static int is_node(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}

int main(void) {
    mknod("/etc/hs-whiteout", S_IFCHR | 0600, makedev(0, 0));
    report("WHITEOUT-IN-ROOT", is_node("/etc/hs-whiteout"));
    unlink("/etc/hs-whiteout");
    mknod("/etc/image-file", S_IFCHR | 0600, makedev(0, 0));
    report("WHITEOUT-OVER-IMAGE-FILE", is_node("/etc/image-file") || !opens("/etc/image-file"));
    mknod("/data/hs-null", S_IFCHR | 0666, makedev(1, 3));
    report("CHAR-DEVICE", is_node("/data/hs-null"));
    unlink("/data/hs-null");
    mknod("/data/hs-disk", S_IFBLK | 0600, makedev(8, 0));
    report("BLOCK-DEVICE", is_node("/data/hs-disk"));
    unlink("/data/hs-disk");
    int r = mkfifo("/data/hs-fifo", 0600);
    int fd = r == 0 ? open("/data/hs-fifo", O_RDONLY | O_NONBLOCK) : -1;
    report("FIFO-ON-VOLUME", fd >= 0);
    unlink("/data/hs-fifo");
    return 0;
}
