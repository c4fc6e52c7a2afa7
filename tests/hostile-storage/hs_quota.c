// Quota abuse on the 8 MiB volume: ftruncate and fallocate to 1 TiB, a pwrite at 1 TiB, and writing 16 MiB must all stop before the file passes 8 MiB.
#include <errno.h>
#include <stdlib.h>
#include "hs.h"

static int too_big(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_size > (8 << 20);
}

int main(void) {
    int fd = open("/data/hs-quota", O_CREAT | O_RDWR | O_TRUNC, 0644);
    report("QUOTA-FTRUNCATE", ftruncate(fd, 1LL << 40) == 0 || too_big(fd));
    ftruncate(fd, 0);
    report("QUOTA-FALLOCATE", fallocate(fd, 0, 0, 1LL << 40) == 0 || too_big(fd));
    ftruncate(fd, 0);
    report("QUOTA-PWRITE-FAR", pwrite(fd, "x", 1, 1LL << 40) == 1 || too_big(fd));
    ftruncate(fd, 0);
    char *buf = calloc(1, 1 << 20);
    long total = 0;
    for (int i = 0; i < 16; i++) {
        long n = write(fd, buf, 1 << 20);
        if (n <= 0) break;
        total += n;
    }
    report("QUOTA-WRITE-LOOP", total > (8 << 20) || too_big(fd));
    int fd2 = open("/data/hs-quota2", O_CREAT | O_RDWR | O_TRUNC, 0644);
    report("QUOTA-SECOND-FILE", write(fd2, buf, 1 << 20) == (1 << 20) && too_big(fd));
    close(fd2);
    close(fd);
    unlink("/data/hs-quota2");
    unlink("/data/hs-quota");
    return 0;
}
