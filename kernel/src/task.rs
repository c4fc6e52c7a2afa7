//! A process: address space, descriptors, signals, and the loop that runs it.
//!
//! `Process::run` is the syscall path: switch into the guest, and on each trap
//! dispatch one syscall, resolve one fault, or take one host interruption; then
//! deliver pending signals and go back in. See ARCHITECTURE.md.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::errno::{Errno, SysResult};
use crate::fd::FdTable;
use crate::loader::{self, ExecArgs, ExecError, ExecImage, Vdso};
use crate::machine::Machine;
use crate::mm::{FaultOutcome, MemoryManager};
use crate::platform::{Context, Fault, FpuState, Platform, PlatformError, RFLAGS_FIXED, SyscallEntry, Trap};
use crate::signal::{self, DefaultAction, SigInfo, SignalState};
use crate::stats::Stats;
use crate::syscalls;
use crate::vfs::Vfs;
use crate::vfs::file::OpenFile;
use crate::vfs::hostfs::HostFile;
use crate::vfs::procfs::ProcView;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled { sig: i32, core: bool },
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128+N for signal N.
    pub fn shell_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled { sig, .. } => 128 + sig,
        }
    }
}

/// Signals requested from outside the machine (timeouts, Ctrl-C on the host),
/// as a bitmask; the host side sets bits and kicks the vCPU.
#[derive(Clone, Default)]
pub struct Interrupts(Arc<InterruptsInner>);

#[derive(Default)]
pub struct InterruptsInner {
    bits: AtomicU64,
    /// On a process's shared handle: the process is stopped (job control);
    /// every thread waits until SIGCONT clears it or SIGKILL arrives.
    stopped: std::sync::atomic::AtomicBool,
    /// Details for raised signals that carry them (SIGCHLD, sigqueue, kill).
    info: std::sync::Mutex<std::collections::BTreeMap<i32, SigInfo>>,
}

impl Interrupts {
    pub fn raise(&self, sig: i32) {
        self.0.bits.fetch_or(signal::bit(sig), Ordering::SeqCst);
    }

    /// Raises a signal with its siginfo (the first one wins until taken, as
    /// standard signals do not queue).
    pub fn raise_info(&self, info: SigInfo) {
        if let Ok(mut m) = self.0.info.lock() {
            m.entry(info.signo).or_insert(info);
        }
        self.raise(info.signo);
    }

    /// The details raised with `sig`, if any.
    pub fn take_info(&self, sig: i32) -> Option<SigInfo> {
        self.0.info.lock().ok()?.remove(&sig)
    }

    /// True when a signal has been raised and not yet taken.
    pub fn pending(&self) -> bool {
        self.peek() != 0
    }

    /// The raised signals, left in place.
    pub fn peek(&self) -> u64 {
        self.0.bits.load(Ordering::SeqCst)
    }

    /// Takes the raised signals, clearing them.
    pub fn take_pending(&self) -> u64 {
        self.0.bits.swap(0, Ordering::SeqCst)
    }

    /// Marks the process stopped (true) or continued (false).
    pub fn set_stopped(&self, stopped: bool) {
        self.0.stopped.store(stopped, Ordering::SeqCst);
    }

    /// True while the process is stopped.
    pub fn stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Takes the raised signals outside `mask`, leaving the others.
    pub fn take_unblocked(&self, mask: u64) -> u64 {
        let want = self.peek() & !mask;
        if want == 0 {
            return 0;
        }
        self.0.bits.fetch_and(!want, Ordering::SeqCst) & want
    }
}

/// The working directory and umask of a process: shared by its threads (and
/// by clone(CLONE_FS) children), copied by fork.
#[derive(Clone)]
pub struct FsContext(Arc<std::sync::Mutex<(String, u32)>>);

impl FsContext {
    pub fn new(cwd: String, umask: u32) -> FsContext {
        FsContext(Arc::new(std::sync::Mutex::new((cwd, umask))))
    }
    fn get(&self) -> std::sync::MutexGuard<'_, (String, u32)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn cwd(&self) -> String {
        self.get().0.clone()
    }
    pub fn set_cwd(&self, cwd: String) {
        self.get().0 = cwd;
    }
    pub fn umask(&self) -> u32 {
        self.get().1
    }
    /// Sets the umask; returns the old one.
    pub fn set_umask(&self, umask: u32) -> u32 {
        std::mem::replace(&mut self.get().1, umask)
    }
    /// An unshared copy (fork).
    pub fn copy(&self) -> FsContext {
        let (cwd, umask) = self.get().clone();
        FsContext::new(cwd, umask)
    }
}

/// A process's record-lock descriptors by (device, inode).
pub type RecordLocks = Arc<std::sync::Mutex<std::collections::HashMap<(u64, u64), Arc<std::os::fd::OwnedFd>>>>;

