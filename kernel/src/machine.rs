//! A machine: the processes of one VM, their table, and the host threads that
//! run them.
//!
//! Every process runs on its own host thread with its own vCPU (from the
//! [`Host`]), so a blocking syscall blocks only that thread. The table is the
//! only state processes share besides open files: parent links, process groups,
//! exit statuses, and the handles to interrupt each process's vCPU. Lock order:
//! the table lock is never held while calling into a process or the host.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::errno::Errno;
use crate::platform::{FpuState, Platform, PlatformError};
use crate::signal::{self, SigInfo};
use crate::task::{ExitStatus, Interrupts, Process};

/// Interrupts the host thread a process runs on (its vCPU, or a blocking call).
pub trait Kick: Send + Sync {
    fn kick(&self);
}

/// What the machine needs from the hypervisor side.
pub trait Host: Send + Sync {
    /// A vCPU for a new process, created on (and used from) the calling thread.
    fn new_vcpu(&self) -> Result<Box<dyn Platform + Send>, PlatformError>;
    /// A vCPU whose process ended, for reuse.
    fn recycle(&self, vcpu: Box<dyn Platform + Send>);
    /// A handle that interrupts the calling thread.
    fn kicker(&self) -> Arc<dyn Kick>;
    /// Prepares a new process thread (signal masks).
    fn thread_init(&self);
    /// Makes the hypervisor drop every translation it caches for the guest
    /// (all vCPUs briefly leave the guest); true on success. Page-table frames
    /// of ended processes are reused only after this.
    fn flush_translations(&self) -> bool;
}

/// Retired page-table frames gathered before a flush frees them: 2 MiB, about
/// two dozen small processes, well inside the tables' share of guest memory.
const RECLAIM_TABLES_AT: usize = 512;

/// One thread. A process is the thread group whose leader has `tid == tgid`;
/// the leader's entry carries the process's parent, group, session and status.
struct Entry {
    tgid: i32,
    ppid: i32,
    pgid: i32,
    sid: i32,
    /// This thread has stopped running.
    done: bool,
    /// Leader: the exit status chosen so far (exit_group, a fatal signal, or
    /// the last thread's exit).
    group_status: Option<ExitStatus>,
    /// Leader: the status was fixed by exit_group or a fatal signal.
    group_decided: bool,
    /// Leader: stopped by this signal and not yet reported to a WUNTRACED wait.
    stop_report: Option<i32>,
    /// Leader: continued and not yet reported to a WCONTINUED wait.
    cont_report: bool,
    /// Leader: ignores SIGCHLD or set SA_NOCLDWAIT, so its children leave no zombie.
    auto_reap: bool,
    /// Leader: a child subreaper (PR_SET_CHILD_SUBREAPER).
    subreaper: bool,
    /// Leader: an orphan adopted by process 1, which reaps it when it ends.
    adopted_by_init: bool,
    /// This thread's blocked signals, as it last set them (picks which thread
    /// takes a signal sent to the process).
    mask: u64,
    /// Leader: what /proc/<pid>/comm and cmdline show to other processes.
    comm: String,
    cmdline: Vec<u8>,
    /// Leader: set when the whole process has ended and not yet been reaped.
    status: Option<ExitStatus>,
    /// Signal sent to the parent on exit (SIGCHLD unless clone said otherwise).
    exit_signal: i32,
    /// Signals for this thread alone.
    interrupts: Interrupts,
    /// Signals for the process that every thread blocked when they arrived;
    /// the first thread to unblock one takes it. One handle per process.
    shared: Interrupts,
    kicker: Option<Arc<dyn Kick>>,
    /// A vfork parent waits until this is set (the child exec'd or exited).
    vfork_released: bool,
    /// Leader: started from outside the machine (an exec from the host); it
    /// has no parent inside, and its status stays until the host releases it.
    held: bool,
}

impl Entry {
    fn new(
        tgid: i32,
        ppid: i32,
        (pgid, sid): (i32, i32),
        (comm, cmdline): (String, Vec<u8>),
        exit_signal: i32,
    ) -> Entry {
        Entry {
            tgid,
            ppid,
            pgid,
            sid,
            done: false,
            group_status: None,
            group_decided: false,
            stop_report: None,
            cont_report: false,
            auto_reap: false,
            subreaper: false,
            adopted_by_init: false,
            mask: 0,
            comm,
            cmdline,
            status: None,
            exit_signal,
            interrupts: Interrupts::default(),
            shared: Interrupts::default(),
            kicker: None,
            vfork_released: false,
            held: false,
        }
    }
}

/// A process to signal after the table lock is released.
type Wakeup = (Interrupts, Option<Arc<dyn Kick>>, SigInfo);

/// SIGCHLD details for a child's state change (si_code, si_status).
fn chld(pid: i32, code: i32, status: i32) -> SigInfo {
    SigInfo { signo: signal::SIGCHLD, code, pid, uid: crate::host::ids().0, addr: 0, value: status as u32 as u64 }
}

fn exit_info(pid: i32, s: ExitStatus) -> SigInfo {
    match s {
        ExitStatus::Exited(c) => chld(pid, 1, c),
        ExitStatus::Signaled { sig, core } => chld(pid, if core { 3 } else { 2 }, sig),
    }
}

struct Table {
    next_pid: i32,
    procs: BTreeMap<i32, Entry>,
}

