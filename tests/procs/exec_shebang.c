// Checks #! scripts run via execve: interpreter "/bin/busybox" with optional argument "sh", argv passed through after the script path, whitespace around the interpreter, a script used as another script's interpreter, and the script's exit status.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/wisp-procs-exec_shebang-XXXXXX";

static void put(const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0700);
    write(fd, text, strlen(text));
    close(fd);
}

static void run(const char *label, const char *name, char *a1, char *a2) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"argv0-ignored", a1, a2, NULL};
        char *envp[] = {"GREETING=hi from env", NULL};
        execve(path, argv, envp);
        perror("execve");
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: exited=%d status=%d\n", label, !!WIFEXITED(st), WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    put("plain",
        "#!/bin/busybox sh\n"
        "echo \"plain: \\$0=${0##*/} argc=$#\"\n"
        "for a in \"$@\"; do echo \"  arg [${a##*/}]\"; done\n"
        "echo \"  env: $GREETING\"\n"
        "exit 4\n");
    put("spaced", "#!   /bin/busybox   sh   \necho \"spaced: argc=$# first=[$1]\"\nexit 5\n");
    char nested[256];
    snprintf(nested, sizeof nested, "#!%s/plain\nthis line is never read by a shell\n", dir);
    put("nested", nested);
    put("tabs", "#!\t/bin/busybox\tsh\nread -r first < \"$0\"; echo \"tabs: line 1 length ${#first}\"; exit 0\n");
    run("plain script", "plain", "one", "two three");
    run("whitespace around interpreter", "spaced", "x", NULL);
    run("script as interpreter", "nested", "n1", NULL);
    run("tab separators", "tabs", NULL, NULL);
    const char *names[] = {"plain", "spaced", "nested", "tabs"};
    for (int i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
