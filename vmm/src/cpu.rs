//! x86_64 CPU state for a fresh vCPU: segments, control registers, MSRs, CPUID.

use kvm_bindings::{CpuId, kvm_dtable, kvm_segment, kvm_sregs};
use wisp_guest as layout;

const CR0_PE: u64 = 1;
const CR0_MP: u64 = 1 << 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_WP: u64 = 1 << 16;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const EFER_SCE: u64 = 1;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

pub const MSR_TSC: u32 = 0x10;
pub const MSR_STAR: u32 = 0xc000_0081;
pub const MSR_LSTAR: u32 = 0xc000_0082;
pub const MSR_FMASK: u32 = 0xc000_0084;

pub fn user_cs() -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: layout::SEL_UCODE,
        type_: 0xb,
        present: 1,
        dpl: 3,
        db: 0,
        s: 1,
        l: 1,
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

pub fn user_ds() -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: layout::SEL_UDATA,
        type_: 0x3,
        present: 1,
        dpl: 3,
        db: 1,
        s: 1,
        l: 0,
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

fn tss_segment(vcpu: u64) -> kvm_segment {
    kvm_segment {
        base: layout::tss_addr(vcpu),
        limit: layout::TSS_LIMIT,
        selector: layout::SEL_TSS,
        type_: 0xb,
        present: 1,
        dpl: 0,
        db: 0,
        s: 0,
        l: 0,
        g: 0,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Long mode, paging on `cr3`, user segments loaded, vCPU `vcpu`'s TSS.
pub fn initial_sregs(mut s: kvm_sregs, cr3: u64, vcpu: u64) -> kvm_sregs {
    s.cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    s.cr3 = cr3;
    s.efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    s.gdt = kvm_dtable { base: layout::GDT, limit: 7 * 8 - 1, padding: [0; 3] };
    s.idt = kvm_dtable { base: layout::IDT, limit: layout::IDT_ENTRIES * 16 - 1, padding: [0; 3] };
    s.cs = user_cs();
    s.ss = user_ds();
    s.ds = user_ds();
    s.es = user_ds();
    s.fs = user_ds();
    s.gs = user_ds();
    s.tr = tss_segment(vcpu);
    s
}

/// The feature flags /proc/cpuinfo shows, from the CPUID the guest gets.
pub fn cpuinfo(cpuid: &CpuId) -> String {
    const LEAF1_EDX: [(u32, &str); 12] = [
        (0, "fpu"),
        (4, "tsc"),
        (5, "msr"),
        (6, "pae"),
        (8, "cx8"),
        (15, "cmov"),
        (19, "clflush"),
        (23, "mmx"),
        (24, "fxsr"),
        (25, "sse"),
        (26, "sse2"),
        (28, "ht"),
    ];
    const LEAF1_ECX: [(u32, &str); 12] = [
        (0, "pni"),
        (1, "pclmulqdq"),
        (9, "ssse3"),
        (12, "fma"),
        (13, "cx16"),
        (19, "sse4_1"),
        (20, "sse4_2"),
        (22, "movbe"),
        (23, "popcnt"),
        (25, "aes"),
        (28, "avx"),
        (30, "rdrand"),
    ];
    const LEAF7_EBX: [(u32, &str); 6] =
        [(3, "bmi1"), (5, "avx2"), (8, "bmi2"), (9, "erms"), (18, "rdseed"), (29, "sha_ni")];
    let mut flags = Vec::new();
    let mut vendor = String::new();
    for e in cpuid.as_slice() {
        match (e.function, e.index) {
            (0, _) => {
                for r in [e.ebx, e.edx, e.ecx] {
                    vendor.extend(r.to_le_bytes().iter().map(|b| *b as char));
                }
            }
            (1, _) => {
                flags.extend(LEAF1_EDX.iter().filter(|(b, _)| e.edx & (1 << b) != 0).map(|(_, n)| *n));
                flags.extend(LEAF1_ECX.iter().filter(|(b, _)| e.ecx & (1 << b) != 0).map(|(_, n)| *n));
            }
            (7, 0) => flags.extend(LEAF7_EBX.iter().filter(|(b, _)| e.ebx & (1 << b) != 0).map(|(_, n)| *n)),
            _ => {}
        }
    }
    flags.push("syscall");
    flags.push("nx");
    flags.push("lm");
    format!(
        "processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 6\nmodel name\t: wisp virtual CPU\ncpu MHz\t\t: 0.000\n\
         physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\nflags\t\t: {}\nbogomips\t: 0.00\n\
         clflush size\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\n\n",
        flags.join(" ")
    )
}

/// AT_HWCAP: CPUID leaf 1 EDX as the guest sees it.
pub fn hwcap(cpuid: &CpuId) -> u64 {
    cpuid.as_slice().iter().find(|e| e.function == 1).map(|e| e.edx as u64).unwrap_or(0)
}
