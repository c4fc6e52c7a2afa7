// Writing the image's files: overwriting, truncating, renaming over and deleting /etc/image-file is allowed inside the machine (copy-up into its writable layer) and is seen there, but the runner checks that the image's read-only layer on the host is unchanged.
#include "hs.h"

int main(void) {
    int fd = open("/etc/image-file", O_WRONLY | O_TRUNC);
    int w = fd >= 0 ? (int)write(fd, "changed\n", 8) : -1;
    if (fd >= 0) close(fd);
    char b[16] = {0};
    fd = open("/etc/image-file", O_RDONLY);
    read(fd, b, sizeof b - 1);
    close(fd);
    (void)w;
    truncate("/etc/image-file", 1);
    fd = open("/etc/hs-new", O_CREAT | O_WRONLY, 0644);
    write(fd, "new\n", 4);
    close(fd);
    rename("/etc/hs-new", "/etc/image-file");
    unlink("/etc/image-file");
    report("IMAGE-LAYER-WRITE", 0);
    return 0;
}
