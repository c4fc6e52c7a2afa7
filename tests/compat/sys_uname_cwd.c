// build: gcc
// Checks uname (sysname Linux, machine x86_64) and getcwd/chdir/fchdir, including ERANGE for a short buffer and ENOENT/ENOTDIR for bad targets.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
    struct utsname u;
    printf("uname rc=%d\n", uname(&u));
    printf("sysname: %s\n", u.sysname);
    printf("machine: %s\n", u.machine);
    printf("release non-empty: %d\n", u.release[0] != 0);

    char dir[] = "/tmp/wisp-compat-sys_uname_cwd-XXXXXX", cwd[4096], sub[128];
    if (!mkdtemp(dir)) { puts("mkdtemp failed"); return 1; }
    snprintf(sub, sizeof sub, "%s/inner", dir);
    mkdir(sub, 0755);

    printf("chdir /: %d\n", chdir("/"));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
    printf("chdir /tmp: %d\n", chdir("/tmp"));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
    printf("chdir tmpdir: %d\n", chdir(dir));
    printf("getcwd is tmpdir: %d\n", strcmp(getcwd(cwd, sizeof cwd), dir) == 0);
    printf("chdir relative inner: %d\n", chdir("inner"));
    printf("getcwd is inner: %d\n", strcmp(getcwd(cwd, sizeof cwd), sub) == 0);
    printf("chdir ..: %d\n", chdir(".."));
    printf("back at tmpdir: %d\n", strcmp(getcwd(cwd, sizeof cwd), dir) == 0);

    errno = 0;
    char *r = getcwd(cwd, 5);
    printf("getcwd short buffer: %s ERANGE=%d\n", r ? "ok" : "NULL", errno == ERANGE);
    errno = 0;
    int rc = chdir("no-such-dir");
    printf("chdir missing: %d ENOENT=%d\n", rc, errno == ENOENT);
    errno = 0;
    rc = chdir("/etc/passwd");
    printf("chdir to file: %d ENOTDIR=%d\n", rc, errno == ENOTDIR);

    int fd = open("/", O_RDONLY | O_DIRECTORY);
    printf("fchdir /: %d\n", fchdir(fd));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
    rc = chdir("..");
    printf("chdir .. at root stays at root: %d %s\n", rc, getcwd(cwd, sizeof cwd));
    close(fd);

    rmdir(sub);
    rmdir(dir);
    return 0;
}