/// Settings that do not change while a process runs.
pub struct ProcessConfig {
    pub strace: bool,
    pub patch_syscalls: bool,
    pub cpuinfo: String,
    pub hostname: String,
    /// AT_HWCAP for programs this machine loads.
    pub hwcap: u64,
    /// The vDSO image and its data page, when the guest clock is in use.
    pub vdso: Option<(&'static [u8], u64)>,
}

/// A process of a machine.
pub struct Process {
    /// This thread's id (the process id for its main thread).
    pub pid: i32,
    /// The process (thread group) id.
    pub tgid: i32,
    /// The thread ended the whole process (exit_group, or a fatal signal).
    pub group_exit: bool,
    /// The machine's process table; None for a process run on its own (tests).
    pub machine: Option<Arc<Machine>>,
    pub mm: MemoryManager,
    pub vfs: Arc<Vfs>,
    pub fds: FdTable,
    /// Working directory and umask.
    pub fs: FsContext,
    pub exe: String,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub ctx: Context,
    pub signals: SignalState,
    pub exit: Option<ExitStatus>,
    pub stats: Stats,
    pub config: Arc<ProcessConfig>,
    pub interrupts: Interrupts,
    /// Signals sent to the process while every thread blocked them; shared by
    /// its threads, taken by the first one that unblocks them.
    pub shared_signals: Interrupts,
    pub started: Instant,
    pub vdso_base: Option<u64>,
    /// The guest clock, when the vDSO is in use.
    pub clock: Option<crate::vdso::Clock>,
    /// alarm/setitimer(ITIMER_REAL), shared by the process's threads.
    pub itimer: Arc<crate::syscalls::RealTimer>,
    /// Host descriptors that carry this process's POSIX record locks, one per
    /// locked file (device, inode); shared by its threads.
    pub record_locks: RecordLocks,
    /// timer_create timers, shared by the process's threads.
    pub posix_timers: Arc<crate::syscalls::PosixTimers>,
    /// Name set by prctl(PR_SET_NAME).
    pub comm: Option<String>,
    pub clear_child_tid: u64,
    /// The head of this thread's robust futex list (set_robust_list).
    pub robust_list: u64,
    pub rlimits: [(u64, u64); 16],
    /// A synchronous signal from a fault, delivered before anything pending.
    forced: Option<(SigInfo, (u64, u64, u64))>,
    /// Set by handlers that replace the whole register file (rt_sigreturn).
    pub regs_replaced: bool,
    /// The number of a syscall that just returned EINTR and may be restarted.
    restart: Option<u64>,
    /// FPU state to load before the next switch (from rt_sigreturn or exec).
    pub pending_fpu: Option<FpuState>,
    /// A child made by fork/clone, started once the syscall returns; and
    /// whether this process waits for it to exec or exit (vfork).
    pub spawned: Option<(Box<Process>, bool)>,
    strace_out: Box<dyn Write + Send>,
}

/// Frame faults whose default action prints a diagnostic line.
fn is_fault_signal(sig: i32) -> bool {
    matches!(sig, signal::SIGSEGV | signal::SIGBUS | signal::SIGILL | signal::SIGFPE | signal::SIGTRAP)
}

impl Process {
    pub fn new(mm: MemoryManager, vfs: Arc<Vfs>, cwd: String, config: Arc<ProcessConfig>) -> Process {
        Process {
            pid: 1,
            tgid: 1,
            group_exit: false,
            machine: None,
            mm,
            vfs,
            fds: FdTable::default(),
            fs: FsContext::new(cwd, 0o022),
            exe: String::new(),
            argv: Vec::new(),
            envp: Vec::new(),
            ctx: Context::default(),
            signals: SignalState::default(),
            exit: None,
            stats: Stats::default(),
            config,
            interrupts: Interrupts::default(),
            shared_signals: Interrupts::default(),
            started: Instant::now(),
            vdso_base: None,
            clock: None,
            itimer: Default::default(),
            posix_timers: Default::default(),
            record_locks: Default::default(),
            comm: None,
            clear_child_tid: 0,
            robust_list: 0,
            rlimits: crate::syscalls::default_rlimits(0),
            forced: None,
            regs_replaced: false,
            restart: None,
            pending_fpu: None,
            spawned: None,
            strace_out: Box::new(std::io::stderr()),
        }
    }

    /// Gives the guest the host's standard streams as descriptors 0, 1 and 2.
    pub fn inherit_stdio(&mut self) -> Result<(), Errno> {
        use std::os::fd::AsFd;
        let fds = [
            crate::host::dup(std::io::stdin().as_fd())?,
            crate::host::dup(std::io::stdout().as_fd())?,
            crate::host::dup(std::io::stderr().as_fd())?,
        ];
        self.set_stdio(fds)
    }

    /// Makes host descriptors the guest's 0, 1 and 2 (pipes to a daemon,
    /// say); each keeps its own access mode and O_APPEND.
    pub fn set_stdio(&mut self, fds: [std::os::fd::OwnedFd; 3]) -> Result<(), Errno> {
        use std::os::fd::AsFd;
        for (fd, (owned, flags)) in fds.into_iter().zip([libc::O_RDONLY, libc::O_WRONLY, libc::O_WRONLY]).enumerate() {
            let path = stream_name(owned.as_fd());
            let file = HostFile::from_fd(owned, path);
            let status = crate::host::fcntl_getfl(file.fd.as_fd()).unwrap_or(0);
            let access = status & libc::O_ACCMODE;
            let flags = if access == libc::O_RDWR { libc::O_RDWR } else { flags } | (status & libc::O_APPEND);
            self.fds.insert_at(fd as i32, Arc::new(OpenFile::new(Box::new(file), flags as u32)), false)?;
        }
        Ok(())
    }

