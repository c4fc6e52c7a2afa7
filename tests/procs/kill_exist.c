// Checks kill(pid, 0) as an existence probe: 0 for a live child, still 0 for an exited but unreaped (zombie) child, ESRCH after it is reaped; also kill with an invalid signal gives EINVAL and getppid() in the child equals the parent's getpid().
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int go[2], info[2];
    pipe(go); pipe(info);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]); close(info[0]);
        char ok = getppid() == parent ? 'y' : 'n';
        write(info[1], &ok, 1);
        read(go[0], &c, 1);
        _exit(0);
    }
    close(go[0]); close(info[1]);
    char ok;
    read(info[0], &ok, 1);
    printf("child's getppid()==parent's getpid(): %s\n", ok == 'y' ? "yes" : "no");
    printf("kill(live child, 0): %d\n", kill(pid, 0));
    errno = 0;
    int r = kill(pid, 12345);
    printf("kill(child, invalid signal): %d EINVAL=%s\n", r, errno == EINVAL ? "yes" : "no");
    write(go[1], "g", 1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);   /* now a zombie, still unreaped */
    printf("kill(zombie child, 0): %d\n", kill(pid, 0));
    printf("kill(zombie child, SIGKILL): %d\n", kill(pid, SIGKILL));
    int st;
    waitpid(pid, &st, 0);
    printf("zombie kept its exit status: exited=%d status=%d\n", !!WIFEXITED(st), WEXITSTATUS(st));
    errno = 0;
    r = kill(pid, 0);
    printf("kill(reaped child, 0): %d ESRCH=%s\n", r, errno == ESRCH ? "yes" : "no");
    printf("kill(self, 0): %d\n", kill(getpid(), 0));
    printf("kill(0, 0) (own group): %d\n", kill(0, 0));
    return 0;
}
