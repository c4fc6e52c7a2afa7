// Checks job-control waits: a child stopped by SIGSTOP is reported with WUNTRACED (WIFSTOPPED, WSTOPSIG) and waitid CLD_STOPPED, SIGCONT is reported with WCONTINUED, and a stopped child can be killed.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        char c = 0;
        close(p[1]);
        raise(SIGSTOP);
        read(p[0], &c, 1);   /* stay alive until the parent has seen the continue */
        _exit(c == 'q' ? 9 : 1);
    }
    close(p[0]);
    int st;
    pid_t w = waitpid(pid, &st, WUNTRACED);
    printf("WUNTRACED: right pid=%s stopped=%d stopsig=%d exited=%d\n", w == pid ? "yes" : "no",
           !!WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : -1, !!WIFEXITED(st));
    printf("stop already consumed, WNOHANG|WUNTRACED: %d\n", (int)waitpid(pid, &st, WNOHANG | WUNTRACED));
    kill(pid, SIGCONT);
    w = waitpid(pid, &st, WCONTINUED);
    printf("WCONTINUED: right pid=%s continued=%d\n", w == pid ? "yes" : "no", !!WIFCONTINUED(st));
    write(p[1], "q", 1);
    close(p[1]);
    w = waitpid(pid, &st, 0);
    printf("exit: exited=%d status=%d\n", !!WIFEXITED(st), WEXITSTATUS(st));

    /* Same stop seen through waitid, then SIGKILL while stopped. */
    pid = fork();
    if (pid == 0) { raise(SIGSTOP); _exit(0); }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, pid, &si, WSTOPPED);
    printf("waitid WSTOPPED: ret=%d code=%s status=%d\n", r, si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other", si.si_status);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("killed while stopped: signaled=%d termsig=%d\n", !!WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    return 0;
}