    /// Loads `args.path` into a fresh address space, replacing this one, and
    /// points the registers at its entry. On failure nothing has changed.
    pub fn exec(&mut self, args: ExecArgs<'_>) -> Result<(), ExecError> {
        let envp = args.envp.clone();
        let view = Snapshot::of(&ProcViewRef(self));
        let shown = String::from_utf8_lossy(args.path).into_owned();
        let mut mm = self.mm.new_address_space().map_err(|e| ExecError::Other(shown, e))?;
        let vdso = self.config.vdso.map(|(image, data_pa)| Vdso { image, data_pages: 1, data_pa });
        let image: ExecImage = loader::exec(&mut mm, &self.vfs, &view, args, vdso.as_ref())?;
        self.mm = mm;
        if let Some(m) = &self.machine {
            let comm = image.exe.rsplit('/').next().unwrap_or("").chars().take(15).collect();
            let cmdline = image.argv.iter().flat_map(|a| a.iter().copied().chain([0])).collect();
            m.set_identity(self.tgid, comm, cmdline);
        }
        self.exe = image.exe;
        self.argv = image.argv;
        self.envp = envp;
        self.vdso_base = image.vdso_base;
        self.ctx.regs =
            crate::platform::UserRegs { rip: image.entry, rsp: image.sp, rflags: RFLAGS_FIXED, ..Default::default() };
        self.ctx.cr3 = self.mm.root();
        Ok(())
    }

    /// Runs until the process exits.
    pub fn run(&mut self, p: &mut dyn Platform) -> Result<ExitStatus, PlatformError> {
        loop {
            self.take_interrupts();
            if self.shared_signals.stopped() && self.exit.is_none() {
                // Another thread stopped the process.
                self.wait_while_stopped();
                self.take_interrupts();
            }
            self.deliver_signals(p)?;
            if let Some(s) = self.exit {
                return Ok(s);
            }
            if let Some(fpu) = self.pending_fpu.take() {
                p.set_fpu(&fpu)?;
            }
            self.restart = None;
            let trap = p.switch(&mut self.ctx)?;
            self.stats.exits += 1;
            match trap {
                Trap::Syscall(entry) => {
                    self.syscall(entry);
                    if let Some((child, vfork)) = self.spawned.take() {
                        self.start_child(p, *child, vfork)?;
                    }
                }
                Trap::Fault(f) => self.fault(f),
                Trap::Interrupted => self.stats.interrupts += 1,
            }
        }
    }

    /// Starts a child made by fork/clone on its own thread, with a copy of this
    /// thread's FPU state; a vfork parent then waits for it to exec or exit.
    fn start_child(&mut self, p: &mut dyn Platform, child: Process, vfork: bool) -> Result<(), PlatformError> {
        let Some(machine) = self.machine.clone() else { return Ok(()) };
        let pid = child.pid;
        let fpu = p.fpu()?;
        if machine.start(child, fpu).is_err() {
            // The thread could not start: the fork fails after all.
            self.ctx.regs.rax = (-(Errno::EAGAIN.0 as i64)) as u64;
            return Ok(());
        }
        if vfork {
            machine.wait_vfork(pid, &self.interrupt_probe());
        }
        Ok(())
    }

    /// A probe for blocking waits: true once a signal that must interrupt the
    /// wait has arrived (for process 1 that includes signals sent to wisp).
    pub fn interrupt_probe(&self) -> impl Fn() -> bool + Send + 'static {
        let (own, shared, watch) = (self.interrupts.clone(), self.shared_signals.clone(), self.deliverable_mask());
        let host = if self.pid == 1 { self.machine.as_ref().map(|m| m.host_signals.clone()) } else { None };
        move || (own.peek() | shared.peek()) & watch != 0 || host.as_ref().is_some_and(|h| h.pending())
    }

    fn take_interrupts(&mut self) {
        // Signals sent to wisp go to the machine's first process group, as a
        // terminal sends Ctrl-C to its foreground group.
        if let Some(m) = self.machine.clone().filter(|_| self.pid == 1) {
            let host = m.host_signals.take_pending();
            if host != 0 {
                let group = m.pgid(1).unwrap_or(1);
                for sig in 1..=signal::NSIG as i32 {
                    if host & signal::bit(sig) != 0 {
                        let _ = m.kill(0, crate::machine::Target::Group(group), sig);
                    }
                }
            }
        }
        if self.interrupts.peek() & signal::bit(signal::SIGKILL) != 0 {
            self.exit = Some(ExitStatus::Signaled { sig: signal::SIGKILL, core: false });
            return;
        }
        let own = self.interrupts.clone();
        self.post_raised(&own, own.take_pending());
        let shared = self.shared_signals.clone();
        self.post_raised(&shared, shared.take_unblocked(self.signals.mask));
    }

    /// Moves signals taken from `from` into the pending set, with their details.
    pub fn post_raised(&mut self, from: &Interrupts, bits: u64) {
        for sig in 1..=signal::NSIG as i32 {
            if bits & signal::bit(sig) != 0 {
                let info =
                    from.take_info(sig).unwrap_or(SigInfo { signo: sig, code: signal::SI_USER, ..Default::default() });
                self.signals.post(info);
            }
        }
    }

    /// Sets this thread's signal mask (SIGKILL and SIGSTOP stay unblocked).
    pub fn set_mask(&mut self, mask: u64) {
        self.signals.mask = mask & !signal::UNBLOCKABLE;
        if let Some(m) = &self.machine {
            m.set_mask(self.pid, self.signals.mask);
        }
    }

    /// Runs a wait under a temporary signal mask (sigsuspend, ppoll, pselect6,
    /// epoll_pwait). The old mask comes back when the call returns, or, when
    /// a signal interrupted it, once that signal's handler returns.
    pub fn with_temp_mask(&mut self, mask: Option<u64>, wait: impl FnOnce(&mut Process) -> SysResult) -> SysResult {
        let Some(mask) = mask else { return wait(self) };
        let old = self.signals.mask;
        self.set_mask(mask);
        let r = wait(self);
        if r == Err(Errno::EINTR) {
            self.signals.saved_mask = Some(old);
        } else {
            self.set_mask(old);
        }
        r
    }

