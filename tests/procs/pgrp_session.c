// Checks process groups and sessions: setpgid(0,0) makes the child a group leader (getpgrp()==getpid()), the parent can move a child with setpgid(pid,pid), setsid in a non-leader returns its pid with getsid matching and no controlling tty, setsid in a group leader fails with EPERM, and a child inherits its parent's group.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd;

static void say(const char *msg) { dprintf(report_fd, "%s\n", msg); }

static int collect(pid_t pid, int rfd) {
    char buf[1024] = {0};
    size_t len = 0;
    ssize_t n;
    while ((n = read(rfd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(rfd);
    printf("%s", buf);
    int st;
    waitpid(pid, &st, 0);
    return WEXITSTATUS(st);
}

static pid_t start(int *rfd) {
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) { close(p[0]); report_fd = p[1]; return 0; }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int rfd;
    pid_t me = getpid();
    pid_t pid = start(&rfd);
    if (pid == 0) {
        say(getpgrp() == getpgid(getppid()) ? "child 1 starts in the parent's group: yes" : "child 1 starts in the parent's group: no");
        say(setpgid(0, 0) == 0 ? "setpgid(0,0): ok" : "setpgid(0,0): failed");
        say(getpgrp() == getpid() ? "getpgrp()==getpid(): yes" : "getpgrp()==getpid(): no");
        say(getpgid(0) == getpid() ? "getpgid(0)==getpid(): yes" : "getpgid(0)==getpid(): no");
        errno = 0;
        int r = setsid();
        say(r == -1 && errno == EPERM ? "setsid as group leader: EPERM" : "setsid as group leader: unexpected");
        pid_t g = fork();
        if (g == 0) {
            _exit(getpgrp() == getppid() ? 0 : 1);
        }
        int st;
        waitpid(g, &st, 0);
        say(WEXITSTATUS(st) == 0 ? "grandchild inherits the new group: yes" : "grandchild inherits the new group: no");
        _exit(0);
    }
    printf("child 1 status=%d\n", collect(pid, rfd));

    pid = start(&rfd);
    if (pid == 0) {
        pid_t oldsid = getsid(0);
        pid_t s = setsid();
        say(s == getpid() ? "setsid returns own pid: yes" : "setsid returns own pid: no");
        say(getsid(0) == getpid() ? "getsid(0) matches: yes" : "getsid(0) matches: no");
        say(getpgrp() == getpid() ? "new session leader leads its group: yes" : "new session leader leads its group: no");
        say(getsid(getppid()) == oldsid && oldsid != s ? "parent keeps its old session: yes" : "parent keeps its old session: no");
        errno = 0;
        int fd = open("/dev/tty", O_RDWR);
        say(fd < 0 && errno == ENXIO ? "no controlling tty after setsid (ENXIO): yes" : "no controlling tty after setsid (ENXIO): no");
        errno = 0;
        int r = setsid();
        say(r == -1 && errno == EPERM ? "second setsid: EPERM" : "second setsid: unexpected");
        errno = 0;
        r = setpgid(0, getppid());
        say(r == -1 && errno == EPERM ? "setpgid into a group of another session: EPERM" : "setpgid into another session: unexpected");
        _exit(0);
    }
    printf("child 2 status=%d\n", collect(pid, rfd));

    /* Parent moves a child into a new group; both sides call setpgid to avoid the race. */
    int go[2];
    pipe(go);
    pid = fork();
    if (pid == 0) {
        char c;
        setpgid(0, 0);
        read(go[0], &c, 1);
        _exit(getpgrp() == getpid() ? 0 : 1);
    }
    int r = setpgid(pid, pid);
    printf("parent setpgid(child, child): %s\n", r == 0 || errno == EACCES ? "ok" : "failed");
    printf("getpgid(child)==child: %s\n", getpgid(pid) == pid ? "yes" : "no");
    printf("parent's own group unchanged: %s\n", getpgrp() != pid && getpid() == me ? "yes" : "no");
    write(go[1], "g", 1);
    int st;
    waitpid(pid, &st, 0);
    printf("child 3 status=%d\n", WEXITSTATUS(st));
    errno = 0;
    r = setpgid(pid, pid);
    printf("setpgid on a reaped child: ESRCH=%s\n", r == -1 && errno == ESRCH ? "yes" : "no");
    errno = 0;
    r = setpgid(0, -1);
    printf("setpgid negative pgid: EINVAL=%s\n", r == -1 && errno == EINVAL ? "yes" : "no");
    return 0;
}
