//! Timers that send signals: alarm, setitimer(ITIMER_REAL) and the POSIX
//! per-process timers (timer_create).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::signal::{self, SIGALRM, SigInfo};
use crate::task::Process;

/// A timer that calls `fire` at a deadline and then every interval. Arming
/// spawns a host thread that sleeps to the deadline; re-arming bumps the
/// generation, which retires the old thread, and so does dropping the timer
/// (the thread holds only a weak reference), so no thread outlives its process.
#[derive(Default)]
pub struct RealTimer {
    state: Mutex<TimerState>,
}

#[derive(Default)]
struct TimerState {
    generation: u64,
    deadline: Option<Instant>,
    interval: Duration,
    /// Expirations folded into the last firing (the thread ran late).
    overrun: u32,
}

impl RealTimer {
    /// (remaining, interval) of the current setting.
    fn get(&self) -> (Duration, Duration) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let left = s.deadline.map(|d| d.saturating_duration_since(Instant::now())).unwrap_or_default();
        (left, s.interval)
    }

    fn overrun(&self) -> u32 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).overrun
    }

    /// Arms the timer to fire after `value` (zero disarms), then every
    /// `interval`; returns the previous setting.
    fn set(
        self: &Arc<Self>,
        value: Duration,
        interval: Duration,
        fire: Arc<dyn Fn(u32) + Send + Sync>,
    ) -> (Duration, Duration) {
        let old = self.get();
        let generation = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.generation += 1;
            s.deadline = (!value.is_zero()).then(|| Instant::now() + value);
            s.interval = interval;
            s.overrun = 0;
            s.generation
        };
        if !value.is_zero() {
            let timer = Arc::downgrade(self);
            let _ = std::thread::Builder::new().name("timer".into()).spawn(move || Self::run(timer, generation, fire));
        }
        old
    }

    fn run(timer: Weak<Self>, generation: u64, fire: Arc<dyn Fn(u32) + Send + Sync>) {
        loop {
            let Some(t) = timer.upgrade() else { return };
            let deadline = {
                let s = t.state.lock().unwrap_or_else(|e| e.into_inner());
                match (s.generation == generation, s.deadline) {
                    (true, Some(d)) => d,
                    _ => return,
                }
            };
            let now = Instant::now();
            if now < deadline {
                drop(t);
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
                continue;
            }
            let overrun = {
                let mut s = t.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.generation != generation {
                    return;
                }
                let late = now - deadline;
                let missed = if s.interval.is_zero() { 0 } else { (late.as_nanos() / s.interval.as_nanos()) as u32 };
                s.deadline = (!s.interval.is_zero()).then(|| deadline + s.interval * (missed + 1));
                s.overrun = missed;
                missed
            };
            drop(t);
            fire(overrun);
        }
    }
}

fn timeval_at(b: &[u8], off: usize) -> Result<Duration, Errno> {
    let s = i64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]));
    let us = i64::from_le_bytes(b[off + 8..off + 16].try_into().unwrap_or([0; 8]));
    if s < 0 || !(0..1_000_000).contains(&us) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(s as u64, us as u32 * 1000))
}

fn timeval_bytes(d: Duration) -> [u8; 16] {
    super::timespec_bytes(d.as_secs() as i64, d.subsec_micros() as i64)
}

fn alarm_fire(p: &Process) -> Arc<dyn Fn(u32) + Send + Sync> {
    let machine = p.machine.clone();
    let tgid = p.tgid;
    let own = p.interrupts.clone();
    Arc::new(move |_| match &machine {
        Some(m) => {
            let _ = m.kill(0, crate::machine::Target::Pid(tgid), SIGALRM);
        }
        None => own.raise(SIGALRM),
    })
}

