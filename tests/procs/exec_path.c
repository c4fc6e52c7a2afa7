// Checks execvp/execlp PATH search: skipping missing directories, ENOENT when nothing matches, names with a slash bypassing PATH, and execl argument passing.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void run(const char *label, const char *path_env, int which) {
    pid_t pid = fork();
    if (pid == 0) {
        if (path_env) setenv("PATH", path_env, 1); else unsetenv("PATH");
        errno = 0;
        if (which == 0) { char *av[] = {"busybox", "echo", "found via PATH", NULL}; execvp("busybox", av); }
        if (which == 1) execlp("busybox", "busybox", "true", (char *)NULL);
        if (which == 2) execl("/bin/busybox", "busybox", "echo", "execl", "a", "b", (char *)NULL);
        if (which == 3) { char *av[] = {"busybox", NULL}; execvp("./no-such-wisp-prog", av); }
        if (which == 4) { char *av[] = {"x", NULL}; execvp("no-such-wisp-prog", av); }
        printf("  %s: exec failed errno=%s\n", label, errno == ENOENT ? "ENOENT" : errno == EACCES ? "EACCES" : "other");
        _exit(100);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: status=%d\n", label, WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    run("execvp PATH=/nonexistent-wisp:/bin", "/nonexistent-wisp:/bin", 0);
    run("execlp PATH=/bin", "/bin", 1);
    run("execl absolute", "/nonexistent-wisp", 2);
    run("execvp name with slash", "/bin", 3);
    run("execvp PATH=/nonexistent-wisp", "/nonexistent-wisp", 4);
    return 0;
}