/// What `wait` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEvent {
    Exited(ExitStatus),
    Stopped(i32),
    Continued,
}

/// Which state changes `wait` reports besides exits (WUNTRACED/WSTOPPED, WCONTINUED).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitOptions {
    pub nohang: bool,
    pub keep: bool,
    pub stopped: bool,
    pub continued: bool,
    pub exited: bool,
    /// __WCLONE: only children whose exit signal is not SIGCHLD.
    pub clone_only: bool,
    /// __WALL: children of either kind.
    pub all: bool,
}

/// Which children `wait4`/`waitid` accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    Pid(i32),
    Any,
    Group(i32),
}

/// Where `kill` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Pid(i32),
    Group(i32),
    /// Every process but 1 and the sender.
    All,
}

pub struct Machine {
    host: Arc<dyn Host>,
    /// Signals sent to wisp on the host (Ctrl-C...), for process 1's group.
    pub host_signals: Interrupts,
    table: Mutex<Table>,
    changed: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// CPU-time clocks of the running vCPU threads, and the CPU time of the
    /// threads that ended (for metering).
    cpu_clocks: Mutex<BTreeMap<i32, libc::clockid_t>>,
    cpu_done_ns: std::sync::atomic::AtomicU64,
    /// Host CPUs the machine's threads may use (its vCPUs); empty: any.
    cpus: Mutex<Vec<usize>>,
    /// Its place on its cloud's network (none: no AF_INET sockets).
    net: Mutex<Option<Arc<crate::net::MachineNet>>>,
    /// Its named AF_UNIX sockets.
    pub unix: Arc<crate::unix::Names>,
    max_pids: usize,
    /// Threads blocked in FUTEX_WAIT, keyed by the physical address of the word.
    futexes: Mutex<Vec<Arc<FutexWaiter>>>,
    futex_woken: Condvar,
}

/// A thread blocked in FUTEX_WAIT.
pub struct FutexWaiter {
    key: Mutex<u64>,
    bitset: u32,
    woken: std::sync::atomic::AtomicBool,
}

/// How often blocked waits look for a signal to take.
const POLL: Duration = Duration::from_millis(10);

