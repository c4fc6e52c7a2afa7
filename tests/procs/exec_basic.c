// Checks execve of /bin/busybox echo, re-exec of this program with arguments (argv[0] preserved verbatim, argc, empty and spaced args), a custom envp, an empty envp, and that execve keeps the pid.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char self[4096];

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int child_mode(int argc, char **argv) {
    const char *mode = argv[1];
    if (!strcmp(mode, "args")) {
        printf("exec'd: argc=%d argv0=[%s]", argc, argv[0]);
        for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
        printf(" argv[argc]==NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
        return 3;
    }
    if (!strcmp(mode, "env")) {
        int n = 0;
        while (environ[n]) n++;
        char **copy = calloc(n + 1, sizeof *copy);
        memcpy(copy, environ, n * sizeof *copy);
        qsort(copy, n, sizeof *copy, cmp);
        printf("exec'd env count=%d:", n);
        for (int i = 0; i < n; i++) printf(" %s", copy[i]);
        printf(" getenv(B)=%s getenv(PATH)=%s\n", getenv("B") ? getenv("B") : "(null)", getenv("PATH") ? getenv("PATH") : "(null)");
        return 0;
    }
    if (!strcmp(mode, "pid")) {
        char want[32];
        snprintf(want, sizeof want, "%ld", (long)getpid());
        printf("exec'd: pid unchanged: %s\n", !strcmp(want, argv[2]) ? "yes" : "no");
        return 0;
    }
    return 50;
}

static void run(const char *label, const char *path, char *const argv[], char *const envp[]) {
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, argv, envp);
        printf("execve %s failed\n", label);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: exited=%d status=%d\n", label, !!WIFEXITED(st), WEXITSTATUS(st));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && argv[1][0] != '-') return child_mode(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { puts("readlink /proc/self/exe failed"); return 1; }
    self[n] = 0;

    char *echo_argv[] = {"echo", "hello", "from", "busybox", NULL};
    char *no_env[] = {NULL};
    run("busybox echo", "/bin/busybox", echo_argv, no_env);

    char *args[] = {"custom-argv0 with space", "args", "", "two words", "x", NULL};
    run("self args", self, args, environ);

    char *env_argv[] = {"whatever", "env", NULL};
    char *custom_env[] = {"B=two", "A=1", "EMPTY=", "ZED=last=with=equals", NULL};
    run("self custom env", self, env_argv, custom_env);
    run("self empty env", self, env_argv, no_env);

    pid_t pid = fork();
    if (pid == 0) {
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
        char *pargv[] = {"p", "pid", pidbuf, NULL};
        execve(self, pargv, environ);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("pid check: status=%d\n", WEXITSTATUS(st));
    return 0;
}
