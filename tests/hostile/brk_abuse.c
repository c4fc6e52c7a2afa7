// expect: native
// Abuses brk: asks for 1<<47, a kernel address, below the start, -1, and a huge-but-canonical step, printing only whether the break moved.
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t cur(void) { return (uintptr_t)syscall(SYS_brk, 0); }

static void try_brk(const char *label, uintptr_t target) {
    uintptr_t before = cur();
    uintptr_t ret = (uintptr_t)syscall(SYS_brk, target);
    uintptr_t after = cur();
    printf("%-28s %s, returned %s\n", label, after == before ? "unchanged" : "moved",
           ret == after ? "current break" : "something else");
    if (after != before) syscall(SYS_brk, before);
}

int main(void) {
    uintptr_t start = cur();
    printf("brk(0) repeatable: %s\n", cur() == start ? "yes" : "no");
    try_brk("brk(1<<47)", 1ULL << 47);
    try_brk("brk(0xffff800000000000)", 0xffff800000000000ULL);
    try_brk("brk(0xffffffffffffffff)", (uintptr_t)-1);
    try_brk("brk(start - 1 MiB)", start - (1 << 20));
    try_brk("brk(1)", 1);
    try_brk("brk(start + 1<<45)", start + (1ULL << 45));
    try_brk("brk(start + 64 KiB)", start + (64 << 10));

    uintptr_t grown = (uintptr_t)syscall(SYS_brk, start + (64 << 10));
    volatile char *heap = (volatile char *)start;
    heap[0] = 'x'; heap[(64 << 10) - 1] = 'y';
    printf("grown heap usable: %s\n", grown == start + (64 << 10) && heap[0] == 'x' ? "yes" : "no");
    syscall(SYS_brk, start);
    printf("back at start: %s\n", cur() == start ? "yes" : "no");
    return 0;
}
