// Checks that a stop signal stops every thread of a process: a child whose second thread spins incrementing a shared counter is stopped with SIGSTOP (reported once with WUNTRACED), the counter stands still while it is stopped, SIGCONT (sent while the child blocks it) resumes both threads and is reported with WCONTINUED, and SIGKILL ends a stopped multithreaded process.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile long *counter;

static void *spin(void *arg) {
    (void)arg;
    for (;;) __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static pid_t start_child(void) {
    pid_t c = fork();
    if (c == 0) {
        sigset_t cont;
        sigemptyset(&cont);
        sigaddset(&cont, SIGCONT);
        pthread_sigmask(SIG_BLOCK, &cont, NULL); /* SIGCONT still continues */
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        for (;;) pause();
    }
    while (__atomic_load_n(counter, __ATOMIC_RELAXED) < 1000) sleep_ms(1);
    return c;
}

int main(void) {
    counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t c = start_child();
    kill(c, SIGSTOP);
    int st;
    pid_t w = waitpid(c, &st, WUNTRACED);
    printf("stopped: %d sig %d\n", w == c && WIFSTOPPED(st), WSTOPSIG(st));
    sleep_ms(30); /* the spinning thread is stopped by now */
    long a = *counter;
    sleep_ms(100);
    long b = *counter;
    printf("counter stands still while stopped: %d\n", a == b);
    printf("no second stop report: %d\n", (int)waitpid(c, &st, WNOHANG | WUNTRACED));
    kill(c, SIGCONT);
    w = waitpid(c, &st, WCONTINUED);
    printf("continued: %d\n", w == c && WIFCONTINUED(st));
    long d = *counter;
    sleep_ms(50);
    printf("counter moves again: %d\n", *counter > d);
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    printf("terminated: %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));

    c = start_child();
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    printf("killed while stopped: %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
    return 0;
}
