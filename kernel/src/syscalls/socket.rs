//! Sockets: for now AF_UNIX socketpair, served by host socketpairs, and the
//! send/recv families on them. Named sockets and networks come with the
//! networking issue; socket() refuses every family until then.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::task::Process;
use crate::vfs::file::OpenFile;
use crate::vfs::hostfs::HostFile;

const AF_UNIX: i32 = 1;
const SOCK_TYPE_MASK: i32 = 0xf;
const SOCK_NONBLOCK: i32 = 0x800;
const SOCK_CLOEXEC: i32 = 0x8_0000;
/// send/recv flags passed through to the host.
const SEND_FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL | libc::MSG_MORE | libc::MSG_EOR;
const RECV_FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_PEEK | libc::MSG_WAITALL | libc::MSG_TRUNC;
const MAX_MSG: usize = 1 << 20;

/// Implements Linux `socket(2)`: no family is available yet (networking comes
/// with issue 6), so every call fails with EAFNOSUPPORT.
pub fn sys_socket(_p: &mut Process, _a: &Args) -> SysResult {
    Err(Errno::EAFNOSUPPORT)
}

/// Implements Linux `socketpair(2)` for AF_UNIX stream, datagram and seqpacket.
pub fn sys_socketpair(p: &mut Process, a: &Args) -> SysResult {
    let (domain, ty) = (a.i(0), a.i(1));
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 || !matches!(ty & SOCK_TYPE_MASK, 1 | 2 | 5) {
        return Err(Errno::EINVAL);
    }
    if a.i(2) != 0 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    if !p.mm.accessible(a.u(3), 8, true) {
        return Err(Errno::EFAULT);
    }
    let (s0, s1) = crate::host::socketpair(ty & (SOCK_TYPE_MASK | SOCK_NONBLOCK))?;
    let ino = crate::host::fstat(std::os::fd::AsFd::as_fd(&s0)).map(|s| s.st_ino).unwrap_or(0);
    let status = libc::O_RDWR as u32 | if ty & SOCK_NONBLOCK != 0 { libc::O_NONBLOCK as u32 } else { 0 };
    let cloexec = ty & SOCK_CLOEXEC != 0;
    let mut fds = [0i32; 2];
    for (i, s) in [s0, s1].into_iter().enumerate() {
        let file = HostFile::from_fd(s, format!("socket:[{ino}]"));
        match p.fds.insert(Arc::new(OpenFile::new(Box::new(file), status)), cloexec, 0) {
            Ok(fd) => fds[i] = fd,
            Err(e) => {
                if i == 1 {
                    let _ = p.fds.remove(fds[0]);
                }
                return Err(e);
            }
        }
    }
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&fds[0].to_le_bytes());
    b[4..].copy_from_slice(&fds[1].to_le_bytes());
    put(p, a.u(3), &b)
}

fn host_socket(p: &Process, fd: i32) -> Result<(Arc<OpenFile>, i32), Errno> {
    let f = p.fds.get(fd)?;
    let raw = f.file.host_fd().map(|h| h.as_raw_fd()).ok_or(Errno::ENOTSOCK)?;
    Ok((f, raw))
}

/// Retries a host socket call cut short by the vCPU kick unless a signal waits.
fn retry<T>(p: &Process, mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    let probe = p.interrupt_probe();
    loop {
        match f() {
            Err(Errno::EINTR) if !probe() => continue,
            r => return r,
        }
    }
}

fn sigpipe(p: &mut Process, r: &Result<u64, Errno>, flags: i32) {
    if *r == Err(Errno::EPIPE) && flags & libc::MSG_NOSIGNAL == 0 {
        p.signals.post(crate::signal::SigInfo {
            signo: crate::signal::SIGPIPE,
            code: crate::signal::SI_USER,
            ..Default::default()
        });
    }
}

fn send_bytes(p: &mut Process, fd: i32, data: &[u8], flags: i32) -> SysResult {
    let (_f, raw) = host_socket(p, fd)?;
    let r = retry(p, || crate::host::send(raw, data, flags & SEND_FLAGS | libc::MSG_NOSIGNAL)).map(|n| n as u64);
    sigpipe(p, &r, flags);
    r
}

/// Implements Linux `sendto(2)` on connected sockets (a destination address is refused).
pub fn sys_sendto(p: &mut Process, a: &Args) -> SysResult {
    if a.u(4) != 0 {
        return Err(Errno::EISCONN);
    }
    let len = (a.u(2) as usize).min(MAX_MSG);
    let mut buf = vec![0u8; len];
    p.mm.copy_in(a.u(1), &mut buf)?;
    send_bytes(p, a.i(0), &buf, a.i(3))
}

/// Implements Linux `recvfrom(2)`; the peer of a socketpair has no address.
pub fn sys_recvfrom(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_socket(p, a.i(0))?;
    let len = (a.u(2) as usize).min(MAX_MSG);
    if !p.mm.accessible(a.u(1), len.min(1), true) && len > 0 {
        return Err(Errno::EFAULT);
    }
    let mut buf = vec![0u8; len];
    let flags = a.i(3) & RECV_FLAGS;
    let n = retry(p, || crate::host::recv(raw, &mut buf, flags))?;
    p.mm.copy_out(a.u(1), &buf[..n.min(len)])?;
    if a.u(5) != 0 {
        put(p, a.u(5), &0u32.to_le_bytes())?;
    }
    Ok(n as u64)
}

struct MsgHdr {
    iov: u64,
    iovlen: u64,
    controllen: u64,
}

