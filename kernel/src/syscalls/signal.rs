//! Signal syscalls; delivery itself lives in `crate::task`.

use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::signal::{self as sig, AltStack, SigAction, SigInfo};
use crate::task::Process;

const SA_NOCLDWAIT: u64 = 2;

fn check_signo(s: i32) -> Result<i32, Errno> {
    if (1..=sig::NSIG as i32).contains(&s) { Ok(s) } else { Err(Errno::EINVAL) }
}

/// Implements Linux `rt_sigaction(2)`.
pub fn sys_rt_sigaction(p: &mut Process, a: &Args) -> SysResult {
    let s = check_signo(a.i(0))?;
    if a.u(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let new = if a.u(1) != 0 {
        let mut b = [0u8; 32];
        p.mm.copy_in(a.u(1), &mut b)?;
        Some(SigAction::from_bytes(&b))
    } else {
        None
    };
    if new.is_some() && (s == sig::SIGKILL || s == sig::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = p.signals.action(s);
    if a.u(2) != 0 {
        put(p, a.u(2), &old.to_bytes())?;
    }
    if let Some(mut n) = new {
        n.mask &= !sig::UNBLOCKABLE;
        p.signals.actions.set(s, n);
        if let Some(m) = p.machine.as_ref().filter(|_| s == sig::SIGCHLD) {
            m.set_auto_reap(p.pid, n.handler == sig::SIG_IGN || n.flags & SA_NOCLDWAIT != 0);
        }
        // Setting SIG_IGN discards a pending instance.
        if n.handler == sig::SIG_IGN {
            p.signals.pending &= !sig::bit(s);
        }
    }
    Ok(0)
}

/// Implements Linux `rt_sigprocmask(2)`.
pub fn sys_rt_sigprocmask(p: &mut Process, a: &Args) -> SysResult {
    if a.u(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let old = p.signals.mask;
    if a.u(1) != 0 {
        let set = p.mm.read_u64(a.u(1))?;
        let mask = match a.i(0) {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        p.set_mask(mask);
    }
    if a.u(2) != 0 {
        p.mm.write_u64(a.u(2), old)?;
    }
    Ok(0)
}

/// Implements Linux `rt_sigreturn(2)`.
pub fn sys_rt_sigreturn(p: &mut Process, _a: &Args) -> SysResult {
    if p.sigreturn().is_err() {
        // A corrupt frame is fatal, as on Linux.
        p.force_signal(SigInfo { signo: sig::SIGSEGV, code: sig::SI_KERNEL, ..Default::default() }, (13, 0, 0));
        p.regs_replaced = true;
    }
    Ok(0)
}

/// Implements Linux `rt_sigpending(2)`.
pub fn sys_rt_sigpending(p: &mut Process, a: &Args) -> SysResult {
    let raised = p.interrupts.peek() | p.shared_signals.peek();
    p.mm.write_u64(a.u(0), (p.signals.pending | raised) & p.signals.mask).map(|_| 0)
}

/// Reads the optional signal-mask argument of a wait (`size` must be 8).
pub fn read_wait_mask(p: &Process, ptr: u64, size: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    p.mm.read_u64(ptr).map(Some)
}

/// Implements Linux `rt_sigsuspend(2)`: waits under the given mask until a
/// signal arrives that runs a handler or ends the process.
pub fn sys_rt_sigsuspend(p: &mut Process, a: &Args) -> SysResult {
    if a.u(1) != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = p.mm.read_u64(a.u(0))?;
    p.with_temp_mask(Some(mask), |p| {
        if p.signals.pending & !p.signals.mask == 0 {
            while !p.interrupted() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        Err(Errno::EINTR)
    })
}

/// Implements Linux `pause(2)`.
pub fn sys_pause(p: &mut Process, _a: &Args) -> SysResult {
    p.with_temp_mask(None, |p| {
        while !p.interrupted() && p.signals.pending & !p.signals.mask == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Err(Errno::EINTR)
    })
}

/// Implements Linux `sigaltstack(2)`.
pub fn sys_sigaltstack(p: &mut Process, a: &Args) -> SysResult {
    let cur = p.signals.altstack;
    let on = cur.contains(p.ctx.regs.rsp);
    if a.u(0) != 0 {
        let mut b = [0u8; 24];
        p.mm.copy_in(a.u(0), &mut b)?;
        let sp = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let flags = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8]));
        if on {
            return Err(Errno::EPERM);
        }
        if flags & !(sig::SS_DISABLE | (1 << 31)) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & sig::SS_DISABLE != 0 {
            p.signals.altstack = AltStack { sp: 0, flags: sig::SS_DISABLE, size: 0 };
        } else {
            if size < sig::MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            p.signals.altstack = AltStack { sp, flags: 0, size };
        }
    }
    if a.u(1) != 0 {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&cur.sp.to_le_bytes());
        let flags = if on { sig::SS_ONSTACK } else { cur.flags };
        b[8..12].copy_from_slice(&flags.to_le_bytes());
        b[16..24].copy_from_slice(&cur.size.to_le_bytes());
        put(p, a.u(1), &b)?;
    }
    Ok(0)
}

fn send_self(p: &mut Process, s: i32, code: i32) -> SysResult {
    if s == 0 {
        return Ok(0);
    }
    let s = check_signo(s)?;
    if s == sig::SIGKILL {
        p.exit = Some(crate::task::ExitStatus::Signaled { sig: s, core: false });
        return Ok(0);
    }
    let (uid, _) = crate::host::ids();
    p.signals.post(SigInfo { signo: s, code, pid: 1, uid, addr: 0, value: 0 });
    Ok(0)
}

/// Implements Linux `kill(2)` for the machine's one process.
pub fn sys_kill(p: &mut Process, a: &Args) -> SysResult {
    match a.i(0) {
        -1..=1 => send_self(p, a.i(1), sig::SI_USER),
        _ => Err(Errno::ESRCH),
    }
}

/// Reads a guest siginfo for sigqueue: the sender chooses code and value; to
/// another process the code must be negative (not pretending to be the kernel).
fn queued_info(p: &Process, s: i32, ptr: u64, to_self: bool) -> Result<SigInfo, Errno> {
    let mut b = [0u8; 128];
    p.mm.copy_in(ptr, &mut b)?;
    let code = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
    if !to_self && (code >= 0 || code == sig::SI_TKILL) {
        return Err(Errno::EPERM);
    }
    let value = u64::from_le_bytes(b[24..32].try_into().unwrap_or([0; 8]));
    Ok(SigInfo { signo: s, code, pid: p.tgid, uid: crate::host::ids().0, addr: 0, value })
}

/// Implements Linux `rt_sigqueueinfo(2)` (sigqueue).
pub fn sys_rt_sigqueueinfo(p: &mut Process, a: &Args) -> SysResult {
    let s = check_signo(a.i(1))?;
    let info = queued_info(p, s, a.u(2), a.i(0) == p.tgid)?;
    let Some(m) = p.machine.clone() else { return Err(Errno::ESRCH) };
    m.queue(a.i(0), None, info).map(|_| 0)
}

/// Implements Linux `rt_tgsigqueueinfo(2)`.
pub fn sys_rt_tgsigqueueinfo(p: &mut Process, a: &Args) -> SysResult {
    let s = check_signo(a.i(2))?;
    let info = queued_info(p, s, a.u(3), a.i(0) == p.tgid)?;
    let Some(m) = p.machine.clone() else { return Err(Errno::ESRCH) };
    m.queue(a.i(0), Some(a.i(1)), info).map(|_| 0)
}

/// Implements Linux `rt_sigtimedwait(2)` (sigwait, sigwaitinfo, sigtimedwait):
/// takes a signal of the set without running its handler.
pub fn sys_rt_sigtimedwait(p: &mut Process, a: &Args) -> SysResult {
    if a.u(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let set = p.mm.read_u64(a.u(0))? & !sig::UNBLOCKABLE;
    // While waiting, the set counts as unblocked for choosing which thread
    // takes a signal sent to the process (as Linux treats sigwait).
    if let Some(m) = &p.machine {
        m.set_mask(p.pid, p.signals.mask & !set);
    }
    let r = sigtimedwait_loop(p, a, set);
    if let Some(m) = &p.machine {
        m.set_mask(p.pid, p.signals.mask);
    }
    r
}

fn sigtimedwait_loop(p: &mut Process, a: &Args, set: u64) -> SysResult {
    let deadline = if a.u(2) != 0 {
        let t = super::read_timespec(p, a.u(2))?;
        Some(std::time::Instant::now() + std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
    } else {
        None
    };
    loop {
        // Signals raised from outside join the pending set first, with those
        // of the set that wait for the whole process.
        let own = p.interrupts.clone();
        p.post_raised(&own, own.take_pending());
        let shared = p.shared_signals.clone();
        p.post_raised(&shared, shared.take_unblocked(!set));
        let hit = p.signals.pending & set;
        if hit != 0 {
            let n = hit.trailing_zeros() as i32 + 1;
            p.signals.pending &= !sig::bit(n);
            let info = p.signals.info[(n - 1) as usize];
            if a.u(1) != 0 {
                put(p, a.u(1), &info.to_bytes())?;
            }
            return Ok(n as u64);
        }
        // Another deliverable signal ends the wait with EINTR.
        if p.signals.pending & !p.signals.mask & !set != 0 {
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(Errno::EAGAIN);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}
