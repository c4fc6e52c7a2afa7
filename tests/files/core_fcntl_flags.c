// Checks descriptor and status flags: F_GETFL's access mode for O_RDONLY/O_WRONLY/O_RDWR/O_PATH, O_APPEND/O_NONBLOCK/O_SYNC shown by F_GETFL, F_SETFL changing O_APPEND and O_NONBLOCK but not the access mode or O_SYNC, O_CLOEXEC/F_DUPFD_CLOEXEC/dup3 setting FD_CLOEXEC while dup clears it, dup2 onto itself, dup3 onto itself (EINVAL), and EBADF for closed descriptors and O_PATH reads.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errname.h"

static const char *acc(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return en(errno);
    if (fl & O_PATH) return "O_PATH";
    switch (fl & O_ACCMODE) {
    case O_RDONLY: return "O_RDONLY";
    case O_WRONLY: return "O_WRONLY";
    case O_RDWR: return "O_RDWR";
    }
    return "?";
}

static void flags(const char *label, int fd) {
    int fl = fcntl(fd, F_GETFL);
    printf("%s: %s append %d nonblock %d dsync %d sync %d cloexec %d\n", label, acc(fd), !!(fl & O_APPEND),
           !!(fl & O_NONBLOCK), !!(fl & O_DSYNC), (fl & O_SYNC) == O_SYNC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int w = open("f", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(w, "0123456789", 10);
    int r = open("f", O_RDONLY);
    int rw = open("f", O_RDWR | O_APPEND | O_NONBLOCK | O_CLOEXEC);
    int p = open("f", O_PATH);
    int s = open("f", O_WRONLY | O_SYNC);
    int ds = open("f", O_WRONLY | O_DSYNC);
    flags("O_WRONLY", w);
    flags("O_RDONLY", r);
    flags("O_RDWR|O_APPEND|O_NONBLOCK|O_CLOEXEC", rw);
    flags("O_PATH", p);
    flags("O_SYNC", s);
    flags("O_DSYNC", ds);

    TRY("F_SETFL O_RDWR on O_RDONLY", fcntl(r, F_SETFL, O_RDWR));
    flags("after", r);
    TRY("write still refused", write(r, "x", 1));
    TRY("F_SETFL O_APPEND|O_NONBLOCK|O_SYNC", fcntl(w, F_SETFL, O_APPEND | O_NONBLOCK | O_SYNC));
    flags("after", w);
    lseek(w, 0, SEEK_SET);
    write(w, "A", 1);
    printf("append write went to %ld\n", (long)lseek(w, 0, SEEK_CUR) - 1);
    TRY("F_SETFL 0", fcntl(w, F_SETFL, 0));
    flags("after", w);
    lseek(w, 0, SEEK_SET);
    write(w, "B", 1);
    char buf[16] = {0};
    pread(r, buf, 15, 0);
    printf("content %s\n", buf);
    TRY("read O_NONBLOCK regular file", read(rw, buf, 4));

    int d1 = dup(rw);
    int d2 = fcntl(r, F_DUPFD_CLOEXEC, 0);
    int d3 = dup3(r, 40, O_CLOEXEC);
    printf("dup of cloexec fd: cloexec %d, shares append %d\n", fcntl(d1, F_GETFD) & FD_CLOEXEC,
           !!(fcntl(d1, F_GETFL) & O_APPEND));
    printf("F_DUPFD_CLOEXEC: %d, dup3 O_CLOEXEC: %d at 40 %d\n", fcntl(d2, F_GETFD) & FD_CLOEXEC,
           fcntl(d3, F_GETFD) & FD_CLOEXEC, d3 == 40);
    TRY("F_SETFD 0", fcntl(rw, F_SETFD, 0));
    printf("cleared: %d\n", fcntl(rw, F_GETFD) & FD_CLOEXEC);
    printf("dup2 onto itself returns it: %d\n", dup2(r, r) == r);
    TRY("dup3 onto itself (raw syscall)", syscall(SYS_dup3, r, r, 0));
    TRY("dup3 bad flags (raw syscall)", syscall(SYS_dup3, r, 41, 12345));

    TRY("read O_PATH", read(p, buf, 1));
    TRY("write O_PATH", write(p, "x", 1));
    struct stat st;
    TRY("fstat O_PATH", fstat(p, &st));
    printf("size via O_PATH %ld\n", (long)st.st_size);
    close(d3);
    TRY("F_GETFL closed", fcntl(d3, F_GETFL));
    TRY("F_GETFD closed", fcntl(d3, F_GETFD));
    TRY("dup closed", dup(d3));
    TRY("dup2 from closed", dup2(d3, 50));
    TRY("dup2 to a negative fd", dup2(r, -1));

    int fds[] = {w, r, rw, p, s, ds, d1, d2};
    for (unsigned i = 0; i < sizeof fds / sizeof *fds; i++) close(fds[i]);
    unlink("f");
    return 0;
}
