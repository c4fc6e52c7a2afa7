// Storage throughput on one file: seqwrite/seqread with 1 MiB blocks,
// randread/randwrite with 4 KiB blocks at random aligned offsets. Prints
// MiB/s. Usage: storage MODE FILE SIZE_MIB [OPS]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: storage seqwrite|seqread|randread|randwrite FILE SIZE_MIB [OPS]\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    long size = atol(argv[3]) << 20, ops = argc > 4 ? atol(argv[4]) : 20000;
    static char buf[1 << 20];
    memset(buf, 'w', sizeof buf);
    int wr = !strcmp(mode, "seqwrite") || !strcmp(mode, "randwrite");
    int fd = open(path, wr ? O_RDWR | O_CREAT : O_RDONLY, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    unsigned seed = 12345;
    double t0 = now(), bytes = 0;
    if (!strcmp(mode, "seqwrite")) {
        for (long off = 0; off < size; off += sizeof buf) bytes += write(fd, buf, sizeof buf);
        fsync(fd);
    } else if (!strcmp(mode, "seqread")) {
        long n;
        while ((n = read(fd, buf, sizeof buf)) > 0) bytes += n;
    } else {
        long blocks = size / 4096;
        for (long i = 0; i < ops; i++) {
            off_t off = (off_t)(rand_r(&seed) % blocks) * 4096;
            bytes += wr ? pwrite(fd, buf, 4096, off) : pread(fd, buf, 4096, off);
        }
        if (wr) fsync(fd);
    }
    double dt = now() - t0;
    printf("%.1f\n", bytes / (1 << 20) / dt);
    return 0;
}
