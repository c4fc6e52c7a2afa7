//! Process identity, limits and miscellany.

use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::host;
use crate::mm::pagetable::USER_END;
use crate::task::Process;

/// Implements Linux `exit(2)`: ends the calling thread; the process ends with
/// its last thread.
pub fn sys_exit(p: &mut Process, a: &Args) -> SysResult {
    p.exit_with(a.i(0), false);
    Ok(0)
}

/// Implements Linux `exit_group(2)`.
pub fn sys_exit_group(p: &mut Process, a: &Args) -> SysResult {
    p.exit_with(a.i(0), true);
    Ok(0)
}

/// Implements Linux `getpgid(2)`.
pub fn sys_getpgid(_p: &mut Process, a: &Args) -> SysResult {
    match a.i(0) {
        0 | 1 => Ok(1),
        _ => Err(Errno::ESRCH),
    }
}

/// Implements Linux `setpgid(2)`: process 1 already leads group 1.
pub fn sys_setpgid(_p: &mut Process, a: &Args) -> SysResult {
    match (a.i(0), a.i(1)) {
        (0 | 1, 0 | 1) => Ok(0),
        (0 | 1, _) => Err(Errno::EPERM),
        _ => Err(Errno::ESRCH),
    }
}

/// Implements Linux `setsid(2)`: a group leader may not start a session.
pub fn sys_setsid(_p: &mut Process, _a: &Args) -> SysResult {
    Err(Errno::EPERM)
}

/// getuid/geteuid.
pub fn sys_getuid(_p: &mut Process, _a: &Args) -> SysResult {
    Ok(host::ids().0 as u64)
}

/// getgid/getegid.
pub fn sys_getgid(_p: &mut Process, _a: &Args) -> SysResult {
    Ok(host::ids().1 as u64)
}

/// Implements Linux `getresuid(2)` and `getresgid(2)`.
pub fn sys_getresuid(p: &mut Process, a: &Args) -> SysResult {
    let (uid, _) = host::ids();
    for i in 0..3 {
        put(p, a.u(i), &uid.to_le_bytes())?;
    }
    Ok(0)
}

/// Implements Linux `getresgid(2)`.
pub fn sys_getresgid(p: &mut Process, a: &Args) -> SysResult {
    let (_, gid) = host::ids();
    for i in 0..3 {
        put(p, a.u(i), &gid.to_le_bytes())?;
    }
    Ok(0)
}

/// setuid/setgid and friends: only the current identity is accepted.
pub fn sys_setid(_p: &mut Process, a: &Args) -> SysResult {
    let (uid, gid) = host::ids();
    let v = a.u32(0);
    if v == uid || v == gid || v == u32::MAX { Ok(0) } else { Err(Errno::EPERM) }
}

/// Implements Linux `getgroups(2)`: no supplementary groups.
pub fn sys_getgroups(_p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) < 0 { Err(Errno::EINVAL) } else { Ok(0) }
}

/// Implements Linux `uname(2)`.
pub fn sys_uname(p: &mut Process, a: &Args) -> SysResult {
    let host_u = host::uname();
    let field = |s: &[libc::c_char]| -> Vec<u8> { s.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect() };
    let mut b = [0u8; 390];
    let fields: [Vec<u8>; 6] = [
        b"Linux".to_vec(),
        p.config.hostname.as_bytes().to_vec(),
        field(&host_u.release),
        field(&host_u.version),
        b"x86_64".to_vec(),
        b"(none)".to_vec(),
    ];
    for (i, f) in fields.iter().enumerate() {
        let n = f.len().min(64);
        b[i * 65..i * 65 + n].copy_from_slice(&f[..n]);
    }
    put(p, a.u(0), &b)
}

