// build: gcc
// Checks what survives execve (dynamic glibc re-exec of itself): cwd, umask, rlimits, signal mask, ignored dispositions and pending signals survive; caught handlers reset to SIG_DFL, the alternate signal stack is dropped, and pid/ppid/pgid/sid stay the same.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(int s) { (void)s; }

static const char *disp(int sig) {
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    if (sa.sa_handler == SIG_DFL) return "SIG_DFL";
    if (sa.sa_handler == SIG_IGN) return "SIG_IGN";
    return "handler";
}

static void report(const char *who, const char *expect_ids) {
    char cwd[4096];
    getcwd(cwd, sizeof cwd);
    mode_t m = umask(0);
    umask(m);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    sigset_t mask, pend;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    sigpending(&pend);
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("%s: cwd=%s umask=%03o nofile soft=%ld\n", who, strrchr(cwd, '/') ? strrchr(cwd, '/') : cwd, (unsigned)m, (long)rl.rlim_cur);
    printf("%s: blocked USR1=%d USR2=%d pending USR1=%d USR2=%d\n", who, sigismember(&mask, SIGUSR1),
           sigismember(&mask, SIGUSR2), sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
    printf("%s: SIGUSR1=%s SIGUSR2=%s SIGHUP=%s SIGTERM=%s altstack=%s\n", who, disp(SIGUSR1), disp(SIGUSR2),
           disp(SIGHUP), disp(SIGTERM), (ss.ss_flags & SS_DISABLE) ? "disabled" : "enabled");
    if (expect_ids) {
        char ids[128];
        snprintf(ids, sizeof ids, "%ld:%ld:%ld:%ld", (long)getpid(), (long)getppid(), (long)getpgrp(), (long)getsid(0));
        printf("%s: pid/ppid/pgid/sid unchanged: %s\n", who, !strcmp(ids, expect_ids) ? "yes" : "no");
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && !strcmp(argv[1], "after")) {
        report("after exec", argv[2]);
        /* the pending SIGUSR2 is still blocked; unblocking it now runs SIG_DFL, which kills us */
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        puts("survived unblocking SIGUSR2 (wrong)");
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    char dir[] = "/tmp/wisp-procs-exec_inherit-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/workdir", dir);
    mkdir(sub, 0700);

    pid_t pid = fork();
    if (pid == 0) {
        /* start from a known state whatever the runner left us */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        chdir(sub);
        umask(027);
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = 77;
        setrlimit(RLIMIT_NOFILE, &rl);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = handler;
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGUSR2, &sa, NULL);
        signal(SIGHUP, SIG_IGN);
        static char altstack[65536];
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
        sigaltstack(&ss, NULL);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR2);       /* stays pending across exec */
        report("before exec", NULL);
        char ids[128];
        snprintf(ids, sizeof ids, "%ld:%ld:%ld:%ld", (long)getpid(), (long)getppid(), (long)getpgrp(), (long)getsid(0));
        char *av[] = {"inherit", "after", ids, NULL};
        execv(self, av);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child: signaled=%d termsig=%d\n", !!WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    rmdir(sub);
    rmdir(dir);
    return 0;
}
