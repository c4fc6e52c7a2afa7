//! eventfd, timerfd, epoll and the real-time interval timer (alarm/setitimer).

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::signal::SIGALRM;
use crate::task::Process;
use crate::vfs::file::{File, OpenFile, Stat};
use crate::vfs::hostfs::HostFile;
use crate::vfs::synth_stat;

fn install_host(p: &mut Process, fd: i64, name: &str, flags: u32, cloexec: bool) -> SysResult {
    if fd < 0 {
        return Err(Errno::last_host());
    }
    let owned = crate::host::own_fd(fd as i32)?;
    let file = HostFile::from_fd(owned, name.into());
    p.fds.insert(Arc::new(OpenFile::new(Box::new(file), flags)), cloexec, 0).map(|fd| fd as u64)
}

/// Implements Linux `eventfd2(2)` with a host eventfd.
pub fn sys_eventfd2(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(1);
    if flags & !(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let fd = crate::host::eventfd(a.u32(0), (flags & !libc::EFD_CLOEXEC) | libc::EFD_CLOEXEC);
    let status = libc::O_RDWR as u32 | (flags & libc::EFD_NONBLOCK) as u32;
    install_host(p, fd, "anon_inode:[eventfd]", status, flags & libc::EFD_CLOEXEC != 0)
}

/// Implements Linux `eventfd(2)`.
pub fn sys_eventfd(p: &mut Process, a: &Args) -> SysResult {
    sys_eventfd2(p, &Args([a.u(0), 0, 0, 0, 0, 0]))
}

/// Implements Linux `timerfd_create(2)` with a host timerfd.
pub fn sys_timerfd_create(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(1);
    if flags & !(libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) != 0 || !matches!(a.i(0), 0 | 1 | 7) {
        return Err(Errno::EINVAL);
    }
    let fd = crate::host::timerfd_create(a.i(0), (flags & !libc::TFD_CLOEXEC) | libc::TFD_CLOEXEC);
    let status = libc::O_RDWR as u32 | (flags & libc::TFD_NONBLOCK) as u32;
    install_host(p, fd, "anon_inode:[timerfd]", status, flags & libc::TFD_CLOEXEC != 0)
}

fn host_fd_of(p: &Process, fd: i32) -> Result<(Arc<OpenFile>, i32), Errno> {
    let f = p.fds.get(fd)?;
    let raw = f.file.host_fd().map(|h| h.as_raw_fd()).ok_or(Errno::EINVAL)?;
    Ok((f, raw))
}

/// Implements Linux `timerfd_settime(2)`.
pub fn sys_timerfd_settime(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_fd_of(p, a.i(0))?;
    let mut new = [0u8; 32];
    p.mm.copy_in(a.u(2), &mut new)?;
    let mut old = [0u8; 32];
    crate::host::timerfd_settime(raw, a.i(1), &new, &mut old)?;
    if a.u(3) != 0 {
        put(p, a.u(3), &old)?;
    }
    Ok(0)
}

/// Implements Linux `timerfd_gettime(2)`.
pub fn sys_timerfd_gettime(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_fd_of(p, a.i(0))?;
    let mut cur = [0u8; 32];
    crate::host::timerfd_gettime(raw, &mut cur)?;
    put(p, a.u(1), &cur)
}

// ---- epoll ----

const EPOLLIN: u32 = 0x001;
const EPOLLPRI: u32 = 0x002;
const EPOLLOUT: u32 = 0x004;
const EPOLLERR: u32 = 0x008;
const EPOLLHUP: u32 = 0x010;
const EPOLLRDHUP: u32 = 0x2000;
const EPOLLONESHOT: u32 = 1 << 30;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;

struct Interest {
    file: Arc<OpenFile>,
    events: u32,
    data: u64,
    /// EPOLLONESHOT entries stop reporting until re-armed with EPOLL_CTL_MOD.
    disarmed: bool,
}

/// An epoll instance: an interest list over guest descriptors. Readiness comes
/// from the host's poll on the files behind them.
pub struct Epoll {
    interest: Mutex<BTreeMap<i32, Interest>>,
}

impl File for Epoll {
    fn read(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat("anon_inode:[eventpoll]", 0o600))
    }
    fn path(&self) -> String {
        "anon_inode:[eventpoll]".into()
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Implements Linux `epoll_create1(2)`.
pub fn sys_epoll_create1(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) & !libc::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let ep = Epoll { interest: Mutex::new(BTreeMap::new()) };
    p.fds
        .insert(Arc::new(OpenFile::new(Box::new(ep), libc::O_RDWR as u32)), a.i(0) & libc::EPOLL_CLOEXEC != 0, 0)
        .map(|fd| fd as u64)
}

/// Implements Linux `epoll_create(2)`.
pub fn sys_epoll_create(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    sys_epoll_create1(p, &Args([0; 6]))
}

fn with_epoll<T>(p: &Process, epfd: i32, f: impl FnOnce(&Epoll) -> Result<T, Errno>) -> Result<T, Errno> {
    let file = p.fds.get(epfd)?;
    let ep = file.file.as_any().and_then(|a| a.downcast_ref::<Epoll>()).ok_or(Errno::EINVAL)?;
    f(ep)
}

/// Implements Linux `epoll_ctl(2)`.
pub fn sys_epoll_ctl(p: &mut Process, a: &Args) -> SysResult {
    let (epfd, op, fd) = (a.i(0), a.i(1), a.i(2));
    let target = p.fds.get(fd)?;
    if fd == epfd {
        return Err(Errno::EINVAL);
    }
    let mut ev = [0u8; 12];
    if op != EPOLL_CTL_DEL {
        p.mm.copy_in(a.u(3), &mut ev)?;
    }
    let events = u32::from_le_bytes(ev[0..4].try_into().unwrap_or([0; 4]));
    let data = u64::from_le_bytes(ev[4..12].try_into().unwrap_or([0; 8]));
    with_epoll(p, epfd, |ep| {
        let mut list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
        match op {
            EPOLL_CTL_ADD => {
                if list.contains_key(&fd) {
                    return Err(Errno::EEXIST);
                }
                list.insert(fd, Interest { file: target, events, data, disarmed: false });
            }
            EPOLL_CTL_MOD => {
                let e = list.get_mut(&fd).ok_or(Errno::ENOENT)?;
                e.events = events;
                e.data = data;
                e.disarmed = false;
            }
            EPOLL_CTL_DEL => {
                list.remove(&fd).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(0)
    })
}

fn epoll_wait_common(p: &mut Process, epfd: i32, out: u64, max: i32, timeout_ms: i32) -> SysResult {
    if max <= 0 || max > 1 << 20 {
        return Err(Errno::EINVAL);
    }
    // Snapshot the interest list; readiness is polled without holding it.
    let entries: Vec<(i32, Arc<OpenFile>, u32, u64)> = with_epoll(p, epfd, |ep| {
        let list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
        Ok(list.iter().filter(|(_, i)| !i.disarmed).map(|(fd, i)| (*fd, i.file.clone(), i.events, i.data)).collect())
    })?;
    let mut host = Vec::new();
    let mut ready: Vec<(i32, u32, u64)> = Vec::new();
    for (fd, file, events, data) in &entries {
        match file.file.host_fd() {
            Some(h) => {
                let mask = (*events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP)) as i16;
                host.push((libc::pollfd { fd: h.as_raw_fd(), events: mask, revents: 0 }, *fd, *events, *data));
            }
            None => {
                let r = *events & (EPOLLIN | EPOLLOUT);
                if r != 0 {
                    ready.push((*fd, r, *data));
                }
            }
        }
    }
    let mut fds: Vec<libc::pollfd> = host.iter().map(|h| h.0).collect();
    let timeout = if ready.is_empty() { timeout_ms } else { 0 };
    let probe = p.interrupt_probe();
    loop {
        match crate::host::poll(&mut fds, timeout) {
            Err(Errno::EINTR) if !probe() => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    for (pf, (_, fd, events, data)) in fds.iter().zip(&host) {
        let r = (pf.revents as u32) & (*events | EPOLLERR | EPOLLHUP);
        if r != 0 {
            ready.push((*fd, r, *data));
        }
    }
    ready.truncate(max as usize);
    let mut buf = Vec::with_capacity(ready.len() * 12);
    for (_, r, data) in &ready {
        buf.extend_from_slice(&r.to_le_bytes());
        buf.extend_from_slice(&data.to_le_bytes());
    }
    if !buf.is_empty() {
        p.mm.copy_out(out, &buf)?;
    }
    let oneshot: Vec<i32> = ready
        .iter()
        .map(|(fd, _, _)| *fd)
        .filter(|fd| entries.iter().any(|e| e.0 == *fd && e.2 & EPOLLONESHOT != 0))
        .collect();
    if !oneshot.is_empty() {
        with_epoll(p, epfd, |ep| {
            let mut list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
            for fd in oneshot {
                if let Some(i) = list.get_mut(&fd) {
                    i.disarmed = true;
                }
            }
            Ok(())
        })?;
    }
    Ok(ready.len() as u64)
}

/// Implements Linux `epoll_wait(2)`. Edge-triggered interest is reported like
/// level-triggered (callers that drain to EAGAIN see no difference).
pub fn sys_epoll_wait(p: &mut Process, a: &Args) -> SysResult {
    epoll_wait_common(p, a.i(0), a.u(1), a.i(2), a.i(3))
}

/// Implements Linux `epoll_pwait(2)` (the signal mask is not applied).
pub fn sys_epoll_pwait(p: &mut Process, a: &Args) -> SysResult {
    epoll_wait_common(p, a.i(0), a.u(1), a.i(2), a.i(3))
}

// ---- alarm / setitimer(ITIMER_REAL) ----

/// A process's real-time interval timer. Arming spawns a host thread that
/// sleeps to the deadline and sends SIGALRM; re-arming bumps the generation,
/// which retires the old thread.
#[derive(Default)]
pub struct RealTimer {
    state: Mutex<TimerState>,
}

#[derive(Default)]
struct TimerState {
    generation: u64,
    deadline: Option<Instant>,
    interval: Duration,
}

impl RealTimer {
    /// (remaining, interval) of the current setting.
    fn get(&self) -> (Duration, Duration) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let left = s.deadline.map(|d| d.saturating_duration_since(Instant::now())).unwrap_or_default();
        (left, s.interval)
    }

    fn set(
        self: &Arc<Self>,
        value: Duration,
        interval: Duration,
        fire: Arc<dyn Fn() + Send + Sync>,
    ) -> (Duration, Duration) {
        let old = self.get();
        let generation = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.generation += 1;
            s.deadline = (!value.is_zero()).then(|| Instant::now() + value);
            s.interval = interval;
            s.generation
        };
        if !value.is_zero() {
            let timer = self.clone();
            let _ = std::thread::Builder::new().name("itimer".into()).spawn(move || timer.run(generation, fire));
        }
        old
    }

    fn run(&self, generation: u64, fire: Arc<dyn Fn() + Send + Sync>) {
        loop {
            let deadline = {
                let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                match (s.generation == generation, s.deadline) {
                    (true, Some(d)) => d,
                    _ => return,
                }
            };
            let now = Instant::now();
            if now < deadline {
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
                continue;
            }
            {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.generation != generation {
                    return;
                }
                s.deadline = (!s.interval.is_zero()).then(|| deadline + s.interval);
            }
            fire();
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

fn alarm_fire(p: &Process) -> Arc<dyn Fn() + Send + Sync> {
    let machine = p.machine.clone();
    let tgid = p.tgid;
    let own = p.interrupts.clone();
    Arc::new(move || match &machine {
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
