//! Processes: fork/vfork/clone, execve, wait4/waitid, kill, ids, groups and
//! sessions. The process table lives in `crate::machine`.

use super::{Args, put, read_path};
use crate::errno::{Errno, SysResult};
use crate::loader::{ExecArgs, ExecError};
use crate::machine::{Target, WaitEvent, WaitFor, WaitOptions};
use crate::signal::{self as sig};
use crate::task::{ExitStatus, Process};

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x1_0000;
const CLONE_SETTLS: u64 = 0x8_0000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
/// CLONE_NEW* namespaces, CLONE_PIDFD, CLONE_PTRACE, CLONE_PARENT, CLONE_UNTRACED...
const UNSUPPORTED: u64 = 0x7e02_0000 | 0x1000 | 0x2000 | 0x8000 | 0x80_0000 | 0x200_0000_0000;

/// The one implementation behind fork, vfork and process-like clone.
fn clone_process(p: &mut Process, flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> SysResult {
    let thread = flags & CLONE_THREAD != 0;
    if thread && flags & (CLONE_VM | CLONE_SIGHAND) != CLONE_VM | CLONE_SIGHAND
        || flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0
    {
        return Err(Errno::EINVAL);
    }
    if flags & UNSUPPORTED != 0 {
        return Err(Errno::EINVAL);
    }
    let machine = p.machine.clone().ok_or(Errno::EAGAIN)?;
    let exit_signal = (flags & 0xff) as i32;
    if exit_signal > sig::NSIG as i32 {
        return Err(Errno::EINVAL);
    }
    let pid = machine.alloc_pid(p.pid, exit_signal, thread)?;
    let mut child = if thread {
        p.thread_child(pid)
    } else if flags & CLONE_VM != 0 {
        // vfork and posix_spawn: the child runs in the parent's memory (the
        // parent waits, with CLONE_VFORK) until it execs or exits.
        let mut c = p.fork_child(pid, p.mm.clone());
        if flags & CLONE_FILES != 0 {
            c.fds = p.fds.share();
        }
        c
    } else {
        let mm = match p.mm.fork() {
            Ok(mm) => mm,
            Err(e) => {
                machine.forget(pid);
                return Err(if e == Errno::ENOMEM { Errno::ENOMEM } else { Errno::EAGAIN });
            }
        };
        p.fork_child(pid, mm)
    };
    if stack != 0 {
        child.ctx.regs.rsp = stack;
    }
    if flags & CLONE_SETTLS != 0 {
        if tls >= crate::mm::pagetable::USER_END {
            machine.forget(pid);
            return Err(Errno::EPERM);
        }
        child.ctx.regs.fs_base = tls;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let _ = child.mm.copy_out(child_tid, &pid.to_le_bytes());
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = child_tid;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = p.mm.copy_out(parent_tid, &pid.to_le_bytes());
    }
    if flags & CLONE_FS != 0 {
        child.fs = p.fs.clone();
    }
    machine.adopt_signals(pid, child.interrupts.clone(), child.shared_signals.clone(), child.signals.mask);
    p.spawned = Some((Box::new(child), flags & CLONE_VFORK != 0));
    Ok(pid as u64)
}

/// Implements Linux `fork(2)`.
pub fn sys_fork(p: &mut Process, _a: &Args) -> SysResult {
    clone_process(p, sig::SIGCHLD as u64, 0, 0, 0, 0)
}

/// Implements Linux `vfork(2)`.
pub fn sys_vfork(p: &mut Process, _a: &Args) -> SysResult {
    clone_process(p, CLONE_VM | CLONE_VFORK | sig::SIGCHLD as u64, 0, 0, 0, 0)
}

/// Implements Linux `clone(2)` for new processes and threads.
pub fn sys_clone(p: &mut Process, a: &Args) -> SysResult {
    clone_process(p, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4))
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn read_strings(p: &Process, mut ptr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    const MAX_ARGS: usize = 0x7fff_ffff / 8;
    const ARG_MAX: usize = 2 << 20;
    let mut out = Vec::new();
    let mut total = 0usize;
    if ptr == 0 {
        return Ok(out);
    }
    loop {
        let s = p.mm.read_u64(ptr)?;
        if s == 0 {
            return Ok(out);
        }
        let v = p.mm.read_cstr(s, ARG_MAX).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        total += v.len() + 1 + 8;
        if total > ARG_MAX || out.len() >= MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        out.push(v);
        ptr = ptr.checked_add(8).ok_or(Errno::EFAULT)?;
    }
}

fn exec_errno(e: &ExecError) -> Errno {
    match e {
        ExecError::NotFound(_) => Errno::ENOENT,
        ExecError::Access(_) | ExecError::IsDir(_) => Errno::EACCES,
        ExecError::BadElf(..) => Errno::ENOEXEC,
        ExecError::NoMemory(_) => Errno::ENOMEM,
        ExecError::ScriptDepth(_) => Errno::ELOOP,
        ExecError::Other(_, e) => *e,
    }
}

/// Implements Linux `execve(2)`.
pub fn sys_execve(p: &mut Process, a: &Args) -> SysResult {
    let path = read_path(p, a.u(0))?;
    let argv = read_strings(p, a.u(1))?;
    let envp = read_strings(p, a.u(2))?;
    let mut random = [0u8; 16];
    let _ = crate::host::getrandom(&mut random);
    let cwd = p.fs.cwd();
    let hwcap = p.config.hwcap;
    let args = ExecArgs { path: &path, argv, envp, cwd: &cwd, random, hwcap };
    p.exec(args).map_err(|e| exec_errno(&e))?;
    p.after_exec();
    p.regs_replaced = true;
    Ok(0)
}

fn encode_status(ev: WaitEvent) -> i32 {
    match ev {
        WaitEvent::Exited(ExitStatus::Exited(c)) => (c & 0xff) << 8,
        WaitEvent::Exited(ExitStatus::Signaled { sig, core }) => sig | if core { 0x80 } else { 0 },
        WaitEvent::Stopped(sig) => 0x7f | (sig << 8),
        WaitEvent::Continued => 0xffff,
    }
}

fn wait_common(p: &mut Process, which: WaitFor, opts: WaitOptions) -> Result<Option<(i32, WaitEvent)>, Errno> {
    let Some(machine) = p.machine.clone() else { return Err(Errno::ECHILD) };
    machine.wait(p.pid, which, opts, &p.interrupt_probe())
}

/// Implements Linux `wait4(2)`.
pub fn sys_wait4(p: &mut Process, a: &Args) -> SysResult {
    let options = a.u32(2);
    if options & !(1 | 2 | 8 | 0x2000_0000 | 0x4000_0000 | 0x8000_0000) != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match a.i(0) {
        -1 => WaitFor::Any,
        0 => WaitFor::Group(0),
        pid if pid < -1 => WaitFor::Group(-pid),
        pid => WaitFor::Pid(pid),
    };
    let opts = WaitOptions {
        nohang: options & 1 != 0,
        stopped: options & 2 != 0,
        continued: options & 8 != 0,
        exited: true,
        keep: false,
        clone_only: options & 0x8000_0000 != 0,
        all: options & 0x4000_0000 != 0,
    };
    match wait_common(p, which, opts)? {
        None => Ok(0),
        Some((pid, ev)) => {
            if a.u(1) != 0 {
                put(p, a.u(1), &encode_status(ev).to_le_bytes())?;
            }
            if a.u(3) != 0 {
                put(p, a.u(3), &[0u8; 144])?;
            }
            Ok(pid as u64)
        }
    }
}

/// Implements Linux `waitid(2)`.
pub fn sys_waitid(p: &mut Process, a: &Args) -> SysResult {
    let options = a.u32(3);
    if options & !(1 | 2 | 4 | 8 | 0x0100_0000 | 0x2000_0000 | 0x4000_0000 | 0x8000_0000) != 0
        || options & (2 | 4 | 8) == 0
    {
        return Err(Errno::EINVAL);
    }
    let which = match (a.i(0), a.i(1)) {
        (0, _) => WaitFor::Any,
        (1, pid) if pid > 0 => WaitFor::Pid(pid),
        (2, pgid) if pgid >= 0 => WaitFor::Group(pgid),
        _ => return Err(Errno::EINVAL),
    };
    let opts = WaitOptions {
        nohang: options & 1 != 0,
        stopped: options & 2 != 0,
        exited: options & 4 != 0,
        continued: options & 8 != 0,
        keep: options & 0x0100_0000 != 0,
        clone_only: options & 0x8000_0000 != 0,
        all: options & 0x4000_0000 != 0,
    };
    let found = wait_common(p, which, opts)?;
    if a.u(2) != 0 {
        let mut info = [0u8; 128];
        if let Some((pid, ev)) = found {
            let (code, st): (i32, i32) = match ev {
                WaitEvent::Exited(ExitStatus::Exited(c)) => (1, c),
                WaitEvent::Exited(ExitStatus::Signaled { sig, core }) => (if core { 3 } else { 2 }, sig),
                WaitEvent::Stopped(sig) => (5, sig),
                WaitEvent::Continued => (6, sig::SIGCONT),
            };
            info[0..4].copy_from_slice(&sig::SIGCHLD.to_le_bytes());
            info[8..12].copy_from_slice(&code.to_le_bytes());
            info[16..20].copy_from_slice(&pid.to_le_bytes());
            info[20..24].copy_from_slice(&crate::host::ids().0.to_le_bytes());
            info[24..28].copy_from_slice(&st.to_le_bytes());
        }
        put(p, a.u(2), &info)?;
    }
    Ok(0)
}

fn check_sig(s: i32) -> Result<i32, Errno> {
    if (0..=sig::NSIG as i32).contains(&s) { Ok(s) } else { Err(Errno::EINVAL) }
}

/// Implements Linux `kill(2)`.
pub fn sys_kill(p: &mut Process, a: &Args) -> SysResult {
    let s = check_sig(a.i(1))?;
    let Some(machine) = p.machine.clone() else {
        return super::signal::sys_kill(p, a);
    };
    let target = match a.i(0) {
        0 => Target::Group(machine.pgid(p.pid)?),
        -1 => Target::All,
        pid if pid < -1 => Target::Group(pid.checked_neg().ok_or(Errno::ESRCH)?),
        pid => Target::Pid(pid),
    };
    machine.kill(p.pid, target, s)?;
    let own = target == Target::Pid(p.tgid) || target == Target::Pid(p.pid);
    if s != 0 && (own || matches!(target, Target::Group(g) if machine.pgid(p.pid) == Ok(g))) {
        // To itself: deliver before the syscall returns, as Linux does.
        take_own_signals(p, sig::SI_USER);
    }
    Ok(0)
}

/// Takes the signals just sent to this thread so they are delivered before
/// the syscall returns, as Linux does for a signal a thread sends itself.
fn take_own_signals(p: &mut Process, code: i32) {
    let bits = p.interrupts.take_pending();
    for n in 1..=sig::NSIG as i32 {
        if bits & sig::bit(n) == 0 {
            continue;
        }
        if n == sig::SIGKILL {
            p.exit = Some(ExitStatus::Signaled { sig: n, core: false });
            p.group_exit = true;
        } else {
            p.signals.post(sig::SigInfo { signo: n, code, pid: p.tgid, uid: crate::host::ids().0, addr: 0, value: 0 });
        }
    }
}

/// Sends a signal to one thread; to itself it is taken before returning.
fn signal_thread(p: &mut Process, tgid: i32, tid: i32, s: i32) -> SysResult {
    let s = check_sig(s)?;
    let Some(machine) = p.machine.clone() else {
        return super::signal::sys_kill(p, &Args([1, s as u64, 0, 0, 0, 0]));
    };
    machine.kill_thread(tgid, tid, s)?;
    if tid == p.pid && s != 0 {
        take_own_signals(p, sig::SI_TKILL);
    }
    Ok(0)
}

/// Implements Linux `tgkill(2)`.
pub fn sys_tgkill(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) <= 0 || a.i(1) <= 0 {
        return Err(Errno::EINVAL);
    }
    signal_thread(p, a.i(0), a.i(1), a.i(2))
}

