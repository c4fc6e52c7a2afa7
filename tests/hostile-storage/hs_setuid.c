// Set-user-ID files: chmod 04755 and open(O_CREAT, 04755) on the volume and in the writable root must not leave a set-user-ID program in a host directory.
#include "hs.h"

static int suid(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && (st.st_mode & S_ISUID);
}

int main(void) {
    int fd = open("/data/hs-suid", O_CREAT | O_WRONLY, 0755);
    close(fd);
    chmod("/data/hs-suid", 04755);
    report("SETUID-CHMOD-VOLUME", suid("/data/hs-suid"));
    unlink("/data/hs-suid");
    umask(0);
    fd = open("/data/hs-suid2", O_CREAT | O_WRONLY, 04755);
    close(fd);
    report("SETUID-CREATE-VOLUME", suid("/data/hs-suid2"));
    unlink("/data/hs-suid2");
    fd = open("/hs-suid3", O_CREAT | O_WRONLY, 0755);
    fchmod(fd, 06755);
    close(fd);
    report("SETUID-ROOT-LAYER", suid("/hs-suid3"));
    unlink("/hs-suid3");
    return 0;
}
