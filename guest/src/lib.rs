//! Guest-side code and layout of a wisp machine.
//!
//! A machine has no guest kernel. What runs in the guest besides the program is
//! this: a GDT, an IDT whose gates lead to one-instruction exception stubs, a
//! TSS whose I/O bitmap lets ring 3 reach exactly one port, and the `syscall`
//! entry stub. Each stub is a single `out` that exits to the host, which does
//! the rest. The pages sit below 64 KiB, identity-mapped in every address space
//! (guest programs cannot map there: Linux's mmap_min_addr is the same 64 KiB).
//!
//! ```text
//! 0x1000 GDT            supervisor, read-only
//! 0x2000 IDT            supervisor, read-only
//! 0x4000 syscall entry  user, execute   out 0x10, al ; hlt
//! 0x5000 exception stub supervisor, execute   out 0x20+vector, al ; hlt (x32)
//! 0x9000 vvar           user, read-only, mapped only under the vDSO
//! 0xa000-0xdfff TSSes, one per vCPU (RSP0 + I/O map)   supervisor, read-only
//! 0xe000 exception-frame stacks, 64 bytes per vCPU      supervisor, rw
//! ```
//!
//! Each vCPU has its own TSS and frame stack, so exceptions on different vCPUs
//! never share a stack. That caps a machine at [`MAX_VCPUS`] vCPUs.

#![deny(unsafe_code)]

pub const GDT: u64 = 0x1000;
pub const IDT: u64 = 0x2000;
pub const SYSCALL_ENTRY: u64 = 0x4000;
pub const EXCEPTION_STUBS: u64 = 0x5000;
/// Per-vCPU TSSes, `TSS_STRIDE` apart.
pub const TSS_AREA: u64 = 0xa000;
pub const TSS_STRIDE: u64 = 0x100;
/// Per-vCPU exception-frame stacks, `KSTACK_SLOT` bytes each.
pub const KSTACKS: u64 = 0xe000;
pub const KSTACK_SLOT: u64 = 64;
/// vCPUs (hence running processes) one machine can have.
pub const MAX_VCPUS: u64 = 64;

/// The TSS of vCPU `i`.
pub fn tss_addr(i: u64) -> u64 {
    TSS_AREA + i * TSS_STRIDE
}

/// The top of vCPU `i`'s exception-frame stack (its TSS.RSP0).
pub fn kstack_top(i: u64) -> u64 {
    KSTACKS + (i + 1) * KSTACK_SLOT
}
/// First physical address not used by the system area.
pub const SYSTEM_END: u64 = 0x10000;

/// The syscall port: the entry stub and patched `syscall` sites exit through it.
pub const PORT_SYSCALL: u16 = 0x10;
/// Exception vector `v` exits through port `PORT_EXCEPTION_BASE + v`.
pub const PORT_EXCEPTION_BASE: u16 = 0x20;
pub const EXCEPTION_VECTORS: u16 = 32;
/// IDT entries: all 256, so `int n` from ring 3 meets a DPL-0 gate and raises
/// #GP (SIGSEGV), as on Linux, instead of running past the table's limit.
pub const IDT_ENTRIES: u16 = 256;
/// Stride of the exception stubs.
pub const STUB_SIZE: u64 = 8;

pub const SEL_KCODE: u16 = 0x08;
pub const SEL_KDATA: u16 = 0x10;
pub const SEL_UDATA: u16 = 0x18 | 3;
pub const SEL_UCODE: u16 = 0x20 | 3;
pub const SEL_TSS: u16 = 0x28;

/// TSS: 0x68 bytes, then an I/O bitmap for ports 0..0x3ff and its terminator.
pub const TSS_IOMAP: u64 = 0x68;
pub const TSS_LIMIT: u32 = 0x68 + 0x80;
/// STAR: syscall loads CS=0x08/SS=0x10; sysret uses 0x10+16|3 and 0x10+8|3.
pub const STAR: u64 = ((SEL_KDATA as u64) << 48) | ((SEL_KCODE as u64) << 32);
/// FMASK: clear TF, IF, DF, AC on syscall entry.
pub const FMASK: u64 = 0x4_0700;

/// `syscall` as it appears in code, and what a patched site becomes.
pub const SYSCALL_INSN: [u8; 2] = [0x0f, 0x05];
pub const PATCHED_INSN: [u8; 2] = [0xe6, PORT_SYSCALL as u8];

/// The syscall entry stub: `out 0x10, al ; hlt ; jmp $-1`.
pub fn syscall_entry() -> [u8; 5] {
    [0xe6, PORT_SYSCALL as u8, 0xf4, 0xeb, 0xfd]
}

/// The stub for exception `vector`: `out imm8, al ; hlt ; jmp $-1`. No register
/// is touched, so the host sees the faulting thread's registers intact.
pub fn exception_stub(vector: u8) -> [u8; STUB_SIZE as usize] {
    [0xe6, (PORT_EXCEPTION_BASE as u8).wrapping_add(vector), 0xf4, 0xeb, 0xfd, 0x90, 0x90, 0x90]
}

/// True for vectors whose frame carries an error code.
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// GDT contents: null, kernel code/data, user data/code, and the 16-byte TSS descriptor.
pub fn gdt() -> [u64; 7] {
    let base = tss_addr(0);
    let limit = TSS_LIMIT as u64;
    let tss_lo = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    [0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0x00cf_f200_0000_ffff, 0x00af_fa00_0000_ffff, tss_lo, base >> 32]
}

