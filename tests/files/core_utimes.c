// Checks utimensat/futimens: exact times set and read back (with nanoseconds), UTIME_OMIT keeps one, UTIME_NOW sets a recent time, AT_SYMLINK_NOFOLLOW changes the link and not its target.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) != 0) return 2;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    struct timespec ts[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
    printf("utimensat: %d\n", utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st;
    stat("f", &st);
    printf("atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec,
           st.st_mtim.tv_nsec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1200000000, 5}};
    printf("futimens omit atime: %d\n", futimens(fd, omit));
    fstat(fd, &st);
    printf("atime %ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    time_t before = time(NULL);
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    utimensat(AT_FDCWD, "f", now, 0);
    stat("f", &st);
    printf("UTIME_NOW is recent: %d\n", st.st_mtim.tv_sec >= before - 1 && st.st_mtim.tv_sec <= time(NULL) + 1);
    symlink("f", "link");
    struct timespec old[2] = {{900000000, 0}, {900000000, 0}};
    printf("nofollow on the link: %d\n", utimensat(AT_FDCWD, "link", old, AT_SYMLINK_NOFOLLOW));
    struct stat ls;
    lstat("link", &ls);
    stat("f", &st);
    printf("link mtime %ld, target unchanged %d\n", (long)ls.st_mtim.tv_sec, st.st_mtim.tv_sec != 900000000);
    printf("follow through the link: %d\n", utimensat(AT_FDCWD, "link", old, 0));
    stat("f", &st);
    printf("target mtime %ld\n", (long)st.st_mtim.tv_sec);
    close(fd);
    unlink("link");
    unlink("f");
    return 0;
}
