// Checks execve failures return -1 in the child with the right errno (ENOENT, EACCES for a non-executable file and a directory, ENOEXEC for garbage or an empty file with the exec bit, ENOTDIR, ENOENT for a missing #! interpreter, ELOOP, ENOENT for an empty path) and the process keeps running afterwards.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case ENOTDIR: return "ENOTDIR";
    case EFAULT: return "EFAULT";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "other";
    }
}

static int counter = 41;

static void try(const char *label, const char *path) {
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"x", NULL};
        char *envp[] = {NULL};
        errno = 0;
        int r = execve(path, argv, envp);
        int e = errno;
        counter++;   /* still our own image after the failure */
        printf("%-28s ret=%d errno=%s still running=%s\n", label, r, ename(e), counter == 42 ? "yes" : "no");
        _exit(e == 0 ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status %d\n", label, st);
}

static void put(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    write(fd, text, strlen(text));
    close(fd);
    chmod(path, mode);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/wisp-procs-exec_errors-XXXXXX", p[6][128];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    const char *names[] = {"noexec", "garbage", "sub", "badinterp", "empty", "link"};
    for (int i = 0; i < 6; i++) snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
    put(p[0], "#!/bin/busybox sh\necho should not run\n", 0644);
    put(p[1], "\x01\x02garbage that is neither ELF nor a script\n", 0755);
    mkdir(p[2], 0755);
    put(p[3], "#!/nonexistent-wisp/interpreter\n", 0755);
    put(p[4], "", 0755);
    symlink("link", p[5]);   /* points at itself */
    char nodir[160];
    snprintf(nodir, sizeof nodir, "%s/noexec/child", dir);

    try("missing file", "/nonexistent-wisp/prog");
    try("file without exec bit", p[0]);
    try("garbage with exec bit", p[1]);
    try("empty file with exec bit", p[4]);
    try("directory", p[2]);
    try("file used as directory", nodir);
    try("missing #! interpreter", p[3]);
    try("symlink loop", p[5]);
    try("empty path", "");

    for (int i = 0; i < 6; i++) (i == 2 ? rmdir : unlink)(p[i]);
    rmdir(dir);
    return 0;
}
