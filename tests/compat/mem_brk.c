// build: gcc-static
// Checks brk/sbrk: the break grows and shrinks by the requested amounts and the new heap memory is usable and zeroed.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char *start = sbrk(0);
    char *old = sbrk(1 << 20);
    if (old == (void *)-1) { puts("sbrk grow failed"); return 1; }
    char *now = sbrk(0);
    printf("grew by %ld bytes\n", (long)(now - start));
    int zero = 1;
    for (long i = 0; i < (1 << 20); i += 512) if (old[i]) zero = 0;
    printf("new heap zeroed: %s\n", zero ? "yes" : "no");
    memset(old, 'h', 1 << 20);
    printf("heap write ok: %c%c\n", old[0], old[(1 << 20) - 1]);

    sbrk(3 << 20);
    printf("grew again, total %ld bytes\n", (long)((char *)sbrk(0) - start));
    printf("old data intact: %c\n", old[12345]);

    if (sbrk(-(2 << 20)) == (void *)-1) { puts("shrink failed"); return 1; }
    printf("after shrink total %ld bytes\n", (long)((char *)sbrk(0) - start));

    printf("brk(start) -> %d\n", brk(start));
    printf("back at start: %s\n", sbrk(0) == start ? "yes" : "no");
    char *again = sbrk(3 * 4096);
    char *pagestart = (char *)(((uintptr_t)again + 4095) & ~(uintptr_t)4095);
    printf("regrown whole pages zeroed: %s\n", pagestart[0] == 0 && pagestart[8191] == 0 ? "yes" : "no");
    return 0;
}
