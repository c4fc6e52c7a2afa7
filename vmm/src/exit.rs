//! Decoding VM exits into traps: pure functions, unit-tested without KVM.

use wisp_guest as layout;

/// How the guest must be resumed after a syscall exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnPath {
    /// The CPU stayed in ring 3 (PVM): restoring RIP and RFLAGS is enough.
    Direct,
    /// The CPU entered ring 0 (hardware KVM): user CS and SS must be reloaded too.
    ReloadSegments,
}

/// Decides the return path from the privilege level the entry stub ran at.
/// Under PVM `syscall` leaves the CPU at CPL 3; on hardware it enters CPL 0.
pub fn syscall_return(cpl: u8) -> ReturnPath {
    if cpl == 3 { ReturnPath::Direct } else { ReturnPath::ReloadSegments }
}

/// Where a syscall exit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallSite {
    /// Through the `syscall` instruction and the entry stub: RCX/R11 hold the
    /// user RIP/RFLAGS.
    EntryStub,
    /// A patched site in user code: the user RIP is just past the `out`.
    Patched { resume: u64 },
}

/// Classifies a syscall exit at `rip`. Some KVMs (including the PVM hosts we
/// run on) advance RIP past the `out` before exiting to userspace; newer ones
/// advance it on re-entry. `advanced` says which (see [`pio_advances_rip`]).
pub fn syscall_site(rip: u64, advanced: bool) -> SyscallSite {
    if (layout::SYSCALL_ENTRY..layout::SYSCALL_ENTRY + 0x1000).contains(&rip) {
        SyscallSite::EntryStub
    } else if advanced {
        SyscallSite::Patched { resume: rip }
    } else {
        SyscallSite::Patched { resume: rip.wrapping_add(2) }
    }
}

/// Learns the KVM behaviour from an exit in the entry stub, whose `out` is at a
/// known address.
pub fn pio_advances_rip(stub_exit_rip: u64) -> bool {
    stub_exit_rip == layout::SYSCALL_ENTRY + 2
}

/// True when an exit at `rip` with privilege `cpl` happened inside wisp's own
/// stubs rather than in user code (an interruption there must be resumed as is).
pub fn in_system_code(rip: u64, cpl: u8) -> bool {
    cpl != 3 || rip < layout::SYSTEM_END
}

/// The exception vector for an exit on `port`, if it is an exception port.
pub fn exception_vector(port: u16) -> Option<u8> {
    let v = port.checked_sub(layout::PORT_EXCEPTION_BASE)?;
    (v < layout::EXCEPTION_VECTORS).then_some(v as u8)
}

/// Where the hardware exception frame (rip, cs, rflags, rsp, ss) starts, given
/// the stub's RSP on vCPU `vcpu`; None if RSP is not inside that vCPU's stack.
pub fn exception_frame(rsp: u64, vector: u8, vcpu: u64) -> Option<u64> {
    let top = layout::kstack_top(vcpu);
    let frame = if layout::has_error_code(vector) { rsp.checked_add(8)? } else { rsp };
    let ok = rsp >= top - layout::KSTACK_SLOT && frame.checked_add(40)? <= top;
    ok.then_some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path_follows_the_cpl_syscall_left_us_at() {
        assert_eq!(syscall_return(3), ReturnPath::Direct, "PVM keeps CPL 3");
        assert_eq!(syscall_return(0), ReturnPath::ReloadSegments, "hardware KVM enters CPL 0");
    }

    #[test]
    fn sites_ports_and_frames() {
        assert_eq!(syscall_site(layout::SYSCALL_ENTRY, false), SyscallSite::EntryStub);
        assert_eq!(syscall_site(layout::SYSCALL_ENTRY + 2, true), SyscallSite::EntryStub);
        assert_eq!(syscall_site(0x401000, false), SyscallSite::Patched { resume: 0x401002 });
        assert_eq!(syscall_site(0x401002, true), SyscallSite::Patched { resume: 0x401002 });
        assert!(pio_advances_rip(layout::SYSCALL_ENTRY + 2));
        assert!(!pio_advances_rip(layout::SYSCALL_ENTRY));
        assert_eq!(exception_vector(layout::PORT_EXCEPTION_BASE + 14), Some(14));
        assert_eq!(exception_vector(layout::PORT_SYSCALL), None);
        assert_eq!(exception_vector(layout::PORT_EXCEPTION_BASE + 40), None);
        let top = layout::kstack_top(2);
        assert_eq!(exception_frame(top - 48, 14, 2), Some(top - 40));
        assert_eq!(exception_frame(top - 40, 6, 2), Some(top - 40));
        assert_eq!(exception_frame(top - 40, 6, 1), None, "another vCPU's stack");
        assert_eq!(exception_frame(0x1234, 6, 0), None);
        assert!(in_system_code(layout::SYSCALL_ENTRY, 3));
        assert!(in_system_code(0x401000, 0));
        assert!(!in_system_code(0x401000, 3));
    }
}
