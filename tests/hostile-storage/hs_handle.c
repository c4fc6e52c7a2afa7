// File handles: name_to_handle_at on a volume file, then open_by_handle_at with that handle and with forged ones (the handle's inode numbers changed, an ext4 root-inode handle); opening anything by handle must fail.
#include <stdlib.h>
#include "hs.h"

int main(void) {
    int fd = open("/data/hs-handle", O_CREAT | O_WRONLY, 0644);
    close(fd);
    struct file_handle *h = malloc(sizeof *h + 128);
    h->handle_bytes = 128;
    int mnt = -1;
    int r = name_to_handle_at(AT_FDCWD, "/data/hs-handle", h, &mnt, 0);
    int d = open("/data", O_RDONLY | O_DIRECTORY);
    int got = r == 0 ? open_by_handle_at(d, h, O_RDONLY) : -1;
    report("HANDLE-OWN", got >= 0);
    if (r == 0 && h->handle_bytes >= 8) {
        ((unsigned *)h->f_handle)[0] -= 1;
        got = open_by_handle_at(d, h, O_RDONLY);
        report("HANDLE-FORGED-NEIGHBOUR", got >= 0);
    } else {
        report("HANDLE-FORGED-NEIGHBOUR", 0);
    }
    h->handle_bytes = 8;
    h->handle_type = 1; /* FILEID_INO32_GEN */
    ((unsigned *)h->f_handle)[0] = 2;
    ((unsigned *)h->f_handle)[1] = 0;
    got = open_by_handle_at(d, h, O_RDONLY | O_DIRECTORY);
    report("HANDLE-FORGED-ROOT", got >= 0);
    unlink("/data/hs-handle");
    return 0;
}