impl Machine {
    pub fn new(host: Arc<dyn Host>, max_pids: usize) -> Arc<Machine> {
        Arc::new(Machine {
            host,
            host_signals: Interrupts::default(),
            table: Mutex::new(Table { next_pid: 2, procs: BTreeMap::new() }),
            changed: Condvar::new(),
            threads: Mutex::new(Vec::new()),
            cpu_clocks: Mutex::new(BTreeMap::new()),
            cpu_done_ns: std::sync::atomic::AtomicU64::new(0),
            cpus: Mutex::new(Vec::new()),
            net: Mutex::new(None),
            unix: Arc::default(),
            max_pids: max_pids.max(1),
            futexes: Mutex::new(Vec::new()),
            futex_woken: Condvar::new(),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers the machine's first process (pid 1) running on the calling
    /// thread, with its own and its process-wide signal handles.
    pub fn register_init(&self, interrupts: Interrupts, shared: Interrupts, comm: String, cmdline: Vec<u8>) {
        let mut e = Entry::new(1, 0, (1, 1), (comm, cmdline), 0);
        e.interrupts = interrupts;
        e.shared = shared;
        e.kicker = Some(self.host.kicker());
        e.vfork_released = true;
        self.table().procs.insert(1, e);
    }

    /// Makes the calling thread the one signals for process 1 interrupt:
    /// the thread that runs it, which need not be the one that booted it.
    pub fn init_runs_here(&self) {
        let kicker = self.host.kicker();
        if let Some(e) = self.table().procs.get_mut(&1) {
            e.kicker = Some(kicker);
        }
    }

    /// Reserves an id for a new process made by thread `parent` (or, with
    /// `thread`, a new thread in `parent`'s process); EAGAIN past the limit.
    pub fn alloc_pid(&self, parent: i32, exit_signal: i32, thread: bool) -> Result<i32, Errno> {
        let mut t = self.table();
        if t.procs.len() >= self.max_pids {
            return Err(Errno::EAGAIN);
        }
        let ptgid = t.procs.get(&parent).map(|e| e.tgid).unwrap_or(1);
        let (comm, cmdline) = t.procs.get(&ptgid).map(|e| (e.comm.clone(), e.cmdline.clone())).unwrap_or_default();
        let (pppid, pgid, sid) = t.procs.get(&ptgid).map(|e| (e.ppid, e.pgid, e.sid)).unwrap_or((0, 1, 1));
        let mut pid = t.next_pid;
        while t.procs.contains_key(&pid) {
            pid = if pid >= 4_194_304 { 2 } else { pid + 1 };
        }
        t.next_pid = if pid >= 4_194_304 { 2 } else { pid + 1 };
        let (tgid, ppid, exit_signal) = if thread { (ptgid, pppid, 0) } else { (pid, ptgid, exit_signal) };
        t.procs.insert(pid, Entry::new(tgid, ppid, (pgid, sid), (comm, cmdline), exit_signal));
        Ok(pid)
    }

    /// Reserves an id for a process started from outside the machine (an exec
    /// from the host): it leads its own session and group, has no parent in
    /// the machine, and keeps its status for `wait_ended` until `release`.
    pub fn alloc_outside(&self) -> Result<i32, Errno> {
        let pid = self.alloc_pid(1, 0, false)?;
        if let Some(e) = self.table().procs.get_mut(&pid) {
            (e.ppid, e.pgid, e.sid, e.held) = (0, pid, pid, true);
        }
        Ok(pid)
    }

    /// Forgets a held process once it has ended (see `alloc_outside`).
    pub fn release(&self, pid: i32) {
        let mut t = self.table();
        if t.procs.get(&pid).is_some_and(|e| e.held && e.status.is_some()) {
            t.procs.remove(&pid);
        }
    }

    /// Points the table at a new task's signal handles (made with it) and
    /// the mask it starts with.
    pub fn adopt_signals(&self, pid: i32, own: Interrupts, shared: Interrupts, mask: u64) {
        if let Some(e) = self.table().procs.get_mut(&pid) {
            e.interrupts = own;
            e.shared = shared;
            e.mask = mask;
        }
    }

    /// Forgets a pid whose fork failed before the child ran.
    pub fn forget(&self, pid: i32) {
        self.table().procs.remove(&pid);
    }

    /// Starts `child` on a new host thread with the parent's FPU state.
    pub fn start(self: &Arc<Self>, child: Process, fpu: FpuState) -> Result<(), Errno> {
        let machine = self.clone();
        let pid = child.pid;
        let spawned =
            std::thread::Builder::new().name(format!("pid{pid}")).spawn(move || machine.task_main(child, fpu));
        match spawned {
            Ok(h) => {
                self.threads.lock().unwrap_or_else(|p| p.into_inner()).push(h);
                Ok(())
            }
            Err(_) => {
                self.forget(pid);
                Err(Errno::EAGAIN)
            }
        }
    }

    /// Puts the machine on a network.
    pub fn set_net(&self, net: crate::net::MachineNet) {
        *self.net.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(net));
    }

    pub fn net(&self) -> Option<Arc<crate::net::MachineNet>> {
        self.net.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Limits every thread of the machine (from now on) to these host CPUs:
    /// a machine with N vCPUs runs at most N threads at once.
    pub fn set_cpus(&self, cpus: Vec<usize>) {
        *self.cpus.lock().unwrap_or_else(|p| p.into_inner()) = cpus;
    }

    /// Counts the calling thread's CPU time as the machine's, until
    /// `cpu_end` (called on the same thread), and keeps it on the machine's
    /// CPUs.
    pub fn cpu_begin(&self, tid: i32) {
        let cpus = self.cpus.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if !cpus.is_empty() {
            let _ = crate::host::set_thread_affinity(&cpus);
        }
        if let Some(c) = crate::host::thread_cpu_clock() {
            self.cpu_clocks.lock().unwrap_or_else(|p| p.into_inner()).insert(tid, c);
        }
    }

    pub fn cpu_end(&self, tid: i32) {
        let mut clocks = self.cpu_clocks.lock().unwrap_or_else(|p| p.into_inner());
        if clocks.remove(&tid).is_some() {
            let ns = crate::host::clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0);
            self.cpu_done_ns.fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// CPU time the machine's threads have used so far.
    pub fn cpu_ns(&self) -> u64 {
        // The lock keeps every listed thread alive while its clock is read.
        let clocks = self.cpu_clocks.lock().unwrap_or_else(|p| p.into_inner());
        let live: u64 = clocks.values().filter_map(|c| crate::host::clock_ns(*c)).sum();
        live + self.cpu_done_ns.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn task_main(self: Arc<Self>, mut p: Process, fpu: FpuState) {
        self.host.thread_init();
        self.cpu_begin(p.pid);
        let kicker = self.host.kicker();
        if let Some(e) = self.table().procs.get_mut(&p.pid) {
            e.kicker = Some(kicker);
        }
        let status = match self.host.new_vcpu() {
            Ok(mut vcpu) => {
                let status = match vcpu.set_fpu(&fpu).and_then(|_| p.run(vcpu.as_mut())) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("wisp: process {} failed: {e}", p.pid);
                        ExitStatus::Signaled { sig: signal::SIGKILL, core: false }
                    }
                };
                self.host.recycle(vcpu);
                status
            }
            Err(e) => {
                eprintln!("wisp: cannot create a vCPU for process {}: {e}", p.pid);
                ExitStatus::Signaled { sig: signal::SIGKILL, core: false }
            }
        };
        let pid = p.pid;
        self.cpu_end(pid);
        let whole_group = p.group_exit || matches!(status, ExitStatus::Signaled { .. });
        p.thread_exit_cleanup();
        let pool = p.mm.pool();
        // Memory and descriptors go before the exit is reported, so a reader of
        // this process's pipes sees end-of-file by the time its parent is told.
        drop(p);
        self.exited(pid, status, whole_group);
        pool.reclaim_tables(RECLAIM_TABLES_AT, || self.host.flush_translations());
    }

    /// Records that thread `tid` stopped. With `whole_group` (exit_group, or a
    /// fatal signal) its process ends: the other threads get SIGKILL. When the
    /// last thread of a process stops, the process becomes a zombie for its
    /// parent, its children go to pid 1, and the parent gets its exit signal.
    pub fn exited(&self, tid: i32, status: ExitStatus, whole_group: bool) {
        let mut notify: Vec<Wakeup> = Vec::new();
        {
            let mut t = self.table();
            let Some(e) = t.procs.get_mut(&tid) else { return };
            e.done = true;
            e.vfork_released = true;
            e.kicker = None;
            let g = e.tgid;
            if let Some(leader) = t.procs.get_mut(&g) {
                // The first exit_group or fatal signal decides the status;
                // otherwise the last thread to exit does.
                if !leader.group_decided {
                    leader.group_status = Some(status);
                    leader.group_decided = whole_group;
                }
            }
            if whole_group {
                for (other, o) in t.procs.iter() {
                    if o.tgid == g && *other != tid && !o.done {
                        notify.push((
                            o.interrupts.clone(),
                            o.kicker.clone(),
                            SigInfo { signo: signal::SIGKILL, ..Default::default() },
                        ));
                    }
                }
            }
            if tid != g {
                t.procs.remove(&tid);
            }
            let alive = t.procs.values().any(|o| o.tgid == g && !o.done);
            if !alive {
                self.process_ended(&mut t, g, &mut notify);
            }
        }
        // Signals are raised before waiters wake, so a parent whose wait
        // returns already has its SIGCHLD pending.
        for (i, _, info) in &notify {
            i.raise_info(*info);
        }
        self.changed.notify_all();
        for (_, k, _) in notify {
            if let Some(k) = k {
                k.kick();
            }
        }
    }

    /// The last thread of process `pid` stopped: make it a zombie.
    fn process_ended(&self, t: &mut Table, pid: i32, notify: &mut Vec<Wakeup>) {
        let Some(e) = t.procs.get_mut(&pid) else { return };
        let status = e.group_status.unwrap_or(ExitStatus::Exited(0));
        e.status = Some(status);
        let (ppid, exit_signal) = (e.ppid, e.exit_signal);
        let orphans: Vec<i32> =
            t.procs.iter().filter(|(p, c)| c.ppid == pid && c.tgid == **p).map(|(p, _)| *p).collect();
        // Orphans go to the nearest live subreaper ancestor, else to pid 1.
        let mut reaper = ppid;
        while reaper > 1 && !t.procs.get(&reaper).is_some_and(|a| a.subreaper && a.status.is_none()) {
            reaper = t.procs.get(&reaper).map(|a| a.ppid).unwrap_or(1);
        }
        let reaper = reaper.max(1);
        // Process 1 reaps adopted orphans itself, unless it asked to wait for
        // them as a subreaper.
        let init_reaps = reaper == 1 && !t.procs.get(&1).is_some_and(|e| e.subreaper);
        let mut init_gets_zombie = false;
        for o in orphans {
            if let Some(c) = t.procs.get_mut(&o) {
                c.ppid = reaper;
                c.adopted_by_init = init_reaps;
                init_gets_zombie |= c.status.is_some();
            }
            // ...so they never pile up as zombies.
            if init_reaps && t.procs.get(&o).is_some_and(|c| c.status.is_some()) {
                t.procs.remove(&o);
            }
        }
        if let Some(init) = t.procs.get(&reaper).filter(|_| init_gets_zombie && pid != 1) {
            notify.push((init.interrupts.clone(), init.kicker.clone(), chld(0, 1, 0)));
        }
        if let Some(parent) = t.procs.get(&ppid) {
            if exit_signal > 0 {
                let info = SigInfo { signo: exit_signal, ..exit_info(pid, status) };
                notify.push((parent.interrupts.clone(), parent.kicker.clone(), info));
            }
            let adopted = t.procs.get(&pid).is_some_and(|e| e.adopted_by_init);
            if t.procs.get(&ppid).is_some_and(|p| p.auto_reap) || adopted {
                // The parent ignores SIGCHLD (or set SA_NOCLDWAIT), or this is
                // an orphan process 1 adopted: no zombie.
                t.procs.remove(&pid);
            }
        } else if pid != 1 && !t.procs.get(&pid).is_some_and(|e| e.held) {
            // No parent left to reap it.
            t.procs.remove(&pid);
        }
    }

    /// Waits (unless `nohang`) for a child of `caller` matching `which` to exit.
    /// Returns its pid and status, reaping it unless `keep`; None with `nohang`
    /// when children exist but none has exited.
    pub fn wait(
        &self,
        caller: i32,
        which: WaitFor,
        opts: WaitOptions,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Option<(i32, WaitEvent)>, Errno> {
        let mut t = self.table();
        let caller = t.procs.get(&caller).map(|e| e.tgid).unwrap_or(caller);
        loop {
            let caller_pgid = t.procs.get(&caller).map(|e| e.pgid).unwrap_or(0);
            let kind_ok = |e: &Entry| opts.all || (e.exit_signal != signal::SIGCHLD) == opts.clone_only;
            let matches = |pid: i32, e: &Entry| {
                e.tgid == pid
                    && kind_ok(e)
                    && e.ppid == caller
                    && match which {
                        WaitFor::Pid(p) => p == pid,
                        WaitFor::Any => true,
                        WaitFor::Group(0) => e.pgid == caller_pgid,
                        WaitFor::Group(g) => e.pgid == g,
                    }
            };
            let mut any = false;
            let mut found = None;
            for (pid, e) in t.procs.iter() {
                if !matches(*pid, e) {
                    continue;
                }
                any = true;
                let event = match (e.status, e.stop_report, e.cont_report) {
                    (Some(s), _, _) if opts.exited => Some(WaitEvent::Exited(s)),
                    (None, Some(sig), _) if opts.stopped => Some(WaitEvent::Stopped(sig)),
                    (None, _, true) if opts.continued => Some(WaitEvent::Continued),
                    _ => None,
                };
                if let Some(ev) = event {
                    found = Some((*pid, ev));
                    break;
                }
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if let Some((pid, ev)) = found {
                if !opts.keep {
                    match ev {
                        WaitEvent::Exited(_) => {
                            t.procs.remove(&pid);
                        }
                        WaitEvent::Stopped(_) => {
                            if let Some(e) = t.procs.get_mut(&pid) {
                                e.stop_report = None;
                            }
                        }
                        WaitEvent::Continued => {
                            if let Some(e) = t.procs.get_mut(&pid) {
                                e.cont_report = false;
                            }
                        }
                    }
                }
                return Ok(Some((pid, ev)));
            }
            if opts.nohang {
                return Ok(None);
            }
            if interrupted() {
                return Err(Errno::EINTR);
            }
            t = self.changed.wait_timeout(t, POLL).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Process `pid` stopped (SIGSTOP and friends) or continued (SIGCONT): record
    /// it for WUNTRACED/WCONTINUED waits and tell the parent with SIGCHLD.
    pub fn job_state(&self, pid: i32, stopped_by: Option<i32>) {
        let wake = {
            let mut t = self.table();
            let g = t.procs.get(&pid).map(|e| e.tgid).unwrap_or(pid);
            let Some(e) = t.procs.get_mut(&g) else { return };
            match stopped_by {
                Some(sig) => {
                    e.stop_report = Some(sig);
                    e.cont_report = false;
                }
                None => {
                    e.stop_report = None;
                    e.cont_report = true;
                }
            }
            let ppid = e.ppid;
            let info = match stopped_by {
                Some(sig) => chld(g, 5, sig),
                None => chld(g, 6, signal::SIGCONT),
            };
            t.procs.get(&ppid).map(|p| (p.interrupts.clone(), p.kicker.clone(), info))
        };
        self.changed.notify_all();
        if let Some((i, k, info)) = wake {
            i.raise_info(info);
            if let Some(k) = k {
                k.kick();
            }
        }
    }

    /// Waits until every thread of process `pid` has stopped and returns the
    /// process's status; None if `give_up()` says so first.
    pub fn wait_ended(&self, pid: i32, give_up: &dyn Fn() -> bool) -> Option<ExitStatus> {
        let mut t = self.table();
        loop {
            if let Some(s) = t.procs.get(&pid).and_then(|e| e.status) {
                return Some(s);
            }
            if give_up() {
                return None;
            }
            t = self.changed.wait_timeout(t, POLL).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Blocks a vfork parent until `child` execs or exits.
    pub fn wait_vfork(&self, child: i32, interrupted: &dyn Fn() -> bool) {
        let mut t = self.table();
        while t.procs.get(&child).is_some_and(|e| !e.vfork_released) && !interrupted() {
            t = self.changed.wait_timeout(t, POLL).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The child exec'd: its vfork parent may go on.
    pub fn release_vfork(&self, pid: i32) {
        if let Some(e) = self.table().procs.get_mut(&pid) {
            e.vfork_released = true;
        }
        self.changed.notify_all();
    }

    /// The thread that takes a signal sent to process `pid`: its leader if it
    /// still runs, otherwise any of its running threads.
    /// (The main thread while it runs and does not block `sig`, else a thread
    /// that does not block it, else any running thread.)
    /// Where a signal sent to process `pid` goes: the main thread unless it
    /// blocks it, else a thread that does not, else the process-wide set.
    fn receiver(t: &Table, pid: i32, sig: i32) -> Option<(Interrupts, Option<Arc<dyn Kick>>)> {
        let leader = t.procs.get(&pid)?;
        let open = |e: &Entry| !e.done && (sig <= 0 || e.mask & signal::bit(sig) == 0);
        let to = |e: &Entry| (e.interrupts.clone(), e.kicker.clone());
        if open(leader) {
            return Some(to(leader));
        }
        if let Some(e) = t.procs.values().find(|e| e.tgid == pid && open(e)) {
            return Some(to(e));
        }
        // Every live thread blocks it (or the process is a zombie, which
        // drops it): it waits in the process-wide set.
        t.procs.values().any(|e| e.tgid == pid && !e.done).then(|| (leader.shared.clone(), None))
    }

    /// A thread changed its signal mask.
    pub fn set_mask(&self, tid: i32, mask: u64) {
        if let Some(e) = self.table().procs.get_mut(&tid) {
            e.mask = mask;
        }
    }

    /// Sends `sig` (0 probes) from thread `sender`; ESRCH if nothing matched.
    pub fn kill(&self, sender: i32, target: Target, sig: i32) -> Result<(), Errno> {
        let exists;
        let hits: Vec<(Interrupts, Option<Arc<dyn Kick>>)> = {
            let t = self.table();
            let sender_tgid = t.procs.get(&sender).map(|e| e.tgid).unwrap_or(sender);
            let pids: Vec<i32> = match target {
                Target::Pid(p) => t.procs.get(&p).map(|e| e.tgid).into_iter().collect(),
                Target::Group(g) => {
                    t.procs.iter().filter(|(p, e)| e.tgid == **p && e.pgid == g).map(|(p, _)| *p).collect()
                }
                Target::All => t
                    .procs
                    .iter()
                    .filter(|(p, e)| e.tgid == **p && **p != 1 && **p != sender_tgid)
                    .map(|(p, _)| *p)
                    .collect(),
            };
            // A zombie still exists for kill: the signal is accepted and dropped.
            exists = !pids.is_empty();
            if sig == signal::SIGCONT {
                pids.iter().for_each(|p| Self::continue_process(&t, *p));
            }
            pids.into_iter().filter_map(|p| Self::receiver(&t, p, sig)).collect()
        };
        if hits.is_empty() && !exists {
            return Err(Errno::ESRCH);
        }
        if sig != 0 {
            let info = SigInfo {
                signo: sig,
                code: signal::SI_USER,
                pid: self.tgid(sender),
                uid: crate::host::ids().0,
                addr: 0,
                value: 0,
            };
            for (i, k) in hits {
                i.raise_info(info);
                if let Some(k) = k {
                    k.kick();
                }
            }
        }
        Ok(())
    }

    /// SIGCONT continues a stopped process when it is sent, whatever its mask.
    fn continue_process(t: &Table, tgid: i32) {
        if let Some(leader) = t.procs.get(&tgid) {
            leader.shared.set_stopped(false);
        }
    }

    /// Kicks every running thread of process `tgid` but `except` out of the
    /// guest, so it looks at its signals and stop state.
    pub fn kick_threads(&self, tgid: i32, except: i32) {
        let kickers: Vec<Arc<dyn Kick>> = self
            .table()
            .procs
            .iter()
            .filter(|(pid, e)| e.tgid == tgid && **pid != except && !e.done)
            .filter_map(|(_, e)| e.kicker.clone())
            .collect();
        kickers.iter().for_each(|k| k.kick());
    }

    /// Sends a signal with its siginfo to process `pid` (or, with `tid`, one
    /// of its threads): sigqueue.
    pub fn queue(&self, pid: i32, tid: Option<i32>, info: SigInfo) -> Result<(), Errno> {
        let hit = {
            let t = self.table();
            if info.signo == signal::SIGCONT {
                Self::continue_process(&t, t.procs.get(&pid).map_or(pid, |e| e.tgid));
            }
            match tid {
                Some(tid) => t
                    .procs
                    .get(&tid)
                    .filter(|e| e.tgid == pid && !e.done)
                    .map(|e| (e.interrupts.clone(), e.kicker.clone())),
                None => Self::receiver(&t, pid, info.signo),
            }
        };
        let (i, k) = hit.ok_or(Errno::ESRCH)?;
        i.raise_info(info);
        if let Some(k) = k {
            k.kick();
        }
        Ok(())
    }

    /// Sends `sig` to thread `tid` of process `tgid` (tgkill).
    pub fn kill_thread(&self, tgid: i32, tid: i32, sig: i32) -> Result<(), Errno> {
        let hit = {
            let t = self.table();
            if sig == signal::SIGCONT && t.procs.get(&tid).is_some_and(|e| e.tgid == tgid) {
                Self::continue_process(&t, tgid);
            }
            t.procs.get(&tid).filter(|e| e.tgid == tgid && !e.done).map(|e| (e.interrupts.clone(), e.kicker.clone()))
        };
        let (i, k) = hit.ok_or(Errno::ESRCH)?;
        if sig != 0 {
            i.raise(sig);
            if let Some(k) = k {
                k.kick();
            }
        }
        Ok(())
    }

    /// True while thread `tid` runs.
    pub fn alive(&self, tid: i32) -> bool {
        self.table().procs.get(&tid).is_some_and(|e| !e.done)
    }

    /// The process a thread belongs to.
    pub fn tgid(&self, tid: i32) -> i32 {
        self.table().procs.get(&tid).map(|e| e.tgid).unwrap_or(tid)
    }

    /// Kills every process but pid 1 (the machine is ending) and waits for
    /// their threads.
    pub fn shut_down(&self) {
        let _ = self.kill(1, Target::All, signal::SIGKILL);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for h in threads {
            let _ = h.join();
        }
    }

    fn leader_of(t: &Table, pid: i32) -> Option<&Entry> {
        let g = t.procs.get(&pid)?.tgid;
        t.procs.get(&g)
    }

    pub fn ppid(&self, pid: i32) -> i32 {
        Self::leader_of(&self.table(), pid).map(|e| e.ppid).unwrap_or(0)
    }

    pub fn pgid(&self, pid: i32) -> Result<i32, Errno> {
        Self::leader_of(&self.table(), pid).filter(|e| e.status.is_none()).map(|e| e.pgid).ok_or(Errno::ESRCH)
    }

    pub fn sid(&self, pid: i32) -> Result<i32, Errno> {
        Self::leader_of(&self.table(), pid).filter(|e| e.status.is_none()).map(|e| e.sid).ok_or(Errno::ESRCH)
    }

    /// Implements setpgid for `caller` on `pid` (itself or a child), into `pgid`.
    pub fn setpgid(&self, caller: i32, pid: i32, pgid: i32) -> Result<(), Errno> {
        let mut t = self.table();
        let caller = t.procs.get(&caller).map(|e| e.tgid).unwrap_or(caller);
        let caller_sid = t.procs.get(&caller).map(|e| e.sid).ok_or(Errno::ESRCH)?;
        let e = t.procs.get(&pid).ok_or(Errno::ESRCH)?;
        if pid != caller && e.ppid != caller {
            return Err(Errno::ESRCH);
        }
        if e.sid != caller_sid {
            return Err(Errno::EPERM);
        }
        if e.sid == pid {
            return Err(Errno::EPERM); // a session leader cannot move
        }
        let target = if pgid == 0 { pid } else { pgid };
        if target != pid && !t.procs.values().any(|o| o.pgid == target && o.sid == caller_sid) {
            return Err(Errno::EPERM);
        }
        if let Some(e) = t.procs.get_mut(&pid) {
            e.pgid = target;
        }
        Ok(())
    }

    /// Implements setsid: a new session and group led by `pid`.
    pub fn setsid(&self, pid: i32) -> Result<i32, Errno> {
        let mut t = self.table();
        let pid = t.procs.get(&pid).map(|e| e.tgid).unwrap_or(pid);
        if t.procs.values().any(|e| e.pgid == pid) {
            return Err(Errno::EPERM);
        }
        let e = t.procs.get_mut(&pid).ok_or(Errno::ESRCH)?;
        e.pgid = pid;
        e.sid = pid;
        Ok(pid)
    }

    fn futex_queue(&self) -> MutexGuard<'_, Vec<Arc<FutexWaiter>>> {
        self.futexes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// FUTEX_WAIT: sleeps on `key` if `still_equal()` (checked under the queue
    /// lock, so no wake between the check and the sleep is lost) until woken,
    /// `deadline`, or `interrupted()`.
    pub fn futex_wait(
        &self,
        key: u64,
        bitset: u32,
        still_equal: impl FnOnce() -> bool,
        deadline: Option<std::time::Instant>,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<(), Errno> {
        let w = Arc::new(FutexWaiter { key: Mutex::new(key), bitset, woken: Default::default() });
        let mut q = self.futex_queue();
        if !still_equal() {
            return Err(Errno::EAGAIN);
        }
        q.push(w.clone());
        loop {
            if w.woken.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(());
            }
            let now = std::time::Instant::now();
            let expired = deadline.is_some_and(|d| now >= d);
            if expired || interrupted() {
                q.retain(|o| !Arc::ptr_eq(o, &w));
                return Err(if expired { Errno::ETIMEDOUT } else { Errno::EINTR });
            }
            let wait = deadline.map(|d| (d - now).min(POLL)).unwrap_or(POLL);
            q = self.futex_woken.wait_timeout(q, wait).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// FUTEX_WAKE: wakes up to `n` waiters on `key` whose bitset meets `bitset`.
    pub fn futex_wake(&self, key: u64, n: u32, bitset: u32) -> u32 {
        self.futex_requeue(key, n, bitset, None)
    }

    /// FUTEX_CMP_REQUEUE without the compare: wakes `n` waiters on `key`, then
    /// moves up to `requeue.1` of the rest to `requeue.0`. Returns the number
    /// woken (plus requeued, as Linux reports for CMP_REQUEUE).
    pub fn futex_requeue(&self, key: u64, n: u32, bitset: u32, requeue: Option<(u64, u32)>) -> u32 {
        let mut q = self.futex_queue();
        let mut woken = 0u32;
        let mut moved = 0u32;
        q.retain(|w| {
            let mut k = w.key.lock().unwrap_or_else(|p| p.into_inner());
            if *k != key || w.bitset & bitset == 0 {
                return true;
            }
            if woken < n {
                woken += 1;
                w.woken.store(true, std::sync::atomic::Ordering::SeqCst);
                return false;
            }
            if let Some((to, _)) = requeue.filter(|(_, max)| moved < *max) {
                moved += 1;
                *k = to;
            }
            true
        });
        drop(q);
        if woken > 0 {
            self.futex_woken.notify_all();
        }
        woken + if requeue.is_some() { moved } else { 0 }
    }

    /// PR_SET_CHILD_SUBREAPER.
    pub fn set_subreaper(&self, pid: i32, on: bool) {
        let mut t = self.table();
        let g = t.procs.get(&pid).map(|e| e.tgid).unwrap_or(pid);
        if let Some(e) = t.procs.get_mut(&g) {
            e.subreaper = on;
        }
    }

    /// PR_GET_CHILD_SUBREAPER.
    pub fn subreaper(&self, pid: i32) -> bool {
        Self::leader_of(&self.table(), pid).is_some_and(|e| e.subreaper)
    }

    /// The process ignores SIGCHLD or set SA_NOCLDWAIT: its children are
    /// reaped as they exit.
    pub fn set_auto_reap(&self, pid: i32, on: bool) {
        let mut t = self.table();
        let g = t.procs.get(&pid).map(|e| e.tgid).unwrap_or(pid);
        if let Some(e) = t.procs.get_mut(&g) {
            e.auto_reap = on;
        }
    }

    /// Records what a process now runs (after exec), for other processes' /proc.
    pub fn set_identity(&self, pid: i32, comm: String, cmdline: Vec<u8>) {
        let mut t = self.table();
        let g = t.procs.get(&pid).map(|e| e.tgid).unwrap_or(pid);
        if let Some(e) = t.procs.get_mut(&g) {
            e.comm = comm;
            e.cmdline = cmdline;
        }
    }

    /// One line per process for /proc: live ones and zombies.
    pub fn processes(&self) -> Vec<crate::vfs::procfs::ProcSummary> {
        let t = self.table();
        t.procs
            .iter()
            .filter(|(pid, e)| e.tgid == **pid)
            .map(|(pid, e)| crate::vfs::procfs::ProcSummary {
                pid: *pid,
                ppid: e.ppid,
                pgid: e.pgid,
                sid: e.sid,
                state: if e.status.is_some() {
                    'Z'
                } else if e.stop_report.is_some() {
                    'T'
                } else {
                    'S'
                },
                threads: t.procs.values().filter(|o| o.tgid == *pid && !o.done).count(),
                comm: e.comm.clone(),
                cmdline: e.cmdline.clone(),
            })
            .collect()
    }

    /// Number of running threads (for tests and /proc).
    pub fn live(&self) -> usize {
        self.table().procs.values().filter(|e| !e.done).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoKick;
    impl Kick for NoKick {
        fn kick(&self) {}
    }
    struct NoHost;
    impl Host for NoHost {
        fn new_vcpu(&self) -> Result<Box<dyn Platform + Send>, PlatformError> {
            Err(PlatformError::Ioctl("no vCPUs in tests".into()))
        }
        fn recycle(&self, _: Box<dyn Platform + Send>) {}
        fn kicker(&self) -> Arc<dyn Kick> {
            Arc::new(NoKick)
        }
        fn thread_init(&self) {}
        fn flush_translations(&self) -> bool {
            true
        }
    }

    #[test]
    fn pids_waits_reparenting_and_groups() {
        let m = Machine::new(Arc::new(NoHost), 3);
        let init = Interrupts::default();
        m.register_init(init.clone(), Interrupts::default(), "init".into(), b"init\0".to_vec());
        let a = m.alloc_pid(1, signal::SIGCHLD, false).unwrap();
        let b = m.alloc_pid(a, signal::SIGCHLD, false).unwrap();
        assert_eq!(m.alloc_pid(1, signal::SIGCHLD, false), Err(Errno::EAGAIN), "--pids limit");
        let no = || false;
        let exits = WaitOptions { exited: true, ..Default::default() };
        let nohang = WaitOptions { nohang: true, ..exits };
        assert_eq!(m.wait(1, WaitFor::Any, nohang, &no), Ok(None));
        assert_eq!(m.wait(b, WaitFor::Any, nohang, &no), Err(Errno::ECHILD));
        m.exited(a, ExitStatus::Exited(3), false);
        assert_eq!(m.ppid(b), 1, "orphans go to pid 1");
        assert!(init.take_pending() & signal::bit(signal::SIGCHLD) != 0);
        assert_eq!(m.wait(1, WaitFor::Pid(a), exits, &no), Ok(Some((a, WaitEvent::Exited(ExitStatus::Exited(3))))));
        assert_eq!(m.wait(1, WaitFor::Pid(a), nohang, &no), Err(Errno::ECHILD), "reaped");
        m.job_state(b, Some(signal::SIGSTOP));
        let stops = WaitOptions { stopped: true, nohang: true, ..exits };
        assert_eq!(m.wait(1, WaitFor::Pid(b), stops, &no), Ok(Some((b, WaitEvent::Stopped(signal::SIGSTOP)))));
        assert_eq!(m.wait(1, WaitFor::Pid(b), stops, &no), Ok(None), "a stop is reported once");
        m.setpgid(1, b, 0).unwrap();
        assert_eq!(m.pgid(b), Ok(b));
        assert_eq!(m.kill(1, Target::Group(b), 0), Ok(()));
        assert_eq!(m.kill(1, Target::Pid(999), signal::SIGTERM), Err(Errno::ESRCH));
        assert_eq!(m.setsid(b), Err(Errno::EPERM), "already a group leader");
        assert_eq!(m.wait(1, WaitFor::Any, exits, &|| true), Err(Errno::EINTR));
    }

    #[test]
    fn a_signal_every_thread_blocks_waits_for_the_process() {
        let m = Machine::new(Arc::new(NoHost), 8);
        let (main, shared) = (Interrupts::default(), Interrupts::default());
        m.register_init(Interrupts::default(), Interrupts::default(), "init".into(), Vec::new());
        let pid = m.alloc_pid(1, signal::SIGCHLD, false).unwrap();
        m.adopt_signals(pid, main.clone(), shared.clone(), signal::bit(signal::SIGTERM));
        let tid = m.alloc_pid(pid, 0, true).unwrap();
        let thread = Interrupts::default();
        m.adopt_signals(tid, thread.clone(), shared.clone(), 0);
        m.kill(1, Target::Pid(pid), signal::SIGTERM).unwrap();
        assert_eq!(thread.take_pending(), signal::bit(signal::SIGTERM), "the thread that does not block it");
        m.set_mask(tid, signal::bit(signal::SIGTERM));
        m.kill(1, Target::Pid(pid), signal::SIGTERM).unwrap();
        assert_eq!(main.peek() | thread.peek(), 0, "no thread takes it while all block it");
        assert_eq!(shared.take_unblocked(signal::bit(signal::SIGTERM)), 0, "still blocked");
        assert_eq!(shared.take_unblocked(0), signal::bit(signal::SIGTERM), "taken once unblocked");
    }
}
