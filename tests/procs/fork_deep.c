// Checks a chain of 24 nested forks where each process waits for its child and exits with the child's status plus one, and a fan-out of 40 children reaped by wait().
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int chain(int depth) {
    if (depth == 0) return 0;
    pid_t pid = fork();
    if (pid < 0) return 100;
    if (pid == 0) _exit(chain(depth - 1));
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 200;
    return WEXITSTATUS(st) + 1;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("chain of 24: %d\n", chain(24));
    int seen[40] = {0};
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(i + 1);
        if (pid < 0) { puts("fork failed"); return 1; }
    }
    int reaped = 0, st;
    pid_t w;
    while ((w = wait(&st)) > 0) {
        reaped++;
        if (WIFEXITED(st) && WEXITSTATUS(st) >= 1 && WEXITSTATUS(st) <= 40) seen[WEXITSTATUS(st) - 1]++;
    }
    int all = 1;
    for (int i = 0; i < 40; i++) if (seen[i] != 1) all = 0;
    printf("fan-out reaped %d, each status once: %s\n", reaped, all ? "yes" : "no");
    return 0;
}
