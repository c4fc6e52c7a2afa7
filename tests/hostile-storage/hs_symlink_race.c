// A thread swaps /data/hs-race/x between a real directory and a symlink to "../../.." while the main thread opens x/volume, x/other/data/other-secret and x/wisp-hostile-secret thousands of times: a lookup racing the swap must still stay inside the volume.
#include <pthread.h>
#include <time.h>
#include "hs.h"

static volatile int stop;

static void *swapper(void *arg) {
    (void)arg;
    while (!stop) {
        rename("/data/hs-race/dir", "/data/hs-race/x");
        rename("/data/hs-race/x", "/data/hs-race/dir");
        rename("/data/hs-race/link", "/data/hs-race/x");
        rename("/data/hs-race/x", "/data/hs-race/link");
    }
    return NULL;
}

int main(void) {
    mkdir("/data/hs-race", 0755);
    mkdir("/data/hs-race/dir", 0755);
    symlink("../../..", "/data/hs-race/link");
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    int leaked = 0;
    time_t end = time(NULL) + 1;
    long tries = 0;
    while (time(NULL) <= end && tries < 200000) {
        leaked |= opens_secret("/data/hs-race/x/volume");
        leaked |= opens_secret("/data/hs-race/x/other/data/other-secret");
        leaked |= opens_secret("/data/hs-race/x/tmp/wisp-hostile-secret");
        tries++;
    }
    stop = 1;
    pthread_join(t, NULL);
    report("SYMLINK-RACE", leaked);
    unlink("/data/hs-race/link");
    unlink("/data/hs-race/x");
    rmdir("/data/hs-race/dir");
    rmdir("/data/hs-race/x");
    rmdir("/data/hs-race");
    return 0;
}
