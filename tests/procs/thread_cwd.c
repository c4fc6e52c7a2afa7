// Checks that threads share the working directory and umask (CLONE_FS): a chdir and a umask in one thread are seen by the other (getcwd, relative opens, file modes), while a forked child's chdir and umask stay its own.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void *move(void *arg) {
    (void)arg;
    chdir(dir);
    umask(077);
    return NULL;
}

int main(void) {
    strcpy(dir, "/tmp/wisp-procs-thread_cwd-XXXXXX");
    mkdtemp(dir);
    chdir("/");
    umask(022);
    pthread_t t;
    pthread_create(&t, NULL, move, NULL);
    pthread_join(t, NULL);
    char cwd[128];
    getcwd(cwd, sizeof cwd);
    printf("main sees the thread's chdir: %d\n", strcmp(cwd, dir) == 0);
    int fd = open("made-by-main", O_CREAT | O_WRONLY, 0666);
    close(fd);
    struct stat st;
    char path[128];
    snprintf(path, sizeof path, "%s/made-by-main", dir);
    printf("relative create landed in it: %d\n", stat(path, &st) == 0);
    printf("mode under the thread's umask: %o\n", st.st_mode & 0777);
    pid_t c = fork();
    if (c == 0) {
        chdir("/");
        umask(0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    getcwd(cwd, sizeof cwd);
    printf("a child's chdir is its own: %d\n", strcmp(cwd, dir) == 0);
    mode_t old = umask(022);
    printf("a child's umask is its own: %o\n", old);
    unlink(path);
    chdir("/");
    rmdir(dir);
    return 0;
}