/// Implements Linux `setitimer(2)` for ITIMER_REAL.
pub fn sys_setitimer(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) != libc::ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (value, interval) = if a.u(1) != 0 {
        let mut b = [0u8; 32];
        p.mm.copy_in(a.u(1), &mut b)?;
        (timeval_at(&b, 16)?, timeval_at(&b, 0)?)
    } else {
        (Duration::ZERO, Duration::ZERO)
    };
    let fire = alarm_fire(p);
    let (left, old_interval) = p.itimer.set(value, interval, fire);
    if a.u(2) != 0 {
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&timeval_bytes(old_interval));
        b[16..].copy_from_slice(&timeval_bytes(left));
        put(p, a.u(2), &b)?;
    }
    Ok(0)
}

/// Implements Linux `getitimer(2)` for ITIMER_REAL.
pub fn sys_getitimer(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) != libc::ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (left, interval) = p.itimer.get();
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&timeval_bytes(interval));
    b[16..].copy_from_slice(&timeval_bytes(left));
    put(p, a.u(1), &b)
}

/// Implements Linux `alarm(2)`.
pub fn sys_alarm(p: &mut Process, a: &Args) -> SysResult {
    let fire = alarm_fire(p);
    let (left, _) = p.itimer.set(Duration::from_secs(a.u32(0) as u64), Duration::ZERO, fire);
    // Linux rounds the remaining time to the nearest second, and reports at
    // least 1 while a timer is pending.
    let secs = (left.as_millis() as u64).div_ceil(1000);
    Ok(if left.is_zero() { 0 } else { secs.max(1) })
}

// ---- POSIX per-process timers ----

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
const SI_TIMER: i32 = -2;
const TIMER_ABSTIME: i32 = 1;
/// Linux's default RLIMIT_SIGPENDING is in the thousands; a machine needs no more.
const MAX_TIMERS: usize = 4096;

/// How a POSIX timer tells its process it expired.
#[derive(Clone, Copy)]
enum Notify {
    None,
    /// A signal to the process, or with a thread id to that thread.
    Signal {
        signo: i32,
        value: u64,
        thread: Option<i32>,
    },
}

struct PosixTimer {
    clock: i32,
    timer: Arc<RealTimer>,
    notify: Notify,
}

/// A process's POSIX timers, shared by its threads; dropped with the last of
/// them, which stops every timer.
#[derive(Default)]
pub struct PosixTimers(Mutex<BTreeMap<i32, PosixTimer>>);

impl PosixTimers {
    fn with<T>(&self, id: i32, f: impl FnOnce(&PosixTimer) -> T) -> Result<T, Errno> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&id).map(f).ok_or(Errno::EINVAL)
    }
}

/// Implements Linux `timer_create(2)` for the wall and monotonic clocks.
pub fn sys_timer_create(p: &mut Process, a: &Args) -> SysResult {
    let clock = a.i(0);
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME => {}
        libc::CLOCK_REALTIME_ALARM | libc::CLOCK_BOOTTIME_ALARM => return Err(Errno::EPERM),
        libc::CLOCK_PROCESS_CPUTIME_ID | libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EINVAL),
    }
    let mut ev = [0u8; 64];
    let notify = if a.u(1) == 0 {
        None
    } else {
        p.mm.copy_in(a.u(1), &mut ev)?;
        let word = |o: usize| i32::from_le_bytes(ev[o..o + 4].try_into().unwrap_or([0; 4]));
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap_or([0; 8]));
        let (signo, how, tid) = (word(8), word(12), word(16));
        let valid = |s: i32| (1..=signal::NSIG as i32).contains(&s);
        Some(match how {
            SIGEV_NONE => Notify::None,
            SIGEV_SIGNAL if valid(signo) => Notify::Signal { signo, value, thread: None },
            SIGEV_THREAD_ID if valid(signo) => {
                // The thread must belong to this process.
                let ours = p.machine.as_ref().map_or(tid == p.pid, |m| m.tgid(tid) == p.tgid && m.alive(tid));
                if !ours {
                    return Err(Errno::EINVAL);
                }
                Notify::Signal { signo, value, thread: Some(tid) }
            }
            _ => return Err(Errno::EINVAL),
        })
    };
    let mut timers = p.posix_timers.0.lock().unwrap_or_else(|e| e.into_inner());
    if timers.len() >= MAX_TIMERS {
        return Err(Errno::EAGAIN);
    }
    let id = (0..).find(|i| !timers.contains_key(i)).unwrap_or(0);
    // Without a sigevent: SIGALRM to the process, carrying the timer id.
    let notify = notify.unwrap_or(Notify::Signal { signo: SIGALRM, value: id as u64, thread: None });
    p.mm.copy_out(a.u(2), &id.to_le_bytes())?;
    timers.insert(id, PosixTimer { clock, timer: Default::default(), notify });
    Ok(0)
}

