//! Clocks and sleeping.

use super::{Args, put, read_timespec, timespec_bytes};
use crate::errno::{Errno, SysResult};
use crate::host;
use crate::task::Process;

fn valid_clock(c: i32) -> Result<i32, Errno> {
    match c {
        0..=7 | 9 | 11 => Ok(c),
        _ => Err(Errno::EINVAL),
    }
}

/// The time of `clock`: from the guest clock (the vDSO's) when there is one, so
/// both paths agree; otherwise from the host.
fn now(p: &Process, clock: i32) -> Result<libc::timespec, Errno> {
    let real = match clock {
        0 | 5 | 11 => Some(true),
        1 | 4 | 6 | 7 => Some(false),
        _ => None,
    };
    match (p.clock, real) {
        (Some(c), Some(real)) => {
            let ns = c.now(real);
            Ok(libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 })
        }
        _ => host::clock_gettime(clock),
    }
}

/// Implements Linux `clock_gettime(2)`. Process and thread CPU clocks report
/// the host process's CPU time.
pub fn sys_clock_gettime(p: &mut Process, a: &Args) -> SysResult {
    let ts = now(p, valid_clock(a.i(0))?)?;
    put(p, a.u(1), &timespec_bytes(ts.tv_sec, ts.tv_nsec))
}

/// Implements Linux `clock_getres(2)`.
pub fn sys_clock_getres(p: &mut Process, a: &Args) -> SysResult {
    let ts = host::clock_getres(valid_clock(a.i(0))?)?;
    if a.u(1) == 0 {
        return Ok(0);
    }
    put(p, a.u(1), &timespec_bytes(ts.tv_sec, ts.tv_nsec))
}

/// Implements Linux `gettimeofday(2)`.
pub fn sys_gettimeofday(p: &mut Process, a: &Args) -> SysResult {
    let ts = now(p, libc::CLOCK_REALTIME)?;
    if a.u(0) != 0 {
        put(p, a.u(0), &timespec_bytes(ts.tv_sec, ts.tv_nsec / 1000))?;
    }
    if a.u(1) != 0 {
        put(p, a.u(1), &[0u8; 8])?;
    }
    Ok(0)
}

/// Implements Linux `time(2)`.
pub fn sys_time(p: &mut Process, a: &Args) -> SysResult {
    let ts = now(p, libc::CLOCK_REALTIME)?;
    if a.u(0) != 0 {
        p.mm.write_u64(a.u(0), ts.tv_sec as u64)?;
    }
    Ok(ts.tv_sec as u64)
}

fn sleep(p: &mut Process, clock: i32, abs: bool, req: &libc::timespec, rem_ptr: u64) -> SysResult {
    loop {
        match host::clock_nanosleep(clock, abs, req) {
            Ok(()) => return Ok(0),
            Err((Errno::EINTR, rem)) => {
                if p.interrupted() {
                    if rem_ptr != 0 && !abs {
                        put(p, rem_ptr, &timespec_bytes(rem.tv_sec, rem.tv_nsec))?;
                    }
                    return Err(Errno::EINTR);
                }
                if !abs {
                    return sleep(p, clock, abs, &rem, rem_ptr);
                }
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Implements Linux `nanosleep(2)`.
pub fn sys_nanosleep(p: &mut Process, a: &Args) -> SysResult {
    let req = read_timespec(p, a.u(0))?;
    sleep(p, libc::CLOCK_MONOTONIC, false, &req, a.u(1))
}

/// Implements Linux `clock_nanosleep(2)`.
pub fn sys_clock_nanosleep(p: &mut Process, a: &Args) -> SysResult {
    let clock = valid_clock(a.i(0))?;
    if !matches!(clock, 0 | 1 | 7 | 9 | 11) {
        return Err(Errno::EINVAL);
    }
    let req = read_timespec(p, a.u(2))?;
    sleep(p, clock, a.i(1) & libc::TIMER_ABSTIME != 0, &req, a.u(3))
}

fn timeval(tv: libc::timeval) -> [u8; 16] {
    timespec_bytes(tv.tv_sec, tv.tv_usec)
}

/// Implements Linux `getrusage(2)` from the host process's usage.
pub fn sys_getrusage(p: &mut Process, a: &Args) -> SysResult {
    let who = a.i(0);
    if !matches!(who, -1..=1) {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 144];
    if who != -1 {
        let ru = host::rusage_self();
        b[0..16].copy_from_slice(&timeval(ru.ru_utime));
        b[16..32].copy_from_slice(&timeval(ru.ru_stime));
        b[32..40].copy_from_slice(&((p.mm.rss_bytes() / 1024) as i64).to_le_bytes());
    }
    put(p, a.u(1), &b)
}

/// Implements Linux `times(2)`.
pub fn sys_times(p: &mut Process, a: &Args) -> SysResult {
    let ru = host::rusage_self();
    let ticks = |tv: libc::timeval| (tv.tv_sec * 100 + tv.tv_usec / 10_000) as u64;
    if a.u(0) != 0 {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&ticks(ru.ru_utime).to_le_bytes());
        b[8..16].copy_from_slice(&ticks(ru.ru_stime).to_le_bytes());
        put(p, a.u(0), &b)?;
    }
    let up = host::clock_gettime(libc::CLOCK_MONOTONIC)?;
    Ok((up.tv_sec as u64) * 100 + (up.tv_nsec as u64) / 10_000_000)
}
