//! Signal state and the x86_64 signal frame.
//!
//! The frame matches Linux's `struct rt_sigframe` byte for byte, so libc's
//! `sa_restorer` trampolines and `ucontext_t` readers (backtracers, JITs, Python's
//! faulthandler) work unchanged. See docs/signals.md.

use crate::errno::Errno;
use crate::platform::{FpuState, RFLAGS_FIXED, RFLAGS_USER_MASK, UserRegs};

pub const NSIG: usize = 64;
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;

pub const SA_SIGINFO: u64 = 0x4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const MINSIGSTKSZ: u64 = 2048;

/// si_code for signals sent by kill/tgkill.
pub const SI_USER: i32 = 0;
pub const SI_TKILL: i32 = -6;
pub const SI_KERNEL: i32 = 0x80;

/// The bit of `sig` in a sigset.
pub fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can never be caught, blocked or ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

pub fn name(sig: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "SIG0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES.get(sig as usize).copied().unwrap_or("SIGRT")
}

/// What the default disposition of a signal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    CoreDump,
    Ignore,
    /// Stop/continue: job control is not modelled yet, so these are ignored.
    JobControl,
}

pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        17 | 23 | 28 => DefaultAction::Ignore, // SIGCHLD SIGURG SIGWINCH
        18..=22 => DefaultAction::JobControl,  // SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU
        3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31 => DefaultAction::CoreDump,
        _ => DefaultAction::Terminate,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

impl SigAction {
    pub fn to_bytes(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, v) in [self.handler, self.flags, self.restorer, self.mask].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; 32]) -> SigAction {
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        SigAction { handler: w(0), flags: w(1), restorer: w(2), mask: w(3) }
    }
}

/// Details that travel with a signal (the part of siginfo_t we fill).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    /// Fault address for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP.
    pub addr: u64,
    pub pid: i32,
    pub uid: u32,
    /// si_value (sigqueue) or si_status (SIGCHLD).
    pub value: u64,
}

impl SigInfo {
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        if matches!(self.signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0 {
            b[16..24].copy_from_slice(&self.addr.to_le_bytes());
        } else {
            b[16..20].copy_from_slice(&self.pid.to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            b[24..32].copy_from_slice(&self.value.to_le_bytes());
        }
        b
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub flags: i32,
    pub size: u64,
}

impl AltStack {
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & SS_DISABLE == 0 && sp > self.sp && sp <= self.sp.wrapping_add(self.size)
    }
}

/// Signal dispositions: one table per process, shared by its threads
/// (CLONE_SIGHAND); fork copies it.
#[derive(Clone)]
pub struct Actions(std::sync::Arc<std::sync::Mutex<[SigAction; NSIG]>>);

impl Default for Actions {
    fn default() -> Self {
        Actions(std::sync::Arc::new(std::sync::Mutex::new([SigAction::default(); NSIG])))
    }
}

impl Actions {
    fn table(&self) -> std::sync::MutexGuard<'_, [SigAction; NSIG]> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, sig: i32) -> SigAction {
        self.table()[(sig - 1) as usize]
    }

    pub fn set(&self, sig: i32, act: SigAction) {
        self.table()[(sig - 1) as usize] = act;
    }

    /// A separate copy (fork).
    pub fn copy(&self) -> Actions {
        Actions(std::sync::Arc::new(std::sync::Mutex::new(*self.table())))
    }

    /// exec: handlers go back to the default; ignored signals stay ignored.
    pub fn reset_handlers(&self) {
        for a in self.table().iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }
}

/// Per-thread signal state, with the process's shared dispositions.
#[derive(Clone)]
pub struct SignalState {
    pub actions: Actions,
    pub mask: u64,
    pub pending: u64,
    pub info: [SigInfo; NSIG],
    pub altstack: AltStack,
    /// The mask to restore after a wait that ran under a temporary one
    /// (sigsuspend, ppoll, pselect6, epoll_pwait) was interrupted: the handler
    /// frame saves it, or it comes back once no handler runs.
    pub saved_mask: Option<u64>,
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: Actions::default(),
            mask: 0,
            pending: 0,
            info: [SigInfo::default(); NSIG],
            altstack: AltStack { sp: 0, flags: SS_DISABLE, size: 0 },
            saved_mask: None,
        }
    }
}

