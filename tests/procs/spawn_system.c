// build: gcc
// Checks posix_spawn of /bin/busybox true/false and their statuses, posix_spawn file actions (dup2 into a pipe, open, close) and a custom environment, posix_spawnp via PATH, and system() exit statuses with /bin/busybox sh.
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pid;
    int st, r;
    char *t[] = {"true", NULL};
    r = posix_spawn(&pid, "/bin/busybox", NULL, NULL, t, environ);
    waitpid(pid, &st, 0);
    printf("posix_spawn busybox true: ret=%d status=%d\n", r, WEXITSTATUS(st));
    char *f[] = {"false", NULL};
    r = posix_spawn(&pid, "/bin/busybox", NULL, NULL, f, environ);
    waitpid(pid, &st, 0);
    printf("posix_spawn busybox false: ret=%d status=%d\n", r, WEXITSTATUS(st));
    r = posix_spawn(&pid, "/nonexistent-wisp/prog", NULL, NULL, t, environ);
    if (r == 0) { waitpid(pid, &st, 0); printf("posix_spawn missing: ret=0 status=%d\n", WEXITSTATUS(st)); }
    else printf("posix_spawn missing: error=%s\n", r == 2 ? "ENOENT" : "other");

    int p[2];
    pipe(p);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *sh[] = {"sh", "-c", "echo \"MSG=$MSG\"; read x || echo stdin-is-empty; exit 6", NULL};
    char *env[] = {"MSG=spawned with custom env", NULL};
    r = posix_spawn(&pid, "/bin/busybox", &fa, NULL, sh, env);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    char buf[256] = {0};
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(p[0]);
    waitpid(pid, &st, 0);
    printf("posix_spawn with file actions: ret=%d status=%d output:\n%s", r, WEXITSTATUS(st), buf);

    char *pe[] = {"busybox", "echo", "via posix_spawnp", NULL};
    setenv("PATH", "/nonexistent-wisp:/bin", 1);
    r = posix_spawnp(&pid, "busybox", NULL, NULL, pe, environ);
    waitpid(pid, &st, 0);
    printf("posix_spawnp: ret=%d status=%d\n", r, WEXITSTATUS(st));

    fflush(stdout);
    st = system("/bin/busybox sh -c 'echo in system; exit 9'");
    printf("system exit 9: exited=%d status=%d\n", !!WIFEXITED(st), WEXITSTATUS(st));
    st = system("/bin/busybox sh -c 'kill -TERM $$'");
    printf("system self-kill: signaled-or-143=%s\n",
           (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) || (WIFEXITED(st) && WEXITSTATUS(st) == 143) ? "yes" : "no");
    st = system("/bin/busybox true");
    printf("system true: status=%d\n", WEXITSTATUS(st));
    printf("system(NULL) reports a shell: %s\n", system(NULL) ? "yes" : "no");
    return 0;
}
