// Checks a 1 MiB transfer through a pipe between processes in each direction with odd-sized reads and writes, verified by a checksum, plus pipe capacity behaviour seen by a nonblocking writer.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (1u << 20)

static unsigned char byte_at(size_t i) { return (unsigned char)((i * 131 + (i >> 10)) & 0xff); }

static void send_all(int fd, size_t chunk) {
    unsigned char buf[7000];
    size_t off = 0;
    while (off < TOTAL) {
        size_t n = TOTAL - off < chunk ? TOTAL - off : chunk;
        for (size_t i = 0; i < n; i++) buf[i] = byte_at(off + i);
        ssize_t w = write(fd, buf, n);
        if (w <= 0) { _exit(3); }
        off += w;
    }
}

static int recv_all(int fd, size_t chunk, uint32_t *sum) {
    unsigned char buf[5000];
    size_t off = 0;
    int ok = 1;
    uint32_t h = 2166136261u;
    ssize_t n;
    while ((n = read(fd, buf, chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != byte_at(off + i)) ok = 0;
            h = (h ^ buf[i]) * 16777619u;
        }
        off += n;
    }
    *sum = h;
    return ok && off == TOTAL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) { close(p[0]); send_all(p[1], 6999); _exit(0); }
    close(p[1]);
    uint32_t h;
    int ok = recv_all(p[0], 4093, &h);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    printf("child->parent 1 MiB: intact=%s fnv=%08x writer status=%d\n", ok ? "yes" : "no", h, WEXITSTATUS(st));

    int r[2];
    pipe(p); pipe(r);
    pid = fork();
    if (pid == 0) {
        close(p[1]); close(r[0]);
        uint32_t hh;
        int okk = recv_all(p[0], 5000, &hh);
        dprintf(r[1], "parent->child 1 MiB: intact=%s fnv=%08x\n", okk ? "yes" : "no", hh);
        _exit(okk ? 0 : 1);
    }
    close(p[0]); close(r[1]);
    send_all(p[1], 6000);
    close(p[1]);
    char line[128] = {0};
    read(r[0], line, sizeof line - 1);
    printf("%s", line);
    waitpid(pid, &st, 0);
    printf("reader status=%d\n", WEXITSTATUS(st));

    /* A nonblocking writer with nobody reading fills the pipe and then gets EAGAIN. */
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    size_t filled = 0;
    char blk[4096];
    memset(blk, 'z', sizeof blk);
    ssize_t w;
    while ((w = write(p[1], blk, sizeof blk)) > 0) filled += w;
    int e = errno;
    printf("nonblocking fill: EAGAIN=%s capacity>=4096=%s multiple of 4096=%s\n", e == EAGAIN ? "yes" : "no",
           filled >= 4096 ? "yes" : "no", filled % 4096 == 0 ? "yes" : "no");
    close(p[0]); close(p[1]);
    return 0;
}
