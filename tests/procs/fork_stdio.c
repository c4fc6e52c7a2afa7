// Checks that unflushed stdio buffers are duplicated by fork (exit in the child flushes its copy), _exit discards them, and atexit handlers are inherited by the child.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void bye(void) { printf("[atexit in %s]", getenv("WHO") ? getenv("WHO") : "?"); }

/* Runs scenario `mode` in a worker whose stdout is a pipe; returns everything it wrote. */
static void run(int mode, char *out, size_t cap) {
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t w = fork();
    if (w == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        setvbuf(stdout, NULL, _IOFBF, 4096);
        atexit(bye);
        setenv("WHO", "parent", 1);
        printf("buffered-before-fork;");
        pid_t c = fork();
        if (c == 0) {
            setenv("WHO", "child", 1);
            printf("child;");
            if (mode == 0) exit(0);
            _exit(0);
        }
        waitpid(c, NULL, 0);
        printf("worker;");
        exit(0);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], out + len, cap - 1 - len)) > 0) len += n;
    out[len] = 0;
    close(p[0]);
    waitpid(w, NULL, 0);
}

int main(void) {
    char out[512];
    run(0, out, sizeof out);
    printf("child uses exit:  %s\n", out);
    run(1, out, sizeof out);
    printf("child uses _exit: %s\n", out);
    return 0;
}
