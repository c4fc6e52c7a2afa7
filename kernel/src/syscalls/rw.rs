//! read/write families, lseek, and readiness (poll/select).

use std::sync::Arc;

use super::Args;
use crate::errno::{Errno, SysResult};
use crate::task::Process;
use crate::vfs::file::OpenFile;

/// Largest transfer in one host call; bigger requests loop.
const CHUNK: usize = 1 << 20;
/// Linux caps one read/write at this many bytes.
const MAX_RW: u64 = 0x7fff_f000;
const UIO_MAXIOV: u64 = 1024;

/// Retries a host call interrupted by the vCPU kick unless the guest has a
/// signal to take.
pub(super) fn restartable<T>(p: &Process, mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::EINTR) if !p.interrupted() => continue,
            r => return r,
        }
    }
}

/// Waits until a file without a host descriptor (a network socket) is ready
/// for `want` (POLL* bits), an error or hang-up; EINTR when a signal comes.
pub(super) fn wait_ready(p: &Process, f: &OpenFile, want: u32) -> Result<(), Errno> {
    loop {
        let Some((r, wake)) = f.file.readiness() else { return Ok(()) };
        if r & (want | crate::net::POLLERR | crate::net::POLLHUP) != 0 {
            return Ok(());
        }
        let mut pfd = [libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(&wake), events: libc::POLLIN, revents: 0 }];
        restartable(p, || crate::host::poll(&mut pfd, -1))?;
    }
}

/// Runs `op` until it stops failing with EAGAIN, waiting for `want` in
/// between, for network sockets without O_NONBLOCK; anything else runs once.
pub(super) fn blocking<T>(
    p: &Process,
    f: &OpenFile,
    want: u32,
    mut op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    loop {
        match op() {
            Err(Errno::EAGAIN) if f.flags() & libc::O_NONBLOCK as u32 == 0 && f.file.readiness().is_some() => {
                wait_ready(p, f, want)?
            }
            r => return r,
        }
    }
}

fn readable(p: &Process, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    let f = p.fds.get(fd)?.clone();
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if f.file.is_dir() {
        return Err(Errno::EISDIR);
    }
    Ok(f)
}

