// Checks path limits: a 300-byte name is ENAMETOOLONG for open, mkdir, stat, unlink, rename, link and symlink, and as a middle component; a 4095-byte path ("./" repeated) resolves but 4096 bytes is ENAMETOOLONG; a symlink target of 4095 bytes is stored and read back whole while 4096 is ENAMETOOLONG; 25 nested 200-byte directory names built with mkdirat are reachable step by step but not by one 5000-byte path; a chain of 40 symlinks resolves and 41 is ELOOP.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static char long300[301];

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    memset(long300, 'L', 300);
    close(open("f", O_CREAT | O_WRONLY, 0644));
    mkdir("d", 0755);
    struct stat st;
    char path[8192];
    TRY("open 300", open(long300, O_CREAT | O_WRONLY, 0644));
    TRY("mkdir 300", mkdir(long300, 0755));
    TRY("stat 300", stat(long300, &st));
    TRY("unlink 300", unlink(long300));
    TRY("rename to 300", rename("f", long300));
    TRY("link to 300", link("f", long300));
    TRY("symlink named 300", symlink("f", long300));
    snprintf(path, sizeof path, "d/%s/f", long300);
    TRY("300 in the middle", stat(path, &st));
    printf("f still there: %d\n", access("f", F_OK) == 0);

    /* "./" * 2047 + "f" is 4095 bytes, the longest path Linux accepts */
    int k;
    for (k = 0; k < 2047; k++) memcpy(path + 2 * k, "./", 2);
    strcpy(path + 2 * k, "f");
    printf("path length %zu: ", strlen(path));
    TRY("stat", stat(path, &st));
    strcpy(path + 2 * k, "ff");
    printf("path length %zu: ", strlen(path));
    TRY("stat", stat(path, &st));

    char *target = malloc(4097);
    memset(target, 't', 4096);
    target[4095] = 0;
    TRY("symlink with a 4095-byte target", symlink(target, "longlink"));
    char *back = malloc(5000);
    long n = readlink("longlink", back, 5000);
    printf("readlink %ld, same %d\n", n, n == 4095 && memcmp(back, target, 4095) == 0);
    lstat("longlink", &st);
    printf("lstat size %ld\n", (long)st.st_size);
    TRY("follow it", stat("longlink", &st));
    target[4095] = 't';
    target[4096] = 0;
    TRY("symlink with a 4096-byte target", symlink(target, "longlink2"));

    char name200[201];
    memset(name200, 'n', 200);
    name200[200] = 0;
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    int made = 0;
    for (int i = 0; i < 25; i++) {
        made += mkdirat(dfd, name200, 0755) == 0;
        int next = openat(dfd, name200, O_RDONLY | O_DIRECTORY);
        close(dfd);
        dfd = next;
    }
    printf("nested %d levels\n", made);
    TRY("create at the bottom", close(openat(dfd, "bottom", O_CREAT | O_WRONLY, 0644)));
    close(dfd);
    strcpy(path, "d");
    for (int i = 0; i < 25; i++) strcat(strcat(path, "/"), name200);
    strcat(path, "/bottom");
    printf("full path length %zu: ", strlen(path));
    TRY("stat", stat(path, &st));
    int reached = 1;
    if (chdir("d") != 0) reached = 0;
    for (int i = 0; i < 25 && reached; i++) reached = chdir(name200) == 0;
    printf("reached by chdir steps: %d, bottom there: %d\n", reached, access("bottom", F_OK) == 0);
    unlink("bottom");
    for (int i = 0; i < 25; i++) {
        chdir("..");
        rmdir(name200);
    }
    chdir("..");

    /* link i points at link i+1; the last points at f */
    char a[16], b[16];
    for (int i = 1; i <= 41; i++) {
        snprintf(a, sizeof a, "c%02d", i);
        snprintf(b, sizeof b, "c%02d", i + 1);
        symlink(i == 41 ? "f" : b, a);
    }
    TRY("chain of 40 (c02)", stat("c02", &st));
    TRY("chain of 41 (c01)", stat("c01", &st));
    TRY("lstat c01", lstat("c01", &st));
    for (int i = 1; i <= 41; i++) {
        snprintf(a, sizeof a, "c%02d", i);
        unlink(a);
    }
    unlink("longlink");
    unlink("f");
    TRY("rmdir d", rmdir("d"));
    return 0;
}
