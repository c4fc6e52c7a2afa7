// Checks O_APPEND: every write lands at the end whatever the offset, lseek then read still works, pwrite on an O_APPEND file appends (Linux), two descriptors appending interleave without overwriting, and the final size is the sum of the writes.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int a = open("log", O_CREAT | O_WRONLY | O_APPEND, 0644);
    int b = open("log", O_WRONLY | O_APPEND);
    write(a, "A1 ", 3);
    write(b, "B1 ", 3);
    lseek(a, 0, SEEK_SET);
    write(a, "A2 ", 3);
    pwrite(b, "B2 ", 3, 0);
    write(b, "B3", 2);
    struct stat st;
    fstat(a, &st);
    int r = open("log", O_RDONLY);
    char buf[32] = {0};
    read(r, buf, sizeof buf - 1);
    printf("size %ld: %s\n", (long)st.st_size, buf);
    lseek(r, 3, SEEK_SET);
    char two[3] = {0};
    read(r, two, 2);
    printf("from 3: %s\n", two);
    close(a);
    close(b);
    close(r);
    unlink("log");
    return 0;
}
