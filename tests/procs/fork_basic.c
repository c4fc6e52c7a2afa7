// Checks fork return values (0 in the child, the child's pid in the parent), both sides continue, getppid in the child equals the parent's getpid, and memory is copied in both directions.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int global = 100;
static char text[32] = "original";

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int go[2], back[2];
    if (pipe(go) || pipe(back)) { puts("pipe failed"); return 1; }
    int local = 7;
    int *heap = malloc(sizeof *heap);
    *heap = 11;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) { puts("fork failed"); return 1; }
    if (pid == 0) {
        char c;
        close(go[1]); close(back[0]);
        printf("child: fork returned 0\n");
        printf("child: getppid matches parent getpid: %s\n", getppid() == parent ? "yes" : "no");
        printf("child: getpid differs from parent: %s\n", getpid() != parent ? "yes" : "no");
        printf("child: sees global=%d local=%d heap=%d text=%s\n", global, local, *heap, text);
        global = 200; local = 8; *heap = 12; strcpy(text, "child-wrote");
        write(back[1], "w", 1);           /* tell parent we wrote */
        read(go[0], &c, 1);               /* wait until parent wrote */
        printf("child: after parent wrote: global=%d local=%d heap=%d text=%s\n", global, local, *heap, text);
        _exit(0);
    }
    char c;
    close(go[0]); close(back[1]);
    read(back[0], &c, 1);
    printf("parent: fork returned positive pid: %s\n", pid > 0 ? "yes" : "no");
    printf("parent: pid differs from own: %s\n", pid != parent ? "yes" : "no");
    printf("parent: after child wrote: global=%d local=%d heap=%d text=%s\n", global, local, *heap, text);
    global = 300; local = 9; *heap = 13; strcpy(text, "parent-wrote");
    write(go[1], "g", 1);
    int st;
    pid_t w = waitpid(pid, &st, 0);
    printf("parent: waitpid returned child pid: %s, exited=%d status=%d\n", w == pid ? "yes" : "no", WIFEXITED(st), WEXITSTATUS(st));
    printf("parent: final global=%d local=%d heap=%d text=%s\n", global, local, *heap, text);
    free(heap);
    return 0;
}
