// Checks that POSIX record locks and flock locks are shared between processes as on Linux: a child cannot take a region its parent write-locked (EAGAIN, F_GETLK reports F_WRLCK), can once the parent closes any descriptor of the file, and flock locks on separately opened files conflict across processes while a descriptor inherited through fork shares its lock.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static int setlk(int fd, short type) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
    return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : errno;
}

int main(void) {
    char dir[] = "/tmp/wisp-procs-lock_between-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[80];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_CREAT | O_RDWR, 0644);
    int other = open(path, O_RDWR);
    printf("parent locks: %d\n", setlk(fd, F_WRLCK));
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t c = fork();
    if (c == 0) {
        int mine = open(path, O_RDWR);
        int e = setlk(mine, F_WRLCK);
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
        fcntl(mine, F_GETLK, &q);
        printf("child while held: %s, F_GETLK sees %s\n", e == EAGAIN || e == EACCES ? "refused" : "granted",
               q.l_type == F_WRLCK ? "F_WRLCK" : "other");
        fflush(stdout);
        write(done[1], "x", 1);
        char b;
        read(go[0], &b, 1);
        printf("child after the parent closed a descriptor: %s\n", setlk(mine, F_WRLCK) == 0 ? "granted" : "refused");
        int f2 = open(path, O_RDWR);
        printf("child flock on its own open: %s\n", flock(f2, LOCK_EX | LOCK_NB) == 0 ? "granted" : "refused");
        printf("child flock on the inherited descriptor: %s\n", flock(fd, LOCK_EX | LOCK_NB) == 0 ? "granted" : "refused");
        fflush(stdout);
        _exit(0);
    }
    char b;
    read(done[0], &b, 1);
    flock(fd, LOCK_EX);
    close(other); /* POSIX: drops every record lock this process has on the file */
    write(go[1], "x", 1);
    waitpid(c, NULL, 0);
    close(fd);
    unlink(path);
    rmdir(dir);
    return 0;
}