impl SignalState {
    pub fn action(&self, sig: i32) -> SigAction {
        self.actions.get(sig)
    }

    /// Queues a signal (standard signals do not queue twice).
    pub fn post(&mut self, info: SigInfo) {
        let b = bit(info.signo);
        if self.pending & b == 0 {
            self.info[(info.signo - 1) as usize] = info;
        }
        self.pending |= b;
    }

    /// The next deliverable signal, removed from the pending set.
    pub fn take(&mut self) -> Option<SigInfo> {
        let ready = self.pending & !(self.mask & !UNBLOCKABLE);
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        self.pending &= !bit(sig);
        Some(self.info[(sig - 1) as usize])
    }
}

/// Size of the part of the frame above the FPU area (pretcode + ucontext + siginfo).
pub const FRAME_SIZE: u64 = 440;
const UC: usize = 8;
const MCTX: usize = UC + 40;
const SIGMASK: usize = UC + 296;
const INFO: usize = UC + 304;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;

/// Builds the bytes of a signal frame. `fp_addr` is where the FXSAVE image goes.
pub fn build_frame(
    regs: &UserRegs,
    act: &SigAction,
    info: &SigInfo,
    old_mask: u64,
    alt: &AltStack,
    fault: Option<(u64, u64, u64)>,
    fp_addr: u64,
) -> [u8; FRAME_SIZE as usize] {
    let mut f = [0u8; FRAME_SIZE as usize];
    let mut put = |off: usize, v: u64| f[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(0, act.restorer);
    put(UC, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
    put(UC + 16, alt.sp);
    put(UC + 24, alt.flags as u32 as u64);
    put(UC + 32, alt.size);
    let gregs = [
        regs.r8,
        regs.r9,
        regs.r10,
        regs.r11,
        regs.r12,
        regs.r13,
        regs.r14,
        regs.r15,
        regs.rdi,
        regs.rsi,
        regs.rbp,
        regs.rbx,
        regs.rdx,
        regs.rax,
        regs.rcx,
        regs.rsp,
        regs.rip,
        regs.rflags,
    ];
    for (i, v) in gregs.iter().enumerate() {
        put(MCTX + 8 * i, *v);
    }
    // cs, gs, fs, ss as four u16s.
    put(MCTX + 144, 0x23 | (0x2b << 48));
    let (trapno, err, cr2) = fault.unwrap_or((0, 0, 0));
    put(MCTX + 152, err);
    put(MCTX + 160, trapno);
    put(MCTX + 168, old_mask);
    put(MCTX + 176, cr2);
    put(MCTX + 184, fp_addr);
    put(SIGMASK, old_mask);
    f[INFO..INFO + 128].copy_from_slice(&info.to_bytes());
    f
}

/// Where the frame and FPU image go for a signal delivered at `sp`.
/// Returns (frame address, fpu address).
pub fn frame_location(sp: u64, act: &SigAction, alt: &AltStack) -> (u64, u64) {
    let use_alt = act.flags & SA_ONSTACK != 0 && alt.flags & SS_DISABLE == 0 && !alt.contains(sp);
    let mut sp = if use_alt { alt.sp.wrapping_add(alt.size) } else { sp.wrapping_sub(128) };
    sp = sp.wrapping_sub(512) & !63;
    let fp = sp;
    sp = sp.wrapping_sub(FRAME_SIZE);
    sp = (sp & !15).wrapping_sub(8);
    (sp, fp)
}

/// Registers, mask and FPU pointer restored by rt_sigreturn, from the
/// ucontext bytes (frame + 8). Untrusted: only user-changeable flags are taken.
pub fn parse_ucontext(uc: &[u8; 304], regs: &mut UserRegs) -> (u64, u64) {
    let w = |off: usize| u64::from_le_bytes(uc[off..off + 8].try_into().unwrap_or([0; 8]));
    let m = 40;
    regs.r8 = w(m);
    regs.r9 = w(m + 8);
    regs.r10 = w(m + 16);
    regs.r11 = w(m + 24);
    regs.r12 = w(m + 32);
    regs.r13 = w(m + 40);
    regs.r14 = w(m + 48);
    regs.r15 = w(m + 56);
    regs.rdi = w(m + 64);
    regs.rsi = w(m + 72);
    regs.rbp = w(m + 80);
    regs.rbx = w(m + 88);
    regs.rdx = w(m + 96);
    regs.rax = w(m + 104);
    regs.rcx = w(m + 112);
    regs.rsp = w(m + 120);
    regs.rip = w(m + 128);
    regs.rflags = (regs.rflags & !RFLAGS_USER_MASK) | (w(m + 136) & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    let fpstate = w(m + 184);
    let mask = w(296);
    (mask & !UNBLOCKABLE, fpstate)
}

/// Validates a guest-supplied FXSAVE image before loading it: reserved MXCSR
/// bits would make the load fault.
pub fn check_fpu(fpu: &FpuState) -> Result<(), Errno> {
    let mxcsr = u32::from_le_bytes(fpu.0[24..28].try_into().unwrap_or([0; 4]));
    if mxcsr & !0xffff != 0 { Err(Errno::EFAULT) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips_through_sigreturn() {
        let regs = UserRegs {
            rax: 1,
            rbx: 2,
            rcx: 3,
            rdx: 4,
            rsi: 5,
            rdi: 6,
            rbp: 7,
            rsp: 0x7fff_0000,
            r8: 8,
            r15: 15,
            rip: 0x401000,
            rflags: 0x246,
            ..Default::default()
        };
        let act = SigAction { handler: 0x1000, flags: SA_SIGINFO | SA_RESTORER, restorer: 0x2000, mask: 0 };
        let info = SigInfo { signo: SIGSEGV, code: 1, addr: 0xdead, ..Default::default() };
        let (at, fp) = frame_location(regs.rsp, &act, &AltStack { flags: SS_DISABLE, ..Default::default() });
        assert_eq!((at + 8) % 16, 0, "handler entry must look like a call");
        assert!(fp >= at + FRAME_SIZE && fp % 64 == 0);
        assert!(fp + 512 <= regs.rsp - 128, "red zone is preserved");
        let f = build_frame(&regs, &act, &info, 0x5, &AltStack::default(), Some((14, 4, 0xdead)), fp);
        assert_eq!(u64::from_le_bytes(f[0..8].try_into().unwrap()), 0x2000);
        let uc: [u8; 304] = f[8..312].try_into().unwrap();
        let mut back = UserRegs { rflags: 0x202, ..Default::default() };
        let (mask, fpstate) = parse_ucontext(&uc, &mut back);
        assert_eq!(mask, 0x5);
        assert_eq!(fpstate, fp);
        assert_eq!((back.rax, back.rip, back.rsp, back.r15), (1, 0x401000, 0x7fff_0000, 15));
        assert_eq!(u64::from_le_bytes(f[312 + 16..312 + 24].try_into().unwrap()), 0xdead, "si_addr");
    }

    #[test]
    fn sigreturn_cannot_raise_privileged_flags() {
        let mut uc = [0u8; 304];
        uc[40 + 136..40 + 144].copy_from_slice(&u64::MAX.to_le_bytes());
        uc[296..304].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut r = UserRegs { rflags: 0x202, ..Default::default() };
        let (mask, _) = parse_ucontext(&uc, &mut r);
        assert_eq!(r.rflags & 0x3000, 0, "IOPL stays 0");
        assert_eq!(r.rflags & 0x200, 0x200, "interrupts stay on");
        assert_eq!(mask & UNBLOCKABLE, 0);
    }

    #[test]
    fn altstack_and_pending_order() {
        let act = SigAction { flags: SA_ONSTACK, ..Default::default() };
        let alt = AltStack { sp: 0x10000, flags: 0, size: 0x4000 };
        let (at, _) = frame_location(0x7fff_0000, &act, &alt);
        assert!(at > 0x10000 && at < 0x14000);
        let mut s = SignalState::default();
        s.post(SigInfo { signo: SIGTERM, ..Default::default() });
        s.post(SigInfo { signo: SIGINT, ..Default::default() });
        s.mask = bit(SIGINT);
        assert_eq!(s.take().map(|i| i.signo), Some(SIGTERM));
        assert_eq!(s.take(), None);
        s.mask = 0;
        assert_eq!(s.take().map(|i| i.signo), Some(SIGINT));
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGSEGV), DefaultAction::CoreDump);
    }
}
