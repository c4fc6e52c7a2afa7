//! The seam between the Linux personality and the hypervisor.
//!
//! The personality never talks to KVM. It hands a [`Context`] to
//! [`Platform::switch`], which runs guest code until the guest traps back, and
//! reports why as a [`Trap`]. `wisp-vmm` implements this on KVM; tests use a mock.

/// User-mode register state of one thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub fs_base: u64,
    pub gs_base: u64,
}

/// The RFLAGS bits user code may change (CF PF AF ZF SF TF DF OF AC ID and friends).
pub const RFLAGS_USER_MASK: u64 = 0x25_4dd5;
/// RFLAGS bit 1 is always set, and interrupts stay enabled.
pub const RFLAGS_FIXED: u64 = 0x202;

/// Everything the platform needs to resume a thread.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub regs: UserRegs,
    /// Physical address of the address space's root page table.
    pub cr3: u64,
}

/// How the guest entered the host for a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallEntry {
    /// Through the `syscall` instruction and the entry stub; the site can be patched.
    Instruction,
    /// Through a site already patched to `out`.
    Patched,
}

/// A CPU exception raised by user code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub vector: u8,
    pub error_code: u64,
    /// CR2 for page faults; 0 otherwise.
    pub addr: u64,
}

/// Why the guest stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// `regs.rax` holds the number, `regs.rip` the return address, and `rcx`/`r11`
    /// are already clobbered as the `syscall` instruction does.
    Syscall(SyscallEntry),
    Fault(Fault),
    /// The host interrupted the vCPU (timeout, host signal); nothing happened in the guest.
    Interrupted,
}

/// The FXSAVE image of the x87/SSE state, as signal frames carry it.
#[derive(Clone, Copy)]
pub struct FpuState(pub [u8; 512]);

impl Default for FpuState {
    fn default() -> Self {
        let mut b = [0u8; 512];
        b[0..2].copy_from_slice(&0x37fu16.to_le_bytes()); // FCW
        b[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
        b[28..32].copy_from_slice(&0xffffu32.to_le_bytes()); // MXCSR_MASK
        FpuState(b)
    }
}

/// A failure of the platform itself, not of the guest program.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("Guest triple-faulted at rip {rip:#x}")]
    TripleFault { rip: u64 },
    #[error("Unexpected VM exit: {0}")]
    UnexpectedExit(String),
    #[error("KVM ioctl failed: {0}")]
    Ioctl(String),
}

/// One hypervisor-backed thread context.
pub trait Platform {
    /// Runs `ctx` in guest user mode until it traps. On return `ctx.regs` holds the
    /// state at the trap.
    fn switch(&mut self, ctx: &mut Context) -> Result<Trap, PlatformError>;
    /// Reads the thread's x87/SSE state.
    fn fpu(&mut self) -> Result<FpuState, PlatformError>;
    /// Replaces the thread's x87/SSE state.
    fn set_fpu(&mut self, fpu: &FpuState) -> Result<(), PlatformError>;
    /// The guest TSC's offset from the host TSC and its rate in kHz, when the
    /// guest can read a stable TSC (enables the vDSO clock).
    fn tsc(&mut self) -> Option<(i64, u64)> {
        None
    }
    /// The calling thread gives the vCPU up (it goes idle, for reuse by
    /// another thread).
    fn detach(&mut self) {}
}
