/* Shared by the storage escape programs. Each attempt prints one line,
   "NAME: blocked" or "NAME: LEAK". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *name, int leaked) { printf("%s: %s\n", name, leaked ? "LEAK" : "blocked"); }

/* True when `fd` reads like something outside the machine: the host secret,
   a volume's metadata file ("size N"), or another volume's secret. */
__attribute__((unused)) static int secret_fd(int fd) {
    char b[64] = {0};
    if (fd < 0) return 0;
    long n = pread(fd, b, sizeof b - 1, 0);
    return n > 0 && (strstr(b, "top secret") || strncmp(b, "size ", 5) == 0 || strstr(b, "other\n"));
}

/* An open that succeeds on a name that must not exist in the machine leaks. */
__attribute__((unused)) static int opens(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

__attribute__((unused)) static int opens_secret(const char *path) {
    int fd = open(path, O_RDONLY);
    int s = secret_fd(fd);
    if (fd >= 0) close(fd);
    return s;
}
