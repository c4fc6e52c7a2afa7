// A directory chain 120 levels deep in /data, then a path of 200 "../" from its bottom (and the same from a descriptor), looking for the volume's metadata and the sibling volume.
#include <stdlib.h>
#include "hs.h"

int main(void) {
    chdir("/data");
    mkdir("hs-deep", 0755);
    chdir("hs-deep");
    for (int i = 0; i < 120; i++) {
        mkdir("d", 0755);
        chdir("d");
    }
    static char path[4096];
    path[0] = 0;
    for (int i = 0; i < 200 && strlen(path) < 3000; i++) strcat(path, "../");
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%svolume", path);
    snprintf(p2, sizeof p2, "%sother/data/other-secret", path);
    int leaked = opens_secret(p1) || opens_secret(p2);
    int here = open(".", O_RDONLY | O_DIRECTORY);
    int fd = openat(here, p1, O_RDONLY);
    leaked |= secret_fd(fd);
    report("DEEP-DOTDOT", leaked);
    chdir("/data/hs-deep");
    system("true");
    chdir("/data");
    /* Remove the chain bottom-up. */
    char q[4096];
    for (int depth = 120; depth > 0; depth--) {
        strcpy(q, "hs-deep");
        for (int i = 0; i < depth; i++) strcat(q, "/d");
        rmdir(q);
    }
    rmdir("hs-deep");
    return 0;
}