    /// True when a signal from outside is waiting that would do something
    /// (not blocked, not ignored); blocking host calls poll this.
    pub fn interrupted(&self) -> bool {
        self.interrupt_probe()()
    }

    /// Signals whose arrival must interrupt a blocking call.
    pub fn deliverable_mask(&self) -> u64 {
        let mut m = 0u64;
        for sig in 1..=signal::NSIG as i32 {
            let a = self.signals.action(sig);
            let ignored = a.handler == signal::SIG_IGN
                || (a.handler == signal::SIG_DFL
                    && (signal::default_action(sig) == DefaultAction::Ignore || sig == signal::SIGCONT));
            let blocked = self.signals.mask & signal::bit(sig) != 0;
            if sig == signal::SIGKILL || (!ignored && !blocked) {
                m |= signal::bit(sig);
            }
        }
        m
    }

    fn syscall(&mut self, entry: SyscallEntry) {
        self.mm.progress();
        // Buffers on the stack lie at or above RSP; make sure they are populated.
        self.mm.ensure_stack(self.ctx.regs.rsp.saturating_sub(256));
        if entry == SyscallEntry::Instruction && self.config.patch_syscalls {
            self.patch_site(self.ctx.regs.rip.wrapping_sub(2));
        }
        // Linux reads the number as a 32-bit value: the upper half is ignored.
        let nr = self.ctx.regs.rax & 0xffff_ffff;
        let r = &self.ctx.regs;
        let args = syscalls::Args([r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]);
        self.regs_replaced = false;
        let t0 = Instant::now();
        let result = syscalls::dispatch(self, nr, &args);
        self.stats.record(nr, t0.elapsed());
        if self.config.strace {
            let line = syscalls::strace_line(nr, &args, &result);
            let _ = writeln!(self.strace_out, "[wisp {}] {line}", self.pid);
        }
        // A blocking call cut short by a signal may be restarted after the
        // handler, if the handler asked for SA_RESTART (see `deliver`).
        self.restart = (result == Err(Errno::EINTR) && syscalls::restartable(nr)).then_some(nr);
        if !self.regs_replaced {
            self.ctx.regs.rax = match result {
                Ok(v) => v,
                Err(e) => (-(e.0 as i64)) as u64,
            };
        }
    }

    /// Rewrites a `syscall` (0f 05) the guest just executed into `out 0x10, al`
    /// (e6 10), so the next call at this site exits straight from ring 3.
    fn patch_site(&mut self, site: u64) {
        let mut b = [0u8; 2];
        if self.mm.copy_in(site, &mut b).is_ok() && b == [0x0f, 0x05] {
            let private = self.mm.vmas().find(site).is_some_and(|v| v.file().is_none_or(|f| !f.shared));
            if private && self.mm.poke(site, &[0xe6, 0x10]).is_ok() {
                self.stats.patched += 1;
            }
        }
    }

    fn fault(&mut self, f: Fault) {
        let rip = self.ctx.regs.rip;
        let (sig, code, addr) = match f.vector {
            14 => match self.mm.handle_fault(f.addr, f.error_code) {
                FaultOutcome::Retry => {
                    self.stats.spurious_faults += 1;
                    return;
                }
                FaultOutcome::Segv(code) => (signal::SIGSEGV, code, f.addr),
                FaultOutcome::Bus => (signal::SIGBUS, 2, f.addr),
            },
            0 => (signal::SIGFPE, 1, rip),
            1 => (signal::SIGTRAP, 2, rip),
            3 => (signal::SIGTRAP, signal::SI_KERNEL, 0),
            // `int n` to a DPL-0 gate is #GP (SIGSEGV) on Linux; PVM reports #UD.
            6 if self.opcode_at(rip) == Some(0xcd) => (signal::SIGSEGV, signal::SI_KERNEL, 0),
            6 => (signal::SIGILL, 2, rip),
            16 | 19 => (signal::SIGFPE, 0, rip),
            12 => (signal::SIGBUS, signal::SI_KERNEL, 0),
            17 => (signal::SIGBUS, 1, f.addr),
            _ => (signal::SIGSEGV, signal::SI_KERNEL, 0),
        };
        self.stats.faults += 1;
        self.force_signal(
            SigInfo { signo: sig, code, addr, ..Default::default() },
            (f.vector as u64, f.error_code, f.addr),
        );
    }

    fn opcode_at(&self, rip: u64) -> Option<u8> {
        let mut b = [0u8; 1];
        self.mm.copy_in(rip, &mut b).ok().map(|_| b[0])
    }

    /// Delivers a synchronous signal: if it is blocked or ignored, the default
    /// action is restored first, as Linux's force_sig does.
    pub fn force_signal(&mut self, info: SigInfo, fault: (u64, u64, u64)) {
        let act = self.signals.actions.get(info.signo);
        if self.signals.mask & signal::bit(info.signo) != 0 || act.handler == signal::SIG_IGN {
            self.signals.actions.set(info.signo, signal::SigAction { handler: signal::SIG_DFL, ..act });
            self.signals.mask &= !signal::bit(info.signo);
        }
        self.forced = Some((info, fault));
    }