fn timespec_at(b: &[u8], off: usize) -> Result<Duration, Errno> {
    let s = i64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]));
    let ns = i64::from_le_bytes(b[off + 8..off + 16].try_into().unwrap_or([0; 8]));
    if s < 0 || !(0..1_000_000_000).contains(&ns) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(s as u64, ns as u32))
}

fn itimerspec_bytes(interval: Duration, left: Duration) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&super::timespec_bytes(interval.as_secs() as i64, interval.subsec_nanos() as i64));
    b[16..].copy_from_slice(&super::timespec_bytes(left.as_secs() as i64, left.subsec_nanos() as i64));
    b
}

fn timer_fire(p: &Process, id: i32, notify: Notify) -> Arc<dyn Fn(u32) + Send + Sync> {
    let (machine, tgid, own) = (p.machine.clone(), p.tgid, p.interrupts.clone());
    Arc::new(move |overrun| {
        let Notify::Signal { signo, value, thread } = notify else { return };
        let info = SigInfo { signo, code: SI_TIMER, pid: id, uid: overrun, addr: 0, value };
        match &machine {
            Some(m) => {
                let _ = m.queue(tgid, thread, info);
            }
            None => own.raise_info(info),
        }
    })
}

/// Implements Linux `timer_settime(2)`.
pub fn sys_timer_settime(p: &mut Process, a: &Args) -> SysResult {
    let (id, flags) = (a.i(0), a.i(1));
    let mut b = [0u8; 32];
    p.mm.copy_in(a.u(2), &mut b)?;
    let (interval, mut value) = (timespec_at(&b, 0)?, timespec_at(&b, 16)?);
    let (clock, timer, notify) = p.posix_timers.with(id, |t| (t.clock, t.timer.clone(), t.notify))?;
    if flags & TIMER_ABSTIME != 0 && !value.is_zero() {
        // An absolute time already past fires at once.
        let now = crate::host::clock_gettime(clock)?;
        let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        value = value.saturating_sub(now).max(Duration::from_nanos(1));
    }
    let fire = timer_fire(p, id, notify);
    let (left, old_interval) = timer.set(value, interval, fire);
    if a.u(3) != 0 {
        put(p, a.u(3), &itimerspec_bytes(old_interval, left))?;
    }
    Ok(0)
}

/// Implements Linux `timer_gettime(2)`.
pub fn sys_timer_gettime(p: &mut Process, a: &Args) -> SysResult {
    let (left, interval) = p.posix_timers.with(a.i(0), |t| t.timer.get())?;
    put(p, a.u(1), &itimerspec_bytes(interval, left))
}

/// Implements Linux `timer_getoverrun(2)`: expirations folded into the last
/// signal because the timer thread ran late.
pub fn sys_timer_getoverrun(p: &mut Process, a: &Args) -> SysResult {
    p.posix_timers.with(a.i(0), |t| t.timer.overrun() as u64)
}

/// Implements Linux `timer_delete(2)`.
pub fn sys_timer_delete(p: &mut Process, a: &Args) -> SysResult {
    let mut timers = p.posix_timers.0.lock().unwrap_or_else(|e| e.into_inner());
    let t = timers.remove(&a.i(0)).ok_or(Errno::EINVAL)?;
    // Disarm now: a firing thread might still hold the timer for a moment.
    t.timer.set(Duration::ZERO, Duration::ZERO, Arc::new(|_| {}));
    Ok(0)
}
