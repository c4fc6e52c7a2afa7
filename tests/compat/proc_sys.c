// build: gcc
// Checks system /proc files: cpuinfo has processor lines, meminfo starts with MemTotal:, /proc/self/stat comm matches the program, /proc/self/fd/1 exists.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[1 << 18];
static int slurp(const char *path) {
    int fd = open(path, O_RDONLY), n, tot = 0;
    if (fd < 0) return -1;
    while (tot < (int)sizeof buf - 1 && (n = read(fd, buf + tot, sizeof buf - 1 - tot)) > 0) tot += n;
    close(fd);
    buf[tot] = 0;
    return tot;
}

int main(int argc, char **argv) {
    (void)argc;
    int n = slurp("/proc/cpuinfo"), procs = 0;
    for (char *p = buf; n > 0 && (p = strstr(p, "processor")); p++)
        if (p == buf || p[-1] == '\n') procs++;
    printf("cpuinfo readable: %d, has processor lines: %d\n", n > 0, procs > 0);
    printf("cpuinfo count matches online cpus: %d\n", procs == sysconf(_SC_NPROCESSORS_ONLN));

    n = slurp("/proc/meminfo");
    printf("meminfo starts with MemTotal: %d\n", n > 0 && strncmp(buf, "MemTotal:", 9) == 0);
    long kb = n > 0 ? strtol(buf + 9, NULL, 10) : 0;
    printf("MemTotal positive: %d\n", kb > 0);

    n = slurp("/proc/self/stat");
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    char comm[32];
    snprintf(comm, sizeof comm, "(%.15s)", base);
    char *sp = strchr(buf, ' ');
    printf("stat comm matches: %d\n", sp && strncmp(sp + 1, comm, strlen(comm)) == 0);
    char *rp = strrchr(buf, ')');
    printf("stat state: %c\n", rp ? rp[2] : '?');

    n = slurp("/proc/self/comm");
    printf("comm file matches: %d\n", n > 0 && strncmp(buf, comm + 1, strlen(comm) - 2) == 0 && buf[strlen(comm) - 2] == '\n');

    struct stat st;
    printf("/proc/self/fd/1 exists: %d\n", stat("/proc/self/fd/1", &st) == 0);
    n = slurp("/proc/version");
    printf("/proc/version starts with Linux: %d\n", n > 0 && strncmp(buf, "Linux", 5) == 0);
    return 0;
}
