// Guessing the host's state directory and neighbours by name: /var/lib/wisp, ~/.local/share/wisp, /proc/1/root/var/lib/wisp, /proc/self/root/../.., the volume's data path seen from outside; none exists in the machine.
#include "hs.h"

int main(void) {
    const char *guesses[] = {"/var/lib/wisp/volumes/vol/volume", "/root/.local/share/wisp/volumes/vol/volume",
                             "/proc/1/root/var/lib/wisp/volumes/vol/volume", "/proc/self/root/../../volume",
                             "/volumes/vol/volume", "/volume", "/data/volume", "/tmp/wisp-hostile-secret",
                             "/other/data/other-secret", "/data/../other/data/other-secret"};
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "GUESS-%d", i);
        report(name, opens_secret(guesses[i]));
    }
    return 0;
}
