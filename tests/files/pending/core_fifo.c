// Checks named pipes in the directory (no blocking opens): mkfifo's type and umasked mode, EEXIST, a non-blocking read open succeeding alone while a non-blocking write open without a reader is ENXIO, data passing in order, EAGAIN when empty, 0 at EOF once the writer closes, ESPIPE for lseek/pread, EINVAL for truncate, st_size 0, an O_RDWR open, and rename/unlink of the fifo.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    umask(022);
    TRY("mkfifo", mkfifo("p", 0666));
    TRY("mkfifo again", mkfifo("p", 0666));
    struct stat st;
    lstat("p", &st);
    printf("fifo %d mode %o size %ld\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long)st.st_size);
    TRY("writer without a reader", open("p", O_WRONLY | O_NONBLOCK));
    int r = open("p", O_RDONLY | O_NONBLOCK);
    printf("reader alone: %s\n", r >= 0 ? "opened" : en(errno));
    char b[32] = {0};
    TRY("read with no writer yet", read(r, b, sizeof b));
    int w = open("p", O_WRONLY | O_NONBLOCK);
    printf("writer with a reader: %s\n", w >= 0 ? "opened" : en(errno));
    TRY("read empty", read(r, b, sizeof b));
    TRY("write", write(w, "first ", 6));
    TRY("write", write(w, "second", 6));
    TRY("read", read(r, b, 4));
    printf("got %.4s\n", b);
    memset(b, 0, sizeof b);
    TRY("read rest", read(r, b, sizeof b));
    printf("got %s\n", b);
    TRY("lseek", lseek(r, 0, SEEK_SET));
    TRY("pread", pread(r, b, 1, 0));
    TRY("pwrite", pwrite(w, "x", 1, 0));
    TRY("truncate", truncate("p", 0));
    fstat(w, &st);
    printf("fstat on the writer: fifo %d\n", S_ISFIFO(st.st_mode));
    close(w);
    TRY("read after the writer closed", read(r, b, sizeof b));
    close(r);
    int rw = open("p", O_RDWR);
    printf("O_RDWR: %s\n", rw >= 0 ? "opened" : en(errno));
    write(rw, "loop", 4);
    memset(b, 0, sizeof b);
    read(rw, b, 4);
    printf("through one O_RDWR descriptor: %s\n", b);
    close(rw);
    TRY("rename", rename("p", "q"));
    lstat("q", &st);
    printf("still a fifo: %d, size %ld\n", S_ISFIFO(st.st_mode), (long)st.st_size);
    TRY("unlink", unlink("q"));
    return 0;
}
