// Checks /proc/self: exe link names this program, maps has [stack], fd lists 0 1 2 and the dir fd, status has Name:/VmRSS, cwd link matches getcwd.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int file_has(const char *path, const char *needle) {
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY), n, tot = 0;
    if (fd < 0) return -1;
    while (tot < (int)sizeof buf - 1 && (n = read(fd, buf + tot, sizeof buf - 1 - tot)) > 0) tot += n;
    close(fd);
    buf[tot] = 0;
    return strstr(buf, needle) != NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    char link[4096], cwd[4096];
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    size_t bl = strlen(base);
    int ends = n > (ssize_t)bl && strcmp(link + n - bl, base) == 0 && link[n - bl - 1] == '/';
    printf("exe is absolute: %s\n", link[0] == '/' ? "yes" : "no");
    printf("exe ends with program name: %s\n", ends ? "yes" : "no");

    printf("maps has [stack]: %d\n", file_has("/proc/self/maps", "[stack]"));
    printf("maps names the exe: %d\n", file_has("/proc/self/maps", base));
    printf("status has Name: %d\n", file_has("/proc/self/status", "Name:"));
    printf("status has VmRSS: %d\n", file_has("/proc/self/status", "VmRSS:"));

    DIR *d = opendir("/proc/self/fd");
    int seen[4] = {0}, dfd = dirfd(d), dirseen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd < 3) seen[fd] = 1;
        if (fd == dfd) dirseen = 1;
    }
    closedir(d);
    printf("fd dir lists 0 1 2: %d %d %d, own dir fd: %d\n", seen[0], seen[1], seen[2], dirseen);

    chdir("/tmp");
    getcwd(cwd, sizeof cwd);
    n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("cwd link matches getcwd: %s (%s)\n", strcmp(cwd, link) == 0 ? "yes" : "no", link);

    int fd = open("/proc/self/cmdline", O_RDONLY);
    n = read(fd, link, sizeof link);
    close(fd);
    printf("cmdline argv0 matches: %s\n", n > 0 && strcmp(link, argv[0]) == 0 ? "yes" : "no");
    return 0;
}
