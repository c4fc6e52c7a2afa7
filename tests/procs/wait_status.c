// Checks exit statuses 0..255 (and 256 wrapping to 0) via WEXITSTATUS, death by SIGTERM/SIGKILL/SIGUSR2 via WIFSIGNALED/WTERMSIG, and abort() giving SIGABRT.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(int code) {
    pid_t pid = fork();
    if (pid == 0) _exit(code);
    int st;
    waitpid(pid, &st, 0);
    return st;
}

static void report_signal(const char *what, int sig) {
    pid_t pid = fork();
    if (pid == 0) {
        if (sig == SIGABRT) abort();
        kill(getpid(), sig);
        for (;;) pause();
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: exited=%d signaled=%d termsig=%d\n", what, !!WIFEXITED(st), !!WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int ok = 0;
    for (int code = 0; code < 256; code++) {
        int st = run(code);
        if (WIFEXITED(st) && !WIFSIGNALED(st) && WEXITSTATUS(st) == code) ok++;
        else printf("code %d: wrong status\n", code);
    }
    printf("exit codes 0..255 reported exactly: %d of 256\n", ok);
    int st = run(256);
    printf("exit(256): exited=%d status=%d\n", !!WIFEXITED(st), WEXITSTATUS(st));
    st = run(-1);
    printf("exit(-1): exited=%d status=%d\n", !!WIFEXITED(st), WEXITSTATUS(st));
    report_signal("SIGTERM", SIGTERM);
    report_signal("SIGKILL", SIGKILL);
    report_signal("SIGUSR2", SIGUSR2);
    report_signal("abort", SIGABRT);
    return 0;
}