fn read_msghdr(p: &Process, ptr: u64) -> Result<MsgHdr, Errno> {
    let mut m = [0u8; 56];
    p.mm.copy_in(ptr, &mut m)?;
    let w = |o: usize| u64::from_le_bytes(m[o..o + 8].try_into().unwrap_or([0; 8]));
    Ok(MsgHdr { iov: w(16), iovlen: w(24), controllen: w(40) })
}

fn read_iov(p: &Process, iov: u64, n: u64) -> Result<Vec<(u64, usize)>, Errno> {
    if n > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let mut raw = vec![0u8; n as usize * 16];
    p.mm.copy_in(iov, &mut raw)?;
    Ok(raw
        .chunks(16)
        .map(|c| {
            let base = u64::from_le_bytes(c[..8].try_into().unwrap_or([0; 8]));
            let len = u64::from_le_bytes(c[8..].try_into().unwrap_or([0; 8])) as usize;
            (base, len.min(MAX_MSG))
        })
        .collect())
}

/// Implements Linux `sendmsg(2)` without ancillary data (no SCM_RIGHTS yet).
pub fn sys_sendmsg(p: &mut Process, a: &Args) -> SysResult {
    let h = read_msghdr(p, a.u(1))?;
    if h.controllen != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let mut data = Vec::new();
    for (base, len) in read_iov(p, h.iov, h.iovlen)? {
        let take = len.min(MAX_MSG - data.len());
        let at = data.len();
        data.resize(at + take, 0);
        p.mm.copy_in(base, &mut data[at..])?;
    }
    send_bytes(p, a.i(0), &data, a.i(2))
}

/// Implements Linux `recvmsg(2)` without ancillary data.
pub fn sys_recvmsg(p: &mut Process, a: &Args) -> SysResult {
    let h = read_msghdr(p, a.u(1))?;
    let iov = read_iov(p, h.iov, h.iovlen)?;
    let total: usize = iov.iter().map(|(_, l)| *l).sum::<usize>().min(MAX_MSG);
    let (_f, raw) = host_socket(p, a.i(0))?;
    let mut buf = vec![0u8; total];
    let flags = a.i(2) & RECV_FLAGS;
    let n = retry(p, || crate::host::recv(raw, &mut buf, flags))?;
    let mut off = 0;
    for (base, len) in iov {
        if off >= n.min(total) {
            break;
        }
        let k = len.min(n.min(total) - off);
        p.mm.copy_out(base, &buf[off..off + k])?;
        off += k;
    }
    // msg_namelen = 0, msg_controllen = 0, msg_flags = MSG_TRUNC if cut.
    put(p, a.u(1) + 8, &0u32.to_le_bytes())?;
    put(p, a.u(1) + 40, &0u64.to_le_bytes())?;
    let mflags: i32 = if n > total { libc::MSG_TRUNC } else { 0 };
    put(p, a.u(1) + 48, &mflags.to_le_bytes())?;
    Ok(n as u64)
}

/// Implements Linux `shutdown(2)`.
pub fn sys_shutdown(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_socket(p, a.i(0))?;
    if !(0..=2).contains(&a.i(1)) {
        return Err(Errno::EINVAL);
    }
    crate::host::shutdown(raw, a.i(1)).map(|_| 0)
}

/// SOL_SOCKET options readable and settable as plain ints.
fn int_option(level: i32, opt: i32) -> bool {
    level == libc::SOL_SOCKET
        && matches!(
            opt,
            libc::SO_TYPE | libc::SO_ERROR | libc::SO_SNDBUF | libc::SO_RCVBUF | libc::SO_DOMAIN | libc::SO_ACCEPTCONN
        )
}

/// Implements Linux `getsockopt(2)` for the common SOL_SOCKET integer options.
pub fn sys_getsockopt(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_socket(p, a.i(0))?;
    if !int_option(a.i(1), a.i(2)) {
        return Err(Errno::ENOPROTOOPT);
    }
    let v = crate::host::getsockopt_int(raw, a.i(1), a.i(2))?;
    let mut len = [0u8; 4];
    p.mm.copy_in(a.u(4), &mut len)?;
    if (u32::from_le_bytes(len) as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    put(p, a.u(3), &v.to_le_bytes())?;
    put(p, a.u(4), &4u32.to_le_bytes())
}

/// Implements Linux `setsockopt(2)` for SO_SNDBUF and SO_RCVBUF.
pub fn sys_setsockopt(p: &mut Process, a: &Args) -> SysResult {
    let (_f, raw) = host_socket(p, a.i(0))?;
    if a.i(1) != libc::SOL_SOCKET || !matches!(a.i(2), libc::SO_SNDBUF | libc::SO_RCVBUF) {
        return Err(Errno::ENOPROTOOPT);
    }
    if a.u32(4) < 4 {
        return Err(Errno::EINVAL);
    }
    let mut v = [0u8; 4];
    p.mm.copy_in(a.u(3), &mut v)?;
    crate::host::setsockopt_int(raw, a.i(1), a.i(2), i32::from_le_bytes(v)).map(|_| 0)
}

/// getsockname and getpeername: socketpair ends are unnamed AF_UNIX sockets.
pub fn sys_getsockname(p: &mut Process, a: &Args) -> SysResult {
    host_socket(p, a.i(0))?;
    let mut len = [0u8; 4];
    p.mm.copy_in(a.u(2), &mut len)?;
    if (u32::from_le_bytes(len) as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let family = (AF_UNIX as u16).to_le_bytes();
    let n = (u32::from_le_bytes(len) as usize).min(2);
    put(p, a.u(1), &family[..n])?;
    put(p, a.u(2), &2u32.to_le_bytes())
}