/// Implements Linux `tkill(2)`.
pub fn sys_tkill(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    let tgid = p.machine.as_ref().map(|m| m.tgid(a.i(0))).unwrap_or(a.i(0));
    signal_thread(p, tgid, a.i(0), a.i(1))
}

/// Implements Linux `getpid(2)`: the process (thread group) id.
pub fn sys_getpid(p: &mut Process, _a: &Args) -> SysResult {
    Ok(p.tgid as u64)
}

/// Implements Linux `gettid(2)`.
pub fn sys_gettid(p: &mut Process, _a: &Args) -> SysResult {
    Ok(p.pid as u64)
}

/// Implements Linux `getppid(2)`.
pub fn sys_getppid(p: &mut Process, _a: &Args) -> SysResult {
    Ok(p.ppid() as u64)
}

fn target_pid(p: &Process, pid: i32) -> i32 {
    if pid == 0 { p.pid } else { pid }
}

/// Implements Linux `getpgid(2)` (and getpgrp).
pub fn sys_getpgid(p: &mut Process, a: &Args) -> SysResult {
    match &p.machine {
        Some(m) => m.pgid(target_pid(p, a.i(0))).map(|g| g as u64),
        None => super::proc::sys_getpgid(p, a),
    }
}

/// Implements Linux `getpgrp(2)`.
pub fn sys_getpgrp(p: &mut Process, _a: &Args) -> SysResult {
    sys_getpgid(p, &Args([0; 6]))
}

/// Implements Linux `getsid(2)`.
pub fn sys_getsid(p: &mut Process, a: &Args) -> SysResult {
    match &p.machine {
        Some(m) => m.sid(target_pid(p, a.i(0))).map(|s| s as u64),
        None => super::proc::sys_getpgid(p, a),
    }
}

/// Implements Linux `setpgid(2)`.
pub fn sys_setpgid(p: &mut Process, a: &Args) -> SysResult {
    if a.i(1) < 0 {
        return Err(Errno::EINVAL);
    }
    match &p.machine {
        Some(m) => m.setpgid(p.pid, target_pid(p, a.i(0)), a.i(1)).map(|_| 0),
        None => super::proc::sys_setpgid(p, a),
    }
}

/// Implements Linux `setsid(2)`.
pub fn sys_setsid(p: &mut Process, a: &Args) -> SysResult {
    match &p.machine {
        Some(m) => m.setsid(p.pid).map(|s| s as u64),
        None => super::proc::sys_setsid(p, a),
    }
}
