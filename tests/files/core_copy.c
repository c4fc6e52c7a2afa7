// Copies a 1 MiB file of patterned bytes with read/write in odd-sized chunks and with sendfile, and compares checksums of the source and both copies, and the offsets sendfile leaves.
#include <fcntl.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <unistd.h>

static unsigned long sum(const char *p) {
    int fd = open(p, O_RDONLY);
    unsigned char b[7777];
    unsigned long h = 5381;
    long n;
    while ((n = read(fd, b, sizeof b)) > 0)
        for (long i = 0; i < n; i++) h = h * 33 + b[i];
    close(fd);
    return h;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int src = open("src", O_CREAT | O_RDWR, 0644);
    unsigned char b[4096];
    for (int blk = 0; blk < 256; blk++) {
        for (int i = 0; i < 4096; i++) b[i] = (unsigned char)(blk * 7 + i * 13);
        write(src, b, sizeof b);
    }
    lseek(src, 0, SEEK_SET);
    int dst = open("copy1", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    char buf[3001];
    long n, total = 0;
    while ((n = read(src, buf, sizeof buf)) > 0) total += write(dst, buf, n);
    close(dst);
    printf("copied %ld\n", total);
    int d2 = open("copy2", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    off_t off = 0;
    long sent = 0;
    while (sent < (1 << 20)) {
        long r = sendfile(d2, src, &off, (1 << 20) - sent);
        if (r <= 0) break;
        sent += r;
    }
    printf("sendfile %ld, offset %ld, src position %ld\n", sent, (long)off, (long)lseek(src, 0, SEEK_CUR));
    close(d2);
    unsigned long s = sum("src"), c1 = sum("copy1"), c2 = sum("copy2");
    printf("checksum %lx, copies match %d %d\n", s, s == c1, s == c2);
    close(src);
    unlink("src");
    unlink("copy1");
    unlink("copy2");
    return 0;
}
