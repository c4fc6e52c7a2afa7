// Checks MAP_SHARED|MAP_ANONYMOUS memory across fork: four children add to a shared counter atomically and write their own slots, the parent sees every write, a MAP_PRIVATE mapping stays private, mprotect read-only applies in the child too, and /proc/self/maps names the shared mapping "/dev/zero (deleted)".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    long *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    long *private = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("fresh shared memory is zero: %d\n", shared[0] == 0 && shared[1023] == 0);
    for (int i = 0; i < 4; i++) {
        if (fork() == 0) {
            for (int k = 0; k < 1000; k++) __atomic_fetch_add(&shared[0], 1, __ATOMIC_SEQ_CST);
            shared[1 + i] = 100 + i;
            shared[512 + i] = 200 + i; /* second page */
            private[0] = 99;
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {}
    printf("counter: %ld\n", shared[0]);
    printf("slots: %ld %ld %ld %ld\n", shared[1], shared[2], shared[3], shared[4]);
    printf("second page: %ld %ld %ld %ld\n", shared[512], shared[513], shared[514], shared[515]);
    printf("private untouched: %ld\n", private[0]);

    mprotect(shared, 8192, PROT_READ);
    pid_t c = fork();
    if (c == 0) {
        shared[0] = 1; /* faults */
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("write to read-only shared memory: SIGSEGV %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

    char want[32];
    snprintf(want, sizeof want, "%lx-", (unsigned long)shared);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int named = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) == 0) named = strstr(line, "/dev/zero (deleted)") != NULL;
    }
    fclose(f);
    printf("maps names it /dev/zero (deleted): %d\n", named);
    return 0;
}