/// Implements Linux `arch_prctl(2)`.
pub fn sys_arch_prctl(p: &mut Process, a: &Args) -> SysResult {
    match a.i(0) {
        0x1002 | 0x1001 if a.u(1) >= USER_END => Err(Errno::EPERM),
        0x1002 => {
            p.ctx.regs.fs_base = a.u(1);
            Ok(0)
        }
        0x1001 => {
            p.ctx.regs.gs_base = a.u(1);
            Ok(0)
        }
        0x1003 => p.mm.write_u64(a.u(1), p.ctx.regs.fs_base).map(|_| 0),
        0x1004 => p.mm.write_u64(a.u(1), p.ctx.regs.gs_base).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `prctl(2)` for names, dumpability and no-new-privs.
pub fn sys_prctl(p: &mut Process, a: &Args) -> SysResult {
    match a.i(0) {
        15 => {
            // PR_SET_NAME
            let name = p.mm.read_cstr(a.u(1), 4096)?;
            p.comm = Some(String::from_utf8_lossy(&name[..name.len().min(15)]).into_owned());
            Ok(0)
        }
        16 => {
            let mut nm = [0u8; 16];
            let comm = crate::vfs::procfs::ProcView::comm(&crate::task::ProcViewRef(p));
            let k = comm.len().min(15);
            nm[..k].copy_from_slice(&comm.as_bytes()[..k]);
            put(p, a.u(1), &nm)
        }
        1 | 4 | 38 | 0x5356_4d41 | 41 | 22 => Ok(0), // PDEATHSIG, SET_DUMPABLE, NO_NEW_PRIVS, SET_VMA, SET_THP_DISABLE, SET_SECCOMP(strict) refused below
        3 | 39 => Ok(1),
        36 => {
            // PR_SET_CHILD_SUBREAPER
            if let Some(m) = &p.machine {
                m.set_subreaper(p.pid, a.u(1) != 0);
            }
            Ok(0)
        }
        37 => {
            let on = p.machine.as_ref().is_some_and(|m| m.subreaper(p.pid));
            put(p, a.u(1), &(on as i32).to_le_bytes())
        }
        21 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `set_tid_address(2)`.
pub fn sys_set_tid_address(p: &mut Process, a: &Args) -> SysResult {
    p.clear_child_tid = a.u(0);
    Ok(p.pid as u64)
}

/// Implements Linux `set_robust_list(2)`; the list is walked when the thread exits.
pub fn sys_set_robust_list(p: &mut Process, a: &Args) -> SysResult {
    if a.u(1) != 24 {
        return Err(Errno::EINVAL);
    }
    p.robust_list = a.u(0);
    Ok(0)
}

/// Implements Linux `get_robust_list(2)` for this process's threads.
pub fn sys_get_robust_list(p: &mut Process, a: &Args) -> SysResult {
    let tid = a.i(0);
    if tid != 0 && tid != p.pid {
        // Another thread's list lives in its own task; only the tid is checked.
        let ours = p.machine.as_ref().is_some_and(|m| m.tgid(tid) == p.tgid && m.alive(tid));
        return Err(if ours { Errno::EPERM } else { Errno::ESRCH });
    }
    p.mm.write_u64(a.u(1), p.robust_list)?;
    p.mm.write_u64(a.u(2), 24)?;
    Ok(0)
}

const RLIMIT_STACK: usize = 3;
const RLIMIT_NOFILE: usize = 7;
const RLIMIT_AS: usize = 9;
const RLIM_NLIMITS: usize = 16;

/// Default limits as the machine enforces them.
pub fn default_rlimits(mem: u64) -> [(u64, u64); RLIM_NLIMITS] {
    let mut r = [(u64::MAX, u64::MAX); RLIM_NLIMITS];
    r[RLIMIT_STACK] = (crate::mm::STACK_SIZE, u64::MAX);
    r[RLIMIT_NOFILE] = (crate::fd::NOFILE as u64, crate::fd::NOFILE as u64);
    r[RLIMIT_AS] = (u64::MAX, u64::MAX);
    r[4] = (0, u64::MAX); // RLIMIT_CORE
    r[6] = (1, 1); // RLIMIT_NPROC: one process per machine for now
    let _ = mem;
    r
}

fn rlimit_common(p: &mut Process, res: u64, new: u64, old: u64) -> SysResult {
    let res = usize::try_from(res).ok().filter(|r| *r < RLIM_NLIMITS).ok_or(Errno::EINVAL)?;
    let cur = p.rlimits[res];
    if new != 0 {
        let mut b = [0u8; 16];
        p.mm.copy_in(new, &mut b)?;
        let soft = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let hard = u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        if soft > hard || hard > cur.1 {
            return Err(if soft > hard { Errno::EINVAL } else { Errno::EPERM });
        }
        p.rlimits[res] = (soft, hard);
    }
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&cur.0.to_le_bytes());
        b[8..].copy_from_slice(&cur.1.to_le_bytes());
        put(p, old, &b)?;
    }
    Ok(0)
}

/// Implements Linux `prlimit64(2)` for the machine's process.
pub fn sys_prlimit64(p: &mut Process, a: &Args) -> SysResult {
    if !matches!(a.i(0), 0 | 1) {
        return Err(Errno::ESRCH);
    }
    rlimit_common(p, a.u(1), a.u(2), a.u(3))
}

/// Implements Linux `getrlimit(2)`.
pub fn sys_getrlimit(p: &mut Process, a: &Args) -> SysResult {
    rlimit_common(p, a.u(0), 0, a.u(1))
}

/// Implements Linux `setrlimit(2)`.
pub fn sys_setrlimit(p: &mut Process, a: &Args) -> SysResult {
    rlimit_common(p, a.u(0), a.u(1), 0)
}

/// Implements Linux `sysinfo(2)`.
pub fn sys_sysinfo(p: &mut Process, a: &Args) -> SysResult {
    let mut b = [0u8; 112];
    b[0..8].copy_from_slice(&p.started.elapsed().as_secs().to_le_bytes());
    b[32..40].copy_from_slice(&p.mm.limit_bytes().to_le_bytes());
    b[40..48].copy_from_slice(&p.mm.limit_bytes().saturating_sub(p.mm.user_bytes()).to_le_bytes());
    b[80..82].copy_from_slice(&1u16.to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    put(p, a.u(0), &b)
}

/// Implements Linux `getrandom(2)`.
pub fn sys_getrandom(p: &mut Process, a: &Args) -> SysResult {
    if a.u32(2) & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    let n = (a.u(1) as usize).min(33_554_431);
    if !p.mm.accessible(a.u(0), n, true) {
        return Err(Errno::EFAULT);
    }
    let mut buf = vec![0u8; n];
    let got = host::getrandom(&mut buf)?;
    p.mm.copy_out(a.u(0), &buf[..got])?;
    Ok(got as u64)
}

/// Implements Linux `sched_getaffinity(2)`: the machine has one CPU.
pub fn sys_sched_getaffinity(p: &mut Process, a: &Args) -> SysResult {
    let len = a.u(1) as usize;
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mut m = vec![0u8; len.min(1024)];
    m[0] = 1;
    p.mm.copy_out(a.u(2), &m)?;
    Ok(m.len() as u64)
}

/// Accepts a scheduling request with nothing to change (sched_yield,
/// sched_setaffinity, setpriority...).
pub fn sys_ok(_p: &mut Process, _a: &Args) -> SysResult {
    Ok(0)
}

/// Implements Linux `getpriority(2)`: nice 0, as the kernel encodes it.
pub fn sys_getpriority(_p: &mut Process, _a: &Args) -> SysResult {
    Ok(20)
}

/// Implements Linux `getcpu(2)`.
pub fn sys_getcpu(p: &mut Process, a: &Args) -> SysResult {
    if a.u(0) != 0 {
        put(p, a.u(0), &0u32.to_le_bytes())?;
    }
    if a.u(1) != 0 {
        put(p, a.u(1), &0u32.to_le_bytes())?;
    }
    Ok(0)
}

/// Implements Linux `capget(2)`: no capabilities.
pub fn sys_capget(p: &mut Process, a: &Args) -> SysResult {
    if a.u(1) != 0 {
        put(p, a.u(1), &[0u8; 24])?;
    }
    Ok(0)
}

/// Implements Linux `personality(2)`: only PER_LINUX.
pub fn sys_personality(_p: &mut Process, a: &Args) -> SysResult {
    match a.u32(0) {
        0 | 0xffff_ffff => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// Refuses operations a machine never allows (mount, reboot, ptrace...).
pub fn sys_eperm(_p: &mut Process, _a: &Args) -> SysResult {
    Err(Errno::EPERM)
}