/// One IDT gate: 64-bit interrupt gate, DPL 0, to the vector's stub. `int3`
/// (vector 3) is DPL 3 so user breakpoints arrive as #BP, not #GP.
pub fn idt_gate(vector: u8) -> [u64; 2] {
    let stub = EXCEPTION_STUBS + vector as u64 * STUB_SIZE;
    let dpl: u64 = if vector == 3 || vector == 4 { 3 } else { 0 };
    let lo =
        (stub & 0xffff) | ((SEL_KCODE as u64) << 16) | ((0x8e | (dpl << 5)) << 40) | (((stub >> 16) & 0xffff) << 48);
    [lo, stub >> 32]
}

/// vCPU `i`'s TSS: RSP0 at its frame stack, and an I/O bitmap that lets ring 3
/// use only the syscall port.
pub fn tss(i: u64) -> Vec<u8> {
    let mut t = vec![0u8; TSS_LIMIT as usize + 1];
    t[4..12].copy_from_slice(&kstack_top(i).to_le_bytes());
    t[0x24..0x2c].copy_from_slice(&kstack_top(i).to_le_bytes()); // IST1, unused
    t[0x66..0x68].copy_from_slice(&(TSS_IOMAP as u16).to_le_bytes());
    let map = &mut t[TSS_IOMAP as usize..];
    map.fill(0xff);
    let port = PORT_SYSCALL as usize;
    map[port / 8] &= !(1 << (port % 8));
    t
}

/// A page of the system area and how every address space maps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemPage {
    pub addr: u64,
    pub user: bool,
    pub write: bool,
    pub exec: bool,
}

pub const SYSTEM_PAGES: [SystemPage; 9] = [
    SystemPage { addr: GDT, user: false, write: false, exec: false },
    SystemPage { addr: IDT, user: false, write: false, exec: false },
    SystemPage { addr: SYSCALL_ENTRY, user: true, write: false, exec: true },
    SystemPage { addr: EXCEPTION_STUBS, user: false, write: false, exec: true },
    SystemPage { addr: TSS_AREA, user: false, write: false, exec: false },
    SystemPage { addr: TSS_AREA + 0x1000, user: false, write: false, exec: false },
    SystemPage { addr: TSS_AREA + 0x2000, user: false, write: false, exec: false },
    SystemPage { addr: TSS_AREA + 0x3000, user: false, write: false, exec: false },
    SystemPage { addr: KSTACKS, user: false, write: true, exec: false },
];

/// Writes the whole system area through `write(physical address, bytes)`.
pub fn build(mut write: impl FnMut(u64, &[u8])) {
    let gdt: Vec<u8> = gdt().iter().flat_map(|d| d.to_le_bytes()).collect();
    write(GDT, &gdt);
    for v in 0..IDT_ENTRIES {
        // Vectors past the exceptions share #GP's stub; only their DPL-0 check matters.
        let stub_of = if v < EXCEPTION_VECTORS { v as u8 } else { 13 };
        let [lo, hi] = idt_gate(stub_of);
        let gate: Vec<u8> = [lo, hi].iter().flat_map(|d| d.to_le_bytes()).collect();
        write(IDT + v as u64 * 16, &gate);
    }
    for v in 0..EXCEPTION_VECTORS as u8 {
        write(EXCEPTION_STUBS + v as u64 * STUB_SIZE, &exception_stub(v));
    }
    for i in 0..MAX_VCPUS {
        write(tss_addr(i), &tss(i));
    }
    write(SYSCALL_ENTRY, &syscall_entry());
}

/// The vDSO image (built from guest/vdso/ by build.rs).
pub const VDSO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));
/// Physical page of the vDSO's data (vvar), mapped read-only under the vDSO of
/// every process. It sits in the system area but is not identity-mapped.
pub const VVAR: u64 = 0x9000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_bitmap_allows_only_the_syscall_port() {
        const { assert!(TSS_STRIDE > TSS_LIMIT as u64 && TSS_AREA + MAX_VCPUS * TSS_STRIDE <= KSTACKS) };
        const { assert!(KSTACK_SLOT * MAX_VCPUS <= 0x1000 && KSTACKS + 0x1000 <= SYSTEM_END) };
        let t = tss(3);
        assert_eq!(&t[4..12], &kstack_top(3).to_le_bytes());
        let map = &t[TSS_IOMAP as usize..];
        for port in 0..0x400usize {
            let allowed = map[port / 8] & (1 << (port % 8)) == 0;
            assert_eq!(allowed, port == PORT_SYSCALL as usize, "port {port:#x}");
        }
        assert_eq!(*t.last().unwrap(), 0xff, "terminator byte");
    }

    #[test]
    fn stubs_and_gates_point_at_each_other() {
        for v in 0..32u8 {
            let [lo, hi] = idt_gate(v);
            let target = (lo & 0xffff) | ((lo >> 48) << 16) | (hi << 32);
            assert_eq!(target, EXCEPTION_STUBS + v as u64 * STUB_SIZE);
            assert_eq!(exception_stub(v)[1] as u16, PORT_EXCEPTION_BASE + v as u16);
        }
        assert!(SYSTEM_PAGES.iter().all(|p| p.addr < SYSTEM_END));
        const { assert!(PORT_EXCEPTION_BASE + EXCEPTION_VECTORS <= 0x100, "ports fit an imm8") };
    }
}