    fn deliver_signals(&mut self, p: &mut dyn Platform) -> Result<(), PlatformError> {
        if let Some((info, fault)) = self.forced.take() {
            self.deliver(p, info, Some(fault))?;
        }
        while self.exit.is_none() {
            let Some(info) = self.signals.take() else { break };
            if self.deliver(p, info, None)? {
                break;
            }
        }
        // No handler saved the mask a wait replaced: it comes back now.
        if let Some(old) = self.signals.saved_mask.take() {
            self.set_mask(old);
        }
        Ok(())
    }

    /// Returns true when a handler frame was set up (one per return to the guest).
    fn deliver(
        &mut self,
        p: &mut dyn Platform,
        info: SigInfo,
        fault: Option<(u64, u64, u64)>,
    ) -> Result<bool, PlatformError> {
        let sig = info.signo;
        let act = self.signals.action(sig);
        if sig == signal::SIGKILL || act.handler == signal::SIG_DFL {
            match signal::default_action(sig) {
                DefaultAction::JobControl if sig != signal::SIGCONT => self.stop(sig),
                DefaultAction::Ignore | DefaultAction::JobControl if sig != signal::SIGKILL => {}
                action => {
                    if is_fault_signal(sig) && fault.is_some() {
                        self.report_fault(&info);
                    }
                    self.exit = Some(ExitStatus::Signaled { sig, core: action == DefaultAction::CoreDump });
                }
            }
            return Ok(false);
        }
        if act.handler == signal::SIG_IGN {
            return Ok(false);
        }
        if act.flags & signal::SA_RESTORER == 0 || self.setup_frame(p, &info, &act, fault).is_err() {
            // No way back from the handler, or no room for the frame: Linux kills
            // the process with SIGSEGV.
            self.report_fault(&SigInfo { signo: signal::SIGSEGV, addr: self.ctx.regs.rsp, ..info });
            self.exit = Some(ExitStatus::Signaled { sig: signal::SIGSEGV, core: true });
            return Ok(false);
        }
        self.stats.signals += 1;
        let mut mask = self.signals.mask | act.mask;
        if act.flags & signal::SA_NODEFER == 0 {
            mask |= signal::bit(sig);
        }
        self.set_mask(mask);
        if act.flags & signal::SA_RESETHAND != 0 {
            self.signals.actions.set(sig, Default::default());
        }
        Ok(true)
    }

    /// Rewinds an interrupted restartable syscall so it runs again once the
    /// handler returns (SA_RESTART). Both `syscall` and its patched form are
    /// two bytes long.
    fn rewind_for_restart(&mut self, act: &signal::SigAction) {
        if let Some(nr) = self.restart.take().filter(|_| act.flags & signal::SA_RESTART != 0) {
            self.ctx.regs.rax = nr;
            self.ctx.regs.rip = self.ctx.regs.rip.wrapping_sub(2);
        }
    }

    /// Stops the process (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) until SIGCONT or
    /// SIGKILL arrives: every thread of it stops (the others at their next
    /// return from the guest or from the call they are blocked in), and the
    /// parent is told once.
    fn stop(&mut self, sig: i32) {
        let Some(m) = self.machine.clone() else { return };
        self.shared_signals.set_stopped(true);
        m.job_state(self.tgid, Some(sig));
        m.kick_threads(self.tgid, self.pid);
        self.wait_while_stopped();
        if !self.shared_signals.stopped() {
            m.job_state(self.tgid, None);
        }
        // No handler ran: a call the stop interrupted carries on, as on Linux.
        if let Some(nr) = self.restart.take() {
            self.ctx.regs.rax = nr;
            self.ctx.regs.rip = self.ctx.regs.rip.wrapping_sub(2);
        }
    }

