// Checks descriptor sharing: dup, dup2 and F_DUPFD share the file offset and status flags, separate open()s do not, F_SETFL O_APPEND affects every duplicate, and FD_CLOEXEC is per descriptor.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int a = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int b = dup(a);
    int c = fcntl(a, F_DUPFD, 10);
    int d = dup2(a, 20);
    int other = open("f", O_RDWR);
    write(a, "abc", 3);
    printf("offsets: b %ld c %ld d %ld other %ld\n", (long)lseek(b, 0, SEEK_CUR), (long)lseek(c, 0, SEEK_CUR),
           (long)lseek(d, 0, SEEK_CUR), (long)lseek(other, 0, SEEK_CUR));
    printf("F_DUPFD >= 10: %d, dup2 = 20: %d\n", c >= 10, d == 20);
    fcntl(b, F_SETFL, O_APPEND);
    printf("append on a: %d, on other: %d\n", (fcntl(a, F_GETFL) & O_APPEND) != 0, (fcntl(other, F_GETFL) & O_APPEND) != 0);
    lseek(a, 0, SEEK_SET);
    write(a, "Z", 1);
    char buf[8] = {0};
    pread(other, buf, 7, 0);
    printf("content %s\n", buf);
    fcntl(c, F_SETFD, FD_CLOEXEC);
    printf("cloexec c %d a %d\n", fcntl(c, F_GETFD) & FD_CLOEXEC, fcntl(a, F_GETFD) & FD_CLOEXEC);
    close(a);
    printf("b still works: %ld\n", (long)write(b, "!", 1));
    close(b);
    close(c);
    close(d);
    close(other);
    unlink("f");
    return 0;
}
