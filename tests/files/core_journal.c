// Checks the write-ahead pattern databases use: write a journal, fsync it, rename it over the target, fsync the directory, and read the result back; fsync and fdatasync succeed on files and on a directory descriptor.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "errname.h"

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int t = open("data", O_CREAT | O_WRONLY, 0644);
    write(t, "version 1\n", 10);
    close(t);
    for (int v = 2; v <= 4; v++) {
        int j = open("data.tmp", O_CREAT | O_WRONLY | O_TRUNC, 0644);
        char line[32];
        int n = snprintf(line, sizeof line, "version %d\n", v);
        write(j, line, n);
        TRY("fsync journal", fsync(j));
        TRY("fdatasync journal", fdatasync(j));
        close(j);
        TRY("rename over", rename("data.tmp", "data"));
        int d = open(".", O_RDONLY | O_DIRECTORY);
        TRY("fsync dir", fsync(d));
        close(d);
        char b[32] = {0};
        int r = open("data", O_RDONLY);
        read(r, b, sizeof b - 1);
        close(r);
        printf("now: %s", b);
    }
    TRY("sync", (sync(), 0));
    TRY("fsync bad fd", fsync(12345));
    unlink("data");
    return 0;
}
