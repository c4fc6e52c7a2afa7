//! eventfd, timerfd and epoll.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::{Args, put};
use crate::errno::{Errno, SysResult};
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
const EPOLLRDNORM: u32 = 0x040;
const EPOLLRDBAND: u32 = 0x080;
const EPOLLWRNORM: u32 = 0x100;
const EPOLLWRBAND: u32 = 0x200;
const EPOLLMSG: u32 = 0x400;
const EPOLLRDHUP: u32 = 0x2000;
const EPOLLEXCLUSIVE: u32 = 1 << 28;
const EPOLLWAKEUP: u32 = 1 << 29;
const EPOLLONESHOT: u32 = 1 << 30;
const EPOLLET: u32 = 1 << 31;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
/// The event bits and flags passed on to the host.
const EPOLL_VALID: u32 = EPOLLIN
    | EPOLLPRI
    | EPOLLOUT
    | EPOLLERR
    | EPOLLHUP
    | EPOLLRDNORM
    | EPOLLRDBAND
    | EPOLLWRNORM
    | EPOLLWRBAND
    | EPOLLMSG
    | EPOLLRDHUP
    | EPOLLEXCLUSIVE
    | EPOLLWAKEUP
    | EPOLLONESHOT
    | EPOLLET;

struct Interest {
    /// The open file registered. When the interest list holds its last
    /// reference, every guest descriptor of it is closed and Linux would have
    /// dropped the registration: so do we.
    file: Arc<OpenFile>,
    events: u32,
    data: u64,
    /// Host-backed files: a duplicate of the host descriptor, registered with
    /// the host epoll instance (so level, edge and one-shot triggering are
    /// the host kernel's own). Each registration has its own duplicate, so a
    /// guest may add two descriptors of one open file, as on Linux.
    host: Option<OwnedFd>,
    /// Synthetic files (always ready): EPOLLONESHOT entries stop reporting
    /// until re-armed with EPOLL_CTL_MOD.
    disarmed: bool,
    /// A network socket: `host` is its wake fd, and readiness is computed
    /// at each wait (level), or compared with `last` (edge-triggered).
    net: bool,
    last: u32,
}

/// What a network socket's entry reports now, if anything (and arms or
/// disarms it as one-shot and edge triggering say).
fn net_ready(i: &mut Interest) -> Option<u32> {
    if i.disarmed {
        return None;
    }
    let (r, _) = i.file.file.readiness()?;
    let r = r & (i.events | EPOLLERR | EPOLLHUP);
    let new = if i.events & EPOLLET != 0 { r & !i.last } else { r };
    i.last = r;
    if new == 0 {
        return None;
    }
    i.disarmed = i.events & EPOLLONESHOT != 0;
    Some(r)
}