    /// Waits while the process is stopped; SIGCONT (which clears the stop
    /// when it is sent, blocked or not) or SIGKILL ends the wait.
    fn wait_while_stopped(&self) {
        while self.shared_signals.stopped() && self.interrupts.peek() & signal::bit(signal::SIGKILL) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn setup_frame(
        &mut self,
        p: &mut dyn Platform,
        info: &SigInfo,
        act: &signal::SigAction,
        fault: Option<(u64, u64, u64)>,
    ) -> Result<(), Errno> {
        self.rewind_for_restart(act);
        let regs = self.ctx.regs;
        let alt = self.signals.altstack;
        let (at, fp_at) = signal::frame_location(regs.rsp, act, &alt);
        self.mm.ensure_stack(at);
        let fpu = p.fpu().map_err(|_| Errno::EFAULT)?;
        self.mm.copy_out(fp_at, &fpu.0)?;
        let old_mask = self.signals.saved_mask.take().unwrap_or(self.signals.mask);
        let frame = signal::build_frame(&regs, act, info, old_mask, &alt, fault, fp_at);
        self.mm.copy_out(at, &frame)?;
        p.set_fpu(&FpuState::default()).map_err(|_| Errno::EFAULT)?;
        let r = &mut self.ctx.regs;
        r.rsp = at;
        r.rip = act.handler;
        r.rdi = info.signo as u64;
        r.rsi = at + 312;
        r.rdx = at + 8;
        r.rax = 0;
        r.rflags &= !(0x400 | 0x100); // DF, TF
        Ok(())
    }

    fn report_fault(&self, info: &SigInfo) {
        let prog = self.argv.first().map(|a| String::from_utf8_lossy(a).into_owned()).unwrap_or_default();
        eprintln!(
            "wisp: {prog} killed by {} at address {:#x} (rip {:#x})",
            signal::name(info.signo),
            info.addr,
            self.ctx.regs.rip
        );
    }

    /// The parent's pid (0 for the machine's first process).
    pub fn ppid(&self) -> i32 {
        match &self.machine {
            Some(m) => m.ppid(self.pid),
            None => 0,
        }
    }

    /// A new task beside this one: the given memory and descriptors, a copy
    /// of everything else, these registers with RAX = 0, no pending signals.
    fn spawn_like(&self, pid: i32, tgid: i32, mm: MemoryManager, fds: FdTable) -> Process {
        let mut ctx = self.ctx.clone();
        ctx.regs.rax = 0;
        ctx.cr3 = mm.root();
        let mut signals = self.signals.clone();
        signals.pending = 0;
        if tgid == pid {
            // A new process gets its own copy of the dispositions.
            signals.actions = signals.actions.copy();
        }
        Process {
            pid,
            tgid,
            group_exit: false,
            machine: self.machine.clone(),
            mm,
            vfs: self.vfs.clone(),
            fds,
            fs: self.fs.copy(),
            exe: self.exe.clone(),
            argv: self.argv.clone(),
            envp: self.envp.clone(),
            ctx,
            signals,
            exit: None,
            stats: Stats::default(),
            config: self.config.clone(),
            interrupts: Interrupts::default(),
            shared_signals: if tgid == pid { Interrupts::default() } else { self.shared_signals.clone() },
            started: Instant::now(),
            vdso_base: self.vdso_base,
            clock: self.clock,
            itimer: Default::default(),
            posix_timers: Default::default(),
            record_locks: Default::default(),
            comm: self.comm.clone(),
            clear_child_tid: 0,
            robust_list: 0,
            rlimits: self.rlimits,
            forced: None,
            regs_replaced: false,
            restart: None,
            pending_fpu: None,
            spawned: None,
            strace_out: Box::new(std::io::stderr()),
        }
    }

    /// The child's copy of this process for fork: a copy-on-write address
    /// space, the same open files, working directory, signal dispositions and
    /// mask, and these registers with RAX = 0. Interval timers are not inherited.
    pub fn fork_child(&mut self, pid: i32, mm: MemoryManager) -> Process {
        self.spawn_like(pid, pid, mm, self.fds.duplicate())
    }

    /// A new thread of this process (clone with CLONE_THREAD): same memory,
    /// descriptors and timers (the working directory too, with CLONE_FS); its
    /// own registers, mask and tid. Signal dispositions are shared; the pending set is its own.
    pub fn thread_child(&mut self, tid: i32) -> Process {
        let mut t = self.spawn_like(tid, self.tgid, self.mm.clone(), self.fds.share());
        t.itimer = self.itimer.clone();
        t.posix_timers = self.posix_timers.clone();
        t.record_locks = self.record_locks.clone();
        t.signals.altstack = Default::default();
        t.signals.altstack.flags = signal::SS_DISABLE;
        t
    }

    /// What a thread does on its way out: clear its tid word and wake a
    /// joiner waiting on it (CLONE_CHILD_CLEARTID), as pthread_join expects.
    pub fn thread_exit_cleanup(&mut self) {
        self.release_robust_futexes();
        let addr = std::mem::take(&mut self.clear_child_tid);
        if addr == 0 || self.group_exit {
            return;
        }
        if self.mm.copy_out(addr, &0u32.to_le_bytes()).is_err() {
            return;
        }
        if let (Some(m), Some(key)) = (&self.machine, self.mm.futex_key(addr)) {
            m.futex_wake(key, 1, u32::MAX);
        }
    }

    /// The host descriptor holding this process's record locks on the file
    /// behind `h` (opened on first use).
    pub fn record_lock_fd(&self, h: std::os::fd::BorrowedFd<'_>) -> Result<Arc<std::os::fd::OwnedFd>, Errno> {
        let st = crate::host::fstat(h)?;
        let key = (st.st_dev, st.st_ino);
        let mut locks = self.record_locks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(fd) = locks.get(&key) {
            return Ok(fd.clone());
        }
        let fd = crate::host::reopen(h, libc::O_RDWR | libc::O_CLOEXEC)
            .or_else(|_| crate::host::reopen(h, libc::O_RDONLY | libc::O_CLOEXEC))
            .or_else(|_| crate::host::reopen(h, libc::O_WRONLY | libc::O_CLOEXEC))?;
        let fd = Arc::new(fd);
        locks.insert(key, fd.clone());
        Ok(fd)
    }

    /// A descriptor of the file behind `h` was closed: the process's record
    /// locks on that file go.
    pub fn drop_record_locks(&self, h: std::os::fd::BorrowedFd<'_>) {
        let mut locks = self.record_locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.is_empty() {
            return;
        }
        if let Ok(st) = crate::host::fstat(h) {
            locks.remove(&(st.st_dev, st.st_ino));
        }
    }

    /// Marks the robust futexes this thread still holds as owned by a dead
    /// thread and wakes one waiter of each (set_robust_list), so the next
    /// pthread_mutex_lock returns EOWNERDEAD instead of hanging. Walks at most
    /// ROBUST_LIST_LIMIT entries of a list the guest may have corrupted.
    fn release_robust_futexes(&mut self) {
        const ROBUST_LIST_LIMIT: usize = 2048;
        let head = std::mem::take(&mut self.robust_list);
        if head == 0 {
            return;
        }
        let mut b = [0u8; 24];
        if self.mm.copy_in(head, &mut b).is_err() {
            return;
        }
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let (mut entry, offset, pending) = (word(0), word(1) as i64, word(2));
        let futex_of = |e: u64| e.wrapping_add_signed(offset);
        for _ in 0..ROBUST_LIST_LIMIT {
            if entry == head || entry == 0 {
                break;
            }
            let Ok(next) = self.mm.read_u64(entry) else { break };
            if entry != pending {
                self.release_robust(futex_of(entry));
            }
            entry = next;
        }
        if pending != 0 {
            self.release_robust(futex_of(pending));
        }
    }

    fn release_robust(&mut self, uaddr: u64) {
        const FUTEX_WAITERS: u32 = 0x8000_0000;
        const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
        const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
        for _ in 0..64 {
            let mut b = [0u8; 4];
            if self.mm.copy_in(uaddr, &mut b).is_err() {
                return;
            }
            let val = u32::from_le_bytes(b);
            if val & FUTEX_TID_MASK != self.pid as u32 {
                return;
            }
            let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            match self.mm.cmpxchg_u32(uaddr, val, new) {
                Ok(seen) if seen == val => {
                    if val & FUTEX_WAITERS != 0
                        && let (Some(m), Some(key)) = (&self.machine, self.mm.futex_key(uaddr))
                    {
                        m.futex_wake(key, 1, u32::MAX);
                    }
                    return;
                }
                Ok(_) => continue, // a waiter changed it meanwhile: look again
                Err(_) => return,
            }
        }
    }

    /// After a successful execve: the new program starts with default handlers
    /// (ignored signals stay ignored), no alternate stack, a clean FPU, and
    /// without its close-on-exec descriptors.
    pub fn after_exec(&mut self) {
        // A vfork child shared its parent's table until now.
        self.signals.actions = self.signals.actions.copy();
        self.signals.actions.reset_handlers();
        self.signals.altstack = Default::default();
        self.signals.altstack.flags = signal::SS_DISABLE;
        self.fds.close_on_exec();
        self.comm = None;
        self.clear_child_tid = 0;
        self.robust_list = 0;
        // POSIX timers do not survive exec; the interval timer does.
        self.posix_timers = Default::default();
        self.pending_fpu = Some(FpuState::default());
        if let Some(m) = &self.machine {
            m.release_vfork(self.pid);
        }
    }

    /// Ends this thread (exit), or with `group` the whole process (exit_group).
    pub fn exit_with(&mut self, code: i32, group: bool) {
        self.exit = Some(ExitStatus::Exited(code & 0xff));
        self.group_exit = group;
    }

    /// Restores the context saved by a signal frame (rt_sigreturn).
    pub fn sigreturn(&mut self) -> Result<(), Errno> {
        let frame = self.ctx.regs.rsp.wrapping_sub(8);
        let mut uc = [0u8; 304];
        self.mm.copy_in(frame + 8, &mut uc)?;
        let (mask, fpstate) = signal::parse_ucontext(&uc, &mut self.ctx.regs);
        self.set_mask(mask);
        if fpstate != 0 {
            let mut fpu = FpuState([0; 512]);
            self.mm.copy_in(fpstate, &mut fpu.0)?;
            signal::check_fpu(&fpu)?;
            self.pending_fpu = Some(fpu);
        }
        self.regs_replaced = true;
        Ok(())
    }
}

/// What /proc/self/fd shows for an inherited standard stream, by its kind
/// (never the host path behind it).
fn stream_name(fd: std::os::fd::BorrowedFd<'_>) -> String {
    let st = crate::host::fstat(fd).map(|s| (s.st_mode & libc::S_IFMT, s.st_ino)).unwrap_or((0, 0));
    match st {
        (libc::S_IFIFO, ino) => format!("pipe:[{ino}]"),
        (libc::S_IFSOCK, ino) => format!("socket:[{ino}]"),
        (libc::S_IFCHR, _) => "/dev/pts/0".into(),
        _ => "/dev/stdio".into(),
    }
}

/// A copy of what /proc shows, for lookups made while the process itself is
/// being changed (exec).
struct Snapshot {
    pid: i32,
    exe: String,
    cwd: String,
    maps: String,
    status: String,
    stat: String,
    statm: String,
    cmdline: Vec<u8>,
    environ: Vec<u8>,
    comm: String,
    fds: Vec<(i32, String)>,
    next_fd: Option<i32>,
    fd_stats: Vec<(i32, Result<crate::vfs::file::Stat, Errno>)>,
    meminfo: String,
    cpuinfo: String,
    uptime: String,
    mounts: String,
}

impl Snapshot {
    fn of(v: &dyn ProcView) -> Snapshot {
        Snapshot {
            pid: v.pid(),
            exe: v.exe(),
            cwd: v.cwd(),
            maps: v.maps(),
            status: v.status(),
            stat: v.stat(),
            statm: v.statm(),
            cmdline: v.cmdline(),
            environ: v.environ(),
            comm: v.comm(),
            fds: v.fds(),
            next_fd: v.next_fd(),
            fd_stats: v.fds().into_iter().map(|(fd, _)| (fd, v.fd_stat(fd))).collect(),
            meminfo: v.meminfo(),
            cpuinfo: v.cpuinfo(),
            uptime: v.uptime(),
            mounts: v.mounts(),
        }
    }
}

impl ProcView for Snapshot {
    fn pid(&self) -> i32 {
        self.pid
    }
    fn exe(&self) -> String {
        self.exe.clone()
    }
    fn cwd(&self) -> String {
        self.cwd.clone()
    }
    fn maps(&self) -> String {
        self.maps.clone()
    }
    fn status(&self) -> String {
        self.status.clone()
    }
    fn stat(&self) -> String {
        self.stat.clone()
    }
    fn statm(&self) -> String {
        self.statm.clone()
    }
    fn cmdline(&self) -> Vec<u8> {
        self.cmdline.clone()
    }
    fn environ(&self) -> Vec<u8> {
        self.environ.clone()
    }
    fn comm(&self) -> String {
        self.comm.clone()
    }
    fn fds(&self) -> Vec<(i32, String)> {
        self.fds.clone()
    }
    fn next_fd(&self) -> Option<i32> {
        self.next_fd
    }
    fn fd_stat(&self, fd: i32) -> Result<crate::vfs::file::Stat, Errno> {
        self.fd_stats.iter().find(|(f, _)| *f == fd).map(|(_, s)| *s).unwrap_or(Err(Errno::EBADF))
    }
    fn meminfo(&self) -> String {
        self.meminfo.clone()
    }
    fn cpuinfo(&self) -> String {
        self.cpuinfo.clone()
    }
    fn uptime(&self) -> String {
        self.uptime.clone()
    }
    fn mounts(&self) -> String {
        self.mounts.clone()
    }
}

/// /proc's view of a process.
pub struct ProcViewRef<'a>(pub &'a Process);

