// Checks the working directory: getcwd after chdir into nested directories (printed relative to the start), fchdir, chdir into a file (ENOTDIR) or a missing directory (ENOENT), relative opens after chdir, and getcwd into a too-small buffer (ERANGE).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static char base[512];

static void where(const char *label) {
    char cwd[512];
    getcwd(cwd, sizeof cwd);
    printf("%s: %s\n", label, strncmp(cwd, base, strlen(base)) == 0 ? cwd + strlen(base) : "(outside)");
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    getcwd(base, sizeof base);
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    mkdir("a/b/c", 0755);
    close(open("a/file", O_CREAT | O_WRONLY, 0644));
    chdir("a/b/c");
    where("deep");
    chdir("..");
    where("up one");
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    chdir("/");
    fchdir(fd);
    where("fchdir back");
    close(fd);
    TRY("chdir into a file", chdir("../file"));
    TRY("chdir missing", chdir("nope"));
    chdir("c");
    TRY("relative open", close(open("../../file", O_RDONLY)));
    char small[4];
    errno = 0;
    char *r = getcwd(small, sizeof small);
    printf("small buffer: %s %s\n", r ? "ok" : "null", errno == ERANGE ? "ERANGE" : "other");
    chdir(base);
    unlink("a/file");
    rmdir("a/b/c");
    rmdir("a/b");
    rmdir("a");
    return 0;
}