/// An epoll instance: an interest list over guest descriptors, backed by a
/// host epoll instance for the files that have host descriptors. Its own
/// host descriptor makes it pollable and nestable.
pub struct Epoll {
    host: OwnedFd,
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
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.host.as_fd())
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
    let ep = Epoll { host: crate::host::epoll_create()?, interest: Mutex::new(BTreeMap::new()) };
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
    p.fds.get(epfd)?;
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
    // Linux ignores unknown bits; EPOLLWAKEUP needs CAP_BLOCK_SUSPEND and is
    // dropped silently without it.
    let host_events = (events & EPOLL_VALID & !EPOLLWAKEUP) | EPOLLERR | EPOLLHUP;
    with_epoll(p, epfd, |ep| {
        let mut list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
        match op {
            EPOLL_CTL_ADD => {
                match list.get(&fd) {
                    Some(old) if Arc::ptr_eq(&old.file, &target) => return Err(Errno::EEXIST),
                    // The number was closed and reused: the old registration is gone.
                    Some(_) => drop(list.remove(&fd)),
                    None => {}
                }
                let net = target.file.readiness().map(|(_, wake)| crate::host::dup(wake)).transpose()?;
                let is_net = net.is_some();
                let host = match (net, target.file.host_fd()) {
                    // A socket's wake fd wakes the wait; readiness is computed then.
                    (Some(wake), _) => {
                        crate::host::epoll_ctl(ep.host.as_fd(), op, wake.as_fd(), EPOLLIN, fd as u64)?;
                        Some(wake)
                    }
                    (None, Some(h)) => {
                        let dup = crate::host::dup(h)?;
                        crate::host::epoll_ctl(ep.host.as_fd(), op, dup.as_fd(), host_events, fd as u64)?;
                        Some(dup)
                    }
                    (None, None) => None,
                };
                list.insert(fd, Interest { file: target, events, data, host, disarmed: false, net: is_net, last: 0 });
            }
            EPOLL_CTL_MOD => {
                let e = list.get_mut(&fd).ok_or(Errno::ENOENT)?;
                if events & EPOLLEXCLUSIVE != 0 || e.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                match &e.host {
                    Some(h) if !e.net => {
                        crate::host::epoll_ctl(ep.host.as_fd(), op, h.as_fd(), host_events, fd as u64)?
                    }
                    _ => {}
                }
                e.last = 0;
                e.events = events;
                e.data = data;
                e.disarmed = false;
            }
            EPOLL_CTL_DEL => {
                let e = list.remove(&fd).ok_or(Errno::ENOENT)?;
                if let Some(h) = &e.host {
                    let _ = crate::host::epoll_ctl(ep.host.as_fd(), op, h.as_fd(), 0, 0);
                }
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
    let deadline =
        (timeout_ms >= 0).then(|| std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64));
    let file = p.fds.get(epfd)?;
    let Some(ep) = file.file.as_any().and_then(|a| a.downcast_ref::<Epoll>()) else { return Err(Errno::EINVAL) };
    loop {
        // Synthetic files never block: they are ready for what they were
        // asked. Network sockets are ready as their readiness says now.
        let mut ready = {
            let mut list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
            // Dropping a closed file's duplicate also ends its host registration.
            list.retain(|_, i| Arc::strong_count(&i.file) > 1);
            let mut ready = Vec::new();
            for i in list.values_mut() {
                if ready.len() >= max as usize {
                    break;
                }
                if i.net {
                    if let Some(r) = net_ready(i) {
                        ready.push((r, i.data));
                    }
                } else if i.host.is_none() && !i.disarmed {
                    let r = i.events & (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM);
                    if r != 0 {
                        ready.push((r, i.data));
                        i.disarmed = i.events & EPOLLONESHOT != 0;
                    }
                }
            }
            ready
        };
        let room = max as usize - ready.len();
        let mut woke = false;
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()).as_millis() as i32);
        if room > 0 {
            let timeout = if ready.is_empty() { left.unwrap_or(-1) } else { 0 };
            let probe = p.interrupt_probe();
            let events = loop {
                match crate::host::epoll_wait(ep.host.as_fd(), room, timeout) {
                    Err(Errno::EINTR) if !probe() => continue,
                    r => break r?,
                }
            };
            let mut list = ep.interest.lock().unwrap_or_else(|e| e.into_inner());
            for (r, token) in events {
                // An entry deleted meanwhile reports nothing.
                let Some(i) = list.get_mut(&(token as i32)) else { continue };
                if !i.net {
                    ready.push((r, i.data));
                } else if !ready.iter().any(|(_, d)| *d == i.data) {
                    woke = true;
                    if let Some(r) = net_ready(i) {
                        ready.push((r, i.data));
                    }
                }
            }
        }
        // A socket's wake fd fired but it is not ready after all: wait on.
        if !ready.is_empty() || !woke || left == Some(0) {
            let mut buf = Vec::with_capacity(ready.len() * 12);
            for (r, data) in &ready {
                buf.extend_from_slice(&r.to_le_bytes());
                buf.extend_from_slice(&data.to_le_bytes());
            }
            if !buf.is_empty() {
                p.mm.copy_out(out, &buf)?;
            }
            return Ok(ready.len() as u64);
        }
    }
}

/// Implements Linux `epoll_wait(2)`.
pub fn sys_epoll_wait(p: &mut Process, a: &Args) -> SysResult {
    epoll_wait_common(p, a.i(0), a.u(1), a.i(2), a.i(3))
}

/// Implements Linux `epoll_pwait(2)`.
pub fn sys_epoll_pwait(p: &mut Process, a: &Args) -> SysResult {
    let mask = super::signal::read_wait_mask(p, a.u(4), a.u(5))?;
    p.with_temp_mask(mask, |p| epoll_wait_common(p, a.i(0), a.u(1), a.i(2), a.i(3)))
}