fn writable(p: &Process, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    let f = p.fds.get(fd)?.clone();
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

/// Reads into guest memory at `buf`; `off` None uses the file position.
/// Linux's access_ok: the whole range must lie in user space, or EFAULT at once.
fn access_ok(buf: u64, len: u64) -> Result<(), Errno> {
    match buf.checked_add(len) {
        Some(end) if end <= crate::mm::pagetable::USER_END => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

fn do_read(p: &mut Process, f: &OpenFile, buf: u64, len: u64, off: Option<u64>) -> SysResult {
    access_ok(buf, len)?;
    if len == 0 {
        return Ok(0);
    }
    // Like Linux, transfer up to the first unmapped byte; EFAULT only if none is mapped.
    let len = p.mm.accessible_prefix(buf, len.min(MAX_RW) as usize, true);
    if len == 0 {
        return if p.mm.accessible(buf, 1, true) { Ok(0) } else { Err(Errno::EFAULT) };
    }
    if let Some((fd, uring)) = f.file.regular_host_fd() {
        return read_regular(p, fd, uring, buf, len, off);
    }
    with_scratch(len.min(CHUNK), |tmp| {
        let mut done = 0usize;
        while done < len {
            let want = (len - done).min(CHUNK);
            let mut once = || {
                restartable(p, || match off {
                    Some(o) => f.file.pread(&mut tmp[..want], o + done as u64),
                    None => f.file.read(&mut tmp[..want]),
                })
            };
            // Only an empty read waits: once data came, it is the answer.
            let r = if done == 0 { blocking(p, f, crate::net::POLLIN, &mut once) } else { once() };
            let n = match r {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            p.mm.copy_out(buf + done as u64, &tmp[..n])?;
            done += n;
            if n < want {
                break;
            }
        }
        Ok(done as u64)
    })
}

/// Reads a regular host file straight into guest memory, a chunk at a time,
/// until `len` bytes or end of file (regular files never read short otherwise).
fn read_regular(
    p: &Process,
    fd: std::os::fd::BorrowedFd<'_>,
    uring: bool,
    buf: u64,
    len: usize,
    off: Option<u64>,
) -> SysResult {
    let mut done = 0usize;
    while done < len {
        let want = (len - done).min(CHUNK);
        let at = off.map(|o| o + done as u64);
        let n = match restartable(p, || p.mm.read_file_into(buf + done as u64, want, fd, at, uring)) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done as u64)
}

thread_local! {
    /// A bounce buffer reused across reads and writes on this host thread, so
    /// a large transfer does not allocate (and zero) a fresh one each call.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_scratch<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0u8; len]),
    })
}

fn do_write(p: &mut Process, f: &OpenFile, buf: u64, len: u64, off: Option<u64>) -> SysResult {
    access_ok(buf, len)?;
    if len == 0 {
        return Ok(0);
    }
    let len = p.mm.accessible_prefix(buf, len.min(MAX_RW) as usize, false);
    if len == 0 {
        return if p.mm.accessible(buf, 1, false) { Ok(0) } else { Err(Errno::EFAULT) };
    }
    let mut done = 0usize;
    while done < len {
        let want = (len - done).min(CHUNK);
        let r = with_scratch(want, |tmp| {
            p.mm.copy_in(buf + done as u64, tmp)?;
            let once = |p: &Process| {
                restartable(p, || match off {
                    Some(o) => f.file.pwrite(tmp, o + done as u64),
                    None => f.file.write(tmp),
                })
            };
            // Only the first chunk waits: after that a short count is the answer.
            Ok(if done == 0 { blocking(p, f, crate::net::POLLOUT, || once(p)) } else { once(p) })
        });
        let r = match r {
            Ok(r) => r,
            Err(e) => return if done > 0 { Ok(done as u64) } else { Err(e) },
        };
        let n = match r {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done as u64)
}

/// Implements Linux `read(2)`.
pub fn sys_read(p: &mut Process, a: &Args) -> SysResult {
    let f = readable(p, a.i(0))?;
    do_read(p, &f, a.u(1), a.u(2), None)
}

/// A write to a pipe with no reader also raises SIGPIPE, as on Linux.
fn epipe(p: &mut Process, r: SysResult) -> SysResult {
    if r == Err(Errno::EPIPE) {
        p.signals.post(crate::signal::SigInfo {
            signo: crate::signal::SIGPIPE,
            code: crate::signal::SI_USER,
            pid: 1,
            ..Default::default()
        });
    }
    r
}

/// Implements Linux `write(2)`.
pub fn sys_write(p: &mut Process, a: &Args) -> SysResult {
    let f = writable(p, a.i(0))?;
    let r = do_write(p, &f, a.u(1), a.u(2), None);
    epipe(p, r)
}

/// Implements Linux `pread64(2)`.
pub fn sys_pread64(p: &mut Process, a: &Args) -> SysResult {
    if (a.u(3) as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let f = readable(p, a.i(0))?;
    do_read(p, &f, a.u(1), a.u(2), Some(a.u(3)))
}

/// Implements Linux `pwrite64(2)`.
pub fn sys_pwrite64(p: &mut Process, a: &Args) -> SysResult {
    if (a.u(3) as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let f = writable(p, a.i(0))?;
    do_write(p, &f, a.u(1), a.u(2), Some(a.u(3)))
}

fn read_iovec(p: &Process, iov: u64, n: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if n > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; n as usize * 16];
    p.mm.copy_in(iov, &mut raw)?;
    let v: Vec<(u64, u64)> = raw
        .chunks(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[..8].try_into().unwrap_or([0; 8])),
                u64::from_le_bytes(c[8..].try_into().unwrap_or([0; 8])),
            )
        })
        .collect();
    if v.iter().any(|(_, l)| (*l as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    Ok(v)
}

fn vectored(p: &mut Process, f: &OpenFile, iov: u64, n: u64, off: Option<u64>, write: bool) -> SysResult {
    let mut total = 0u64;
    for (base, len) in read_iovec(p, iov, n)? {
        if len == 0 {
            continue;
        }
        let at = off.map(|o| o + total);
        let r = if write { do_write(p, f, base, len, at) } else { do_read(p, f, base, len, at) };
        match r {
            Ok(k) => {
                total += k;
                if k < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// Implements Linux `readv(2)`.
pub fn sys_readv(p: &mut Process, a: &Args) -> SysResult {
    let f = readable(p, a.i(0))?;
    vectored(p, &f, a.u(1), a.u(2), None, false)
}

/// Implements Linux `writev(2)`.
pub fn sys_writev(p: &mut Process, a: &Args) -> SysResult {
    let f = writable(p, a.i(0))?;
    let r = vectored(p, &f, a.u(1), a.u(2), None, true);
    epipe(p, r)
}

/// Implements Linux `preadv(2)`.
pub fn sys_preadv(p: &mut Process, a: &Args) -> SysResult {
    let f = readable(p, a.i(0))?;
    vectored(p, &f, a.u(1), a.u(2), Some(a.u(3)), false)
}

/// Implements Linux `pwritev(2)`.
pub fn sys_pwritev(p: &mut Process, a: &Args) -> SysResult {
    let f = writable(p, a.i(0))?;
    vectored(p, &f, a.u(1), a.u(2), Some(a.u(3)), true)
}

/// Implements Linux `lseek(2)`.
pub fn sys_lseek(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    f.file.seek(a.u(1) as i64, a.i(2))
}

/// Implements Linux `sendfile(2)` by copying through the host.
pub fn sys_sendfile(p: &mut Process, a: &Args) -> SysResult {
    let out = writable(p, a.i(0))?;
    let inp = readable(p, a.i(1))?;
    let count = (a.u(3).min(MAX_RW) as usize).min(CHUNK);
    let mut buf = vec![0u8; count];
    let n = if a.u(2) != 0 {
        let off = p.mm.read_u64(a.u(2))?;
        let n = inp.file.pread(&mut buf, off)?;
        p.mm.write_u64(a.u(2), off + n as u64)?;
        n
    } else {
        inp.file.read(&mut buf)?
    };
    let mut done = 0;
    while done < n {
        done += out.file.write(&buf[done..n])?;
    }
    Ok(n as u64)
}

/// Polls guest descriptors: host-backed ones on their host fds; network
/// sockets by their readiness, waiting on their wake fds (and looking again
/// after a wake, until something is ready or the time is up).
fn poll_fds(p: &Process, fds: &[(i32, i16)], timeout_ms: i32) -> Result<Vec<i16>, Errno> {
    let deadline =
        (timeout_ms >= 0).then(|| std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64));
    loop {
        let mut revents = vec![0i16; fds.len()];
        let mut host = Vec::new();
        // (index into fds, whether the host fd is a wake fd)
        let mut map = Vec::new();
        let mut ready = false;
        let mut files = Vec::new();
        for (i, (fd, events)) in fds.iter().enumerate() {
            if *fd < 0 {
                continue;
            }
            match p.fds.get(*fd) {
                Err(_) => {
                    revents[i] = libc::POLLNVAL;
                    ready = true;
                }
                Ok(f) => files.push((i, *events, f)),
            }
        }
        for (i, events, f) in &files {
            if let Some((r, wake)) = f.file.readiness() {
                let always = (libc::POLLERR | libc::POLLHUP) as u32;
                revents[*i] = (r & (*events as u16 as u32 | always)) as i16;
                if revents[*i] != 0 {
                    ready = true;
                } else {
                    host.push(libc::pollfd {
                        fd: std::os::fd::AsRawFd::as_raw_fd(&wake),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    map.push((*i, true));
                }
                continue;
            }
            match f.file.host_fd() {
                Some(h) => {
                    host.push(libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(&h), events: *events, revents: 0 });
                    map.push((*i, false));
                }
                None => {
                    // Synthetic files never block.
                    revents[*i] = *events & (libc::POLLIN | libc::POLLOUT | libc::POLLRDNORM | libc::POLLWRNORM);
                    ready |= revents[*i] != 0;
                }
            }
        }
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()).as_millis() as i32);
        let timeout = if ready { 0 } else { left.unwrap_or(-1) };
        restartable(p, || crate::host::poll(&mut host, timeout))?;
        let mut woke = false;
        for (k, (i, wake)) in map.into_iter().enumerate() {
            if wake {
                woke |= host[k].revents != 0;
            } else {
                revents[i] = host[k].revents;
                ready |= revents[i] != 0;
            }
        }
        // A wake fd fired: look again (its readiness is computed afresh).
        if ready || !woke || left == Some(0) {
            return Ok(revents);
        }
    }
}

fn poll_common(p: &mut Process, ufds: u64, n: u64, timeout_ms: i32) -> SysResult {
    if n > crate::fd::NOFILE as u64 {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; n as usize * 8];
    p.mm.copy_in(ufds, &mut raw)?;
    let fds: Vec<(i32, i16)> = raw
        .chunks(8)
        .map(|c| (i32::from_le_bytes(c[..4].try_into().unwrap_or([0; 4])), i16::from_le_bytes([c[4], c[5]])))
        .collect();
    let revents = poll_fds(p, &fds, timeout_ms)?;
    for (i, r) in revents.iter().enumerate() {
        raw[i * 8 + 6..i * 8 + 8].copy_from_slice(&r.to_le_bytes());
    }
    p.mm.copy_out(ufds, &raw)?;
    Ok(revents.iter().filter(|r| **r != 0).count() as u64)
}

/// Implements Linux `poll(2)`.
pub fn sys_poll(p: &mut Process, a: &Args) -> SysResult {
    poll_common(p, a.u(0), a.u(1), a.i(2))
}

fn timeout_ms(p: &Process, ts: u64) -> Result<i32, Errno> {
    if ts == 0 {
        return Ok(-1);
    }
    let t = super::read_timespec(p, ts)?;
    Ok((t.tv_sec.saturating_mul(1000).saturating_add(t.tv_nsec / 1_000_000)).min(i32::MAX as i64) as i32)
}

/// Implements Linux `ppoll(2)`.
pub fn sys_ppoll(p: &mut Process, a: &Args) -> SysResult {
    let t = timeout_ms(p, a.u(2))?;
    let mask = super::signal::read_wait_mask(p, a.u(3), a.u(4))?;
    p.with_temp_mask(mask, |p| poll_common(p, a.u(0), a.u(1), t))
}

fn select_common(p: &mut Process, nfds: i32, sets: [u64; 3], timeout_ms: i32) -> SysResult {
    if !(0..=crate::fd::NOFILE as i32).contains(&nfds) {
        return Err(Errno::EINVAL);
    }
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let mut bits = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    for k in 0..3 {
        if sets[k] != 0 {
            p.mm.copy_in(sets[k], &mut bits[k])?;
        }
    }
    let isset = |b: &[u8], fd: usize| b[fd / 8] & (1 << (fd % 8)) != 0;
    let mut fds = Vec::new();
    for fd in 0..nfds as usize {
        let mut ev = 0i16;
        if isset(&bits[0], fd) {
            ev |= libc::POLLIN;
        }
        if isset(&bits[1], fd) {
            ev |= libc::POLLOUT;
        }
        if isset(&bits[2], fd) {
            ev |= libc::POLLPRI;
        }
        if ev != 0 {
            fds.push((fd as i32, ev));
        }
    }
    let revents = poll_fds(p, &fds, timeout_ms)?;
    if revents.contains(&libc::POLLNVAL) {
        return Err(Errno::EBADF);
    }
    let mut out = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut count = 0;
    for ((fd, _), r) in fds.iter().zip(&revents) {
        let fd = *fd as usize;
        for (k, mask) in
            [(0, libc::POLLIN | libc::POLLHUP | libc::POLLERR), (1, libc::POLLOUT | libc::POLLERR), (2, libc::POLLPRI)]
        {
            if isset(&bits[k], fd) && r & mask != 0 {
                out[k][fd / 8] |= 1 << (fd % 8);
                count += 1;
            }
        }
    }
    for k in 0..3 {
        if sets[k] != 0 {
            p.mm.copy_out(sets[k], &out[k])?;
        }
    }
    Ok(count)
}

/// Implements Linux `select(2)`.
pub fn sys_select(p: &mut Process, a: &Args) -> SysResult {
    let t = if a.u(4) == 0 {
        -1
    } else {
        let mut b = [0u8; 16];
        p.mm.copy_in(a.u(4), &mut b)?;
        let s = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let us = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        if s < 0 || us < 0 {
            return Err(Errno::EINVAL);
        }
        (s.saturating_mul(1000).saturating_add(us / 1000)).min(i32::MAX as i64) as i32
    };
    select_common(p, a.i(0), [a.u(1), a.u(2), a.u(3)], t)
}

/// Implements Linux `pselect6(2)` (the signal mask argument is not applied).
pub fn sys_pselect6(p: &mut Process, a: &Args) -> SysResult {
    let t = timeout_ms(p, a.u(4))?;
    // The last argument points at { const sigset_t *set; size_t size; }.
    let mask = if a.u(5) != 0 {
        let mut b = [0u8; 16];
        p.mm.copy_in(a.u(5), &mut b)?;
        let (ptr, size) = (
            u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
            u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8])),
        );
        super::signal::read_wait_mask(p, ptr, size)?
    } else {
        None
    };
    p.with_temp_mask(mask, |p| select_common(p, a.i(0), [a.u(1), a.u(2), a.u(3)], t))
}