impl ProcView for ProcViewRef<'_> {
    /// /proc shows processes, so this is the thread group id.
    #[allow(clippy::misnamed_getters)]
    fn pid(&self) -> i32 {
        self.0.tgid
    }
    fn exe(&self) -> String {
        self.0.exe.clone()
    }
    fn cwd(&self) -> String {
        self.0.fs.cwd()
    }
    fn maps(&self) -> String {
        self.0.mm.maps()
    }
    fn status(&self) -> String {
        let p = self.0;
        let (uid, gid) = crate::host::ids();
        let (pid, ppid) = (p.tgid, p.ppid());
        let rss_kb = p.mm.rss_bytes() / 1024;
        let vm_kb: u64 = p.mm.vmas().iter().map(|v| v.end - v.start).sum::<u64>() / 1024;
        format!(
            "Name:\t{}\nUmask:\t{:04o}\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
             Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nFDSize:\t64\nGroups:\t\n\
             VmPeak:\t{vm_kb} kB\nVmSize:\t{vm_kb} kB\nVmHWM:\t{rss_kb} kB\nVmRSS:\t{rss_kb} kB\nThreads:\t1\n\
             SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\n\
             Cpus_allowed:\t1\nCpus_allowed_list:\t0\n",
            self.comm(),
            p.fs.umask(),
            p.signals.pending,
            p.signals.mask
        )
    }
    fn stat(&self) -> String {
        let p = self.0;
        let rss_pages = p.mm.rss_bytes() / 4096;
        let vsize: u64 = p.mm.vmas().iter().map(|v| v.end - v.start).sum();
        let (pgid, sid) = match &p.machine {
            Some(m) => (m.pgid(p.tgid).unwrap_or(p.tgid), m.sid(p.tgid).unwrap_or(p.tgid)),
            None => (1, 1),
        };
        format!(
            "{} ({}) R {} {pgid} {sid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 0 {vsize} {rss_pages} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
            p.tgid,
            self.comm(),
            p.ppid()
        )
    }
    fn statm(&self) -> String {
        let p = self.0;
        let vsize: u64 = p.mm.vmas().iter().map(|v| v.end - v.start).sum();
        format!("{} {} 0 0 0 0 0\n", vsize / 4096, p.mm.rss_bytes() / 4096)
    }
    fn cmdline(&self) -> Vec<u8> {
        self.0.argv.iter().flat_map(|a| a.iter().copied().chain([0])).collect()
    }
    fn environ(&self) -> Vec<u8> {
        self.0.envp.iter().flat_map(|a| a.iter().copied().chain([0])).collect()
    }
    fn comm(&self) -> String {
        if let Some(c) = &self.0.comm {
            return c.clone();
        }
        let exe = self.0.exe.rsplit('/').next().unwrap_or("");
        exe.chars().take(15).collect()
    }
    fn fds(&self) -> Vec<(i32, String)> {
        self.0.fds.list().into_iter().map(|(fd, e)| (fd, e.file.file.path())).collect()
    }
    fn next_fd(&self) -> Option<i32> {
        (0..crate::fd::NOFILE as i32).find(|fd| self.0.fds.get(*fd).is_err())
    }
    fn fd_stat(&self, fd: i32) -> Result<crate::vfs::file::Stat, Errno> {
        self.0.fds.get(fd)?.file.stat()
    }
    fn meminfo(&self) -> String {
        let total = self.0.mm.limit_bytes() / 1024;
        let used = self.0.mm.user_bytes() / 1024;
        let free = total.saturating_sub(used);
        format!(
            "MemTotal:       {total:>8} kB\nMemFree:        {free:>8} kB\nMemAvailable:   {free:>8} kB\nBuffers:               0 kB\n\
             Cached:                0 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
        )
    }
    fn cpuinfo(&self) -> String {
        self.0.config.cpuinfo.clone()
    }
    fn uptime(&self) -> String {
        let t = self.0.started.elapsed().as_secs_f64();
        format!("{t:.2} {t:.2}\n")
    }
    fn mounts(&self) -> String {
        self.0.vfs.mount_table()
    }
    fn others(&self) -> Vec<crate::vfs::procfs::ProcSummary> {
        let own = self.0.tgid;
        self.0
            .machine
            .as_ref()
            .map(|m| m.processes().into_iter().filter(|o| o.pid != own).collect())
            .unwrap_or_default()
    }
}
