// Checks waitid with P_PID and P_ALL/WEXITED: si_pid, si_signo, si_code (CLD_EXITED, CLD_KILLED by name; abort accepts CLD_KILLED or CLD_DUMPED) and si_status; WNOWAIT leaves the child waitable; WNOHANG with nothing ready zeroes si_pid.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *code_name(int c) {
    switch (c) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case 1000: return "CLD_KILLED-or-CLD_DUMPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    case CLD_TRAPPED: return "CLD_TRAPPED";
    default: return "other";
    }
}

static void show(const char *what, int r, siginfo_t *si, pid_t expect) {
    printf("%s: ret=%d pid-match=%s signo=%s code=%s status=%d\n", what, r,
           si->si_pid == expect ? "yes" : "no", si->si_signo == SIGCHLD ? "SIGCHLD" : "other",
           code_name(si->si_code), si->si_status);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Keep core files out of the cwd where possible. */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    siginfo_t si;
    int r;

    pid_t a = fork();
    if (a == 0) _exit(5);
    memset(&si, 0, sizeof si);
    show("P_PID exit 5 WNOWAIT", waitid(P_PID, a, &si, WEXITED | WNOWAIT), &si, a);
    memset(&si, 0, sizeof si);
    show("P_PID exit 5 again WNOWAIT", waitid(P_PID, a, &si, WEXITED | WNOWAIT), &si, a);
    int st;
    pid_t w = waitpid(a, &st, 0);
    printf("waitpid after WNOWAIT: right pid=%s status=%d\n", w == a ? "yes" : "no", WEXITSTATUS(st));

    pid_t b = fork();
    if (b == 0) { kill(getpid(), SIGTERM); for (;;) pause(); }
    memset(&si, 0, sizeof si);
    show("P_PID SIGTERM", waitid(P_PID, b, &si, WEXITED), &si, b);

    pid_t c = fork();
    if (c == 0) abort();
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED);
    /* Whether a core is written depends on the host's core_pattern; do not assert it. */
    if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) si.si_code = 1000;
    show("P_ALL abort", r, &si, c);

    /* WNOHANG with a running child: returns 0 and si_pid stays 0. */
    int p[2];
    pipe(p);
    pid_t d = fork();
    if (d == 0) { char x; close(p[1]); read(p[0], &x, 1); _exit(200); }
    close(p[0]);
    memset(&si, 0x55, sizeof si);
    si.si_pid = 12345;
    r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    printf("P_ALL WNOHANG while running: ret=%d si_pid zeroed=%s\n", r, si.si_pid == 0 ? "yes" : "no");
    close(p[1]);
    memset(&si, 0, sizeof si);
    show("P_ALL exit 200", waitid(P_ALL, 0, &si, WEXITED), &si, d);

    errno = 0;
    r = waitid(P_ALL, 0, &si, WEXITED);
    printf("P_ALL with no children: ret=%d ECHILD=%s\n", r, errno == ECHILD ? "yes" : "no");
    errno = 0;
    r = waitid(P_PID, d, &si, 0);
    printf("waitid without state flags: ret=%d EINVAL=%s\n", r, errno == EINVAL ? "yes" : "no");
    return 0;
}
