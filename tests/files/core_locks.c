// Checks file locks in one process: flock LOCK_EX then LOCK_EX|LOCK_NB on a second open file description (EWOULDBLOCK) and success after LOCK_UN, shared locks coexisting, and fcntl record locks (F_SETLK, F_GETLK reporting F_UNLCK for the owner's own lock, F_UNLCK).
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int a = open("f", O_CREAT | O_RDWR, 0644);
    int b = open("f", O_RDWR);
    TRY("flock ex a", flock(a, LOCK_EX));
    TRY("flock ex|nb b", flock(b, LOCK_EX | LOCK_NB));
    TRY("flock sh|nb b", flock(b, LOCK_SH | LOCK_NB));
    TRY("unlock a", flock(a, LOCK_UN));
    TRY("flock ex|nb b now", flock(b, LOCK_EX | LOCK_NB));
    TRY("unlock b", flock(b, LOCK_UN));
    TRY("sh a", flock(a, LOCK_SH | LOCK_NB));
    TRY("sh b", flock(b, LOCK_SH | LOCK_NB));
    TRY("ex b while shared", flock(b, LOCK_EX | LOCK_NB));
    flock(a, LOCK_UN);
    flock(b, LOCK_UN);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    TRY("F_SETLK write", fcntl(a, F_SETLK, &fl));
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    TRY("F_GETLK", fcntl(b, F_GETLK, &q));
    printf("own lock reported as unlocked: %d\n", q.l_type == F_UNLCK);
    fl.l_type = F_UNLCK;
    TRY("F_SETLK unlock", fcntl(a, F_SETLK, &fl));
    struct flock bad = {.l_type = 99, .l_whence = SEEK_SET};
    TRY("bad lock type", fcntl(a, F_SETLK, &bad));
    close(a);
    close(b);
    unlink("f");
    return 0;
}
