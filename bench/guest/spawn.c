// spawn N: mean microseconds per fork+execve("/bin/busybox true")+waitpid.
// fork100 N: mean microseconds per fork+_exit+waitpid of a process with
// 100 MiB resident (copy-on-write means this should not scale with size).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "spawn";
    int n = argc > 2 ? atoi(argv[2]) : 50;
    if (strcmp(mode, "fork100") == 0) {
        size_t len = 100u << 20;
        char *p = malloc(len);
        if (!p) return 1;
        memset(p, 1, len);
        double t0 = now_us();
        for (int i = 0; i < n; i++) {
            pid_t c = fork();
            if (c == 0) _exit(p[i * 4096] == 1 ? 0 : 1);
            int st;
            waitpid(c, &st, 0);
        }
        printf("%.1f\n", (now_us() - t0) / n);
        return 0;
    }
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c == 0) {
            char *args[] = {"/bin/busybox", "true", NULL};
            execv(args[0], args);
            _exit(127);
        }
        int st;
        waitpid(c, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
    }
    printf("%.1f\n", (now_us() - t0) / n);
    return 0;
}
