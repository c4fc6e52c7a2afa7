//! Sockets: AF_UNIX socketpair, served by host socketpairs, AF_UNIX sockets
//! made by socket(2) (unixsock, crate::unix), and TCP and UDP over IPv4
//! (AF_INET, and AF_INET6 dual-stack) on the machine's cloud network
//! (crate::net), with the send/recv families on all of them.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use super::unixsock::{self, as_unix, unix_of};
use super::{Args, put};
use crate::errno::{Errno, SysResult};
use crate::net::{NetSocket, Received};
use crate::task::Process;
use crate::unix::UnixSocket;
use crate::vfs::file::OpenFile;
use crate::vfs::hostfs::HostFile;
use wisp_netstack::smoltcp::wire::Ipv4Address;

const AF_UNIX: i32 = 1;
const SOCK_TYPE_MASK: i32 = 0xf;
const SOCK_NONBLOCK: i32 = 0x800;
const SOCK_CLOEXEC: i32 = 0x8_0000;
/// send/recv flags passed through to the host.
const SEND_FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL | libc::MSG_MORE | libc::MSG_EOR;
const RECV_FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_PEEK | libc::MSG_WAITALL | libc::MSG_TRUNC;
const MAX_MSG: usize = 1 << 20;

const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const IPV6_V6ONLY: i32 = 26;

/// Implements Linux `socket(2)` for TCP and UDP (SOCK_STREAM, SOCK_DGRAM) over
/// AF_INET and AF_INET6 on the machine's network; other families and types
/// are refused.
pub fn sys_socket(p: &mut Process, a: &Args) -> SysResult {
    let (domain, ty, proto) = (a.i(0), a.i(1), a.i(2));
    if domain == AF_UNIX {
        return unixsock::socket(p, ty, proto);
    }
    if domain != AF_INET && domain != AF_INET6 {
        return Err(Errno::EAFNOSUPPORT);
    }
    let udp = inet_type(ty, proto)?;
    let net = p.machine.as_ref().and_then(|m| m.net()).ok_or(Errno::EAFNOSUPPORT)?;
    let sock = net.net.socket(net.id, domain == AF_INET6, udp)?;
    let status = libc::O_RDWR as u32 | if ty & SOCK_NONBLOCK != 0 { libc::O_NONBLOCK as u32 } else { 0 };
    p.fds.insert(Arc::new(OpenFile::new(Box::new(sock), status)), ty & SOCK_CLOEXEC != 0, 0).map(|fd| fd as u64)
}

/// Whether an AF_INET or AF_INET6 socket of type `ty` (with its flags) and
/// `proto` is UDP (or TCP), as socket(2) checks them.
fn inet_type(ty: i32, proto: i32) -> Result<bool, Errno> {
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    match (ty & SOCK_TYPE_MASK, proto) {
        (SOCK_STREAM, 0 | libc::IPPROTO_TCP) => Ok(false),
        (SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => Ok(true),
        (SOCK_STREAM | SOCK_DGRAM, _) => Err(Errno::EPROTONOSUPPORT),
        // Linux knows types below SOCK_MAX (11).
        (t, _) if t >= 11 => Err(Errno::EINVAL),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

/// The type of the socketpair end behind guest descriptor `fd` (a host
/// AF_UNIX socket), if it is one.
fn pair_type(p: &Process, fd: i32) -> Result<Option<i32>, Errno> {
    let f = p.fds.get(fd)?;
    if f.file.as_any().is_some_and(|a| a.is::<NetSocket>() || a.is::<UnixSocket>()) {
        return Ok(None);
    }
    let sock = f.file.stat().is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFSOCK);
    match f.file.host_fd() {
        Some(h) if sock => crate::host::getsockopt_int(h.as_raw_fd(), libc::SOL_SOCKET, libc::SO_TYPE).map(Some),
        _ => Ok(None),
    }
}

/// The network socket behind guest descriptor `fd`, if it is one.
fn net_of(p: &Process, fd: i32) -> Result<Option<Arc<OpenFile>>, Errno> {
    let f = p.fds.get(fd)?;
    let is_net = f.file.as_any().is_some_and(|a| a.is::<NetSocket>());
    Ok(is_net.then_some(f))
}

fn as_net(f: &OpenFile) -> &NetSocket {
    // Callers checked with net_of.
    f.file.as_any().and_then(|a| a.downcast_ref::<NetSocket>()).expect("a network socket")
}

/// Reads a socket address for a socket of family `v6`: (address, port).
/// IPv6 sockets carry IPv4 underneath: `::` is any, `::1` is 127.0.0.1 and
/// `::ffff:a.b.c.d` is a.b.c.d; other IPv6 addresses are not reachable.
fn sockaddr_in(p: &Process, ptr: u64, len: u32, v6: bool) -> Result<(Ipv4Address, u16), Errno> {
    let (family, need) = if v6 { (AF_INET6, 24) } else { (AF_INET, 16) };
    let mut b = [0u8; 24];
    if len < 2 {
        return Err(Errno::EINVAL);
    }
    p.mm.copy_in(ptr, &mut b[..(len as usize).min(24)])?;
    if u16::from_le_bytes([b[0], b[1]]) != family as u16 {
        return Err(Errno::EAFNOSUPPORT);
    }
    if (len as usize) < need {
        return Err(Errno::EINVAL);
    }
    let port = u16::from_be_bytes([b[2], b[3]]);
    if !v6 {
        return Ok((Ipv4Address::new(b[4], b[5], b[6], b[7]), port));
    }
    let a6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).unwrap_or([0; 16]));
    let v4 = if a6.is_unspecified() {
        Ipv4Address::UNSPECIFIED
    } else if a6.is_loopback() {
        Ipv4Address::LOCALHOST
    } else {
        a6.to_ipv4_mapped().ok_or(Errno::ENETUNREACH)?
    };
    Ok((v4, port))
}

/// Writes the address of a socket of family `v6` at `ptr` as far as `*lenp`
/// allows, and its length to `*lenp`.
fn put_sockaddr_in(p: &mut Process, ptr: u64, lenp: u64, (addr, port): (Ipv4Address, u16), v6: bool) -> SysResult {
    if ptr == 0 || lenp == 0 {
        return Ok(0);
    }
    let mut len = [0u8; 4];
    p.mm.copy_in(lenp, &mut len)?;
    let len = u32::from_le_bytes(len) as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 28];
    b[2..4].copy_from_slice(&port.to_be_bytes());
    let full = if v6 {
        b[..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
        let a6 = if addr.is_unspecified() { std::net::Ipv6Addr::UNSPECIFIED } else { addr.to_ipv6_mapped() };
        b[8..24].copy_from_slice(&a6.octets());
        28
    } else {
        b[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
        b[4..8].copy_from_slice(&addr.octets());
        16
    };
    put(p, ptr, &b[..(len as usize).min(full)])?;
    put(p, lenp, &(full as u32).to_le_bytes())
}

fn net_or_notsock(p: &Process, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    match net_of(p, fd)? {
        Some(f) => Ok(f),
        None => {
            // A socketpair end is a socket, just not one these calls serve.
            let sock = p.fds.get(fd)?.file.stat().is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFSOCK);
            Err(if sock { Errno::EOPNOTSUPP } else { Errno::ENOTSOCK })
        }
    }
}

/// Implements Linux `bind(2)` for TCP sockets.
pub fn sys_bind(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::bind(p, &f, a.u(1), a.u32(2));
    }
    let f = net_or_notsock(p, a.i(0))?;
    let (addr, port) = sockaddr_in(p, a.u(1), a.u32(2), as_net(&f).v6)?;
    as_net(&f).bind(addr, port).map(|_| 0)
}

/// Implements Linux `listen(2)`.
pub fn sys_listen(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::listen(&f, a.i(1));
    }
    if let Some(ty) = pair_type(p, a.i(0))? {
        // A socketpair end is connected, and a datagram one never listens.
        return Err(if ty == SOCK_DGRAM { Errno::EOPNOTSUPP } else { Errno::EINVAL });
    }
    let f = net_or_notsock(p, a.i(0))?;
    as_net(&f).listen(a.i(1)).map(|_| 0)
}

/// Implements Linux `accept4(2)` (and, with no flags, `accept(2)`).
pub fn sys_accept4(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(3);
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::accept(p, &f, a.u(1), a.u(2), flags);
    }
    if let Some(ty) = pair_type(p, a.i(0))? {
        return Err(if ty == SOCK_DGRAM { Errno::EOPNOTSUPP } else { Errno::EINVAL });
    }
    let f = net_or_notsock(p, a.i(0))?;
    if as_net(&f).udp {
        return Err(Errno::EOPNOTSUPP);
    }
    if !as_net(&f).listening() {
        return Err(Errno::EINVAL);
    }
    let (sock, peer) = super::rw::blocking(p, &f, crate::net::POLLIN, || as_net(&f).accept())?;
    let status = libc::O_RDWR as u32 | if flags & SOCK_NONBLOCK != 0 { libc::O_NONBLOCK as u32 } else { 0 };
    let fd = p.fds.insert(Arc::new(OpenFile::new(Box::new(sock), status)), flags & SOCK_CLOEXEC != 0, 0)?;
    let v6 = as_net(&f).v6;
    if let Err(e) = put_sockaddr_in(p, a.u(1), a.u(2), peer, v6) {
        let _ = p.fds.remove(fd);
        return Err(e);
    }
    Ok(fd as u64)
}

pub fn sys_accept(p: &mut Process, a: &Args) -> SysResult {
    sys_accept4(p, &Args([a.u(0), a.u(1), a.u(2), 0, 0, 0]))
}

/// Implements Linux `connect(2)`: TCP, blocking or not; UDP sets (or, with
/// AF_UNSPEC, dissolves) the socket's peer.
pub fn sys_connect(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::connect(p, &f, a.u(1), a.u32(2));
    }
    if let Some(ty) = pair_type(p, a.i(0))? {
        return unixsock::connect_pair(p, a.u(1), a.u32(2), ty);
    }
    let f = net_or_notsock(p, a.i(0))?;
    let s = as_net(&f);
    if s.udp && a.u32(2) >= 2 {
        let mut family = [0u8; 2];
        p.mm.copy_in(a.u(1), &mut family)?;
        if u16::from_le_bytes(family) == libc::AF_UNSPEC as u16 {
            return s.disconnect().map(|_| 0);
        }
    }
    let (addr, port) = sockaddr_in(p, a.u(1), a.u32(2), s.v6)?;
    match s.connect(addr, port) {
        Err(Errno::EINPROGRESS) if f.flags() & libc::O_NONBLOCK as u32 == 0 => loop {
            super::rw::wait_ready(p, &f, crate::net::POLLOUT)?;
            match s.connect(addr, port) {
                Err(Errno::EALREADY) => continue,
                // Connected while we waited (readiness settles the state).
                Err(Errno::EISCONN) => return Ok(0),
                r => return r.map(|_| 0),
            }
        },
        r => r.map(|_| 0),
    }
}

/// Implements Linux `socketpair(2)` for AF_UNIX stream, datagram (and
/// SOCK_RAW, taken as datagram) and seqpacket; AF_INET and AF_INET6 have
/// no pairs (EOPNOTSUPP).
pub fn sys_socketpair(p: &mut Process, a: &Args) -> SysResult {
    let (domain, ty) = (a.i(0), a.i(1));
    if domain == AF_INET || domain == AF_INET6 {
        inet_type(ty, a.i(2))?;
        return Err(Errno::EOPNOTSUPP);
    }
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    let t = unixsock::unix_type(ty, a.i(2))?;
    if !p.mm.accessible(a.u(3), 8, true) {
        return Err(Errno::EFAULT);
    }
    let (s0, s1) = crate::host::socketpair(t | (ty & SOCK_NONBLOCK))?;
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
    let unconnected = if unix_of(p, fd)?.is_some() { Errno::ENOTCONN } else { Errno::ENOTSOCK };
    let raw = f.file.host_fd().map(|h| h.as_raw_fd()).ok_or(unconnected)?;
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

/// Sends `data` on `fd`; `to` (the address passed, as guest pointer and
/// length) is the destination of a UDP datagram and ignored by TCP.
fn send_bytes(p: &mut Process, fd: i32, data: &[u8], flags: i32, to: (u64, u32)) -> SysResult {
    if let Some(f) = net_of(p, fd)? {
        let s = as_net(&f);
        let to = if s.udp && to.0 != 0 { Some(sockaddr_in(p, to.0, to.1, s.v6)?) } else { None };
        let nonblock = flags & libc::MSG_DONTWAIT != 0 || f.flags() & libc::O_NONBLOCK as u32 != 0;
        let r = if nonblock {
            s.send(data, to)
        } else {
            super::rw::blocking(p, &f, crate::net::POLLOUT, || s.send(data, to))
        }
        .map(|n| n as u64);
        sigpipe(p, &r, flags);
        return r;
    }
    if let Some(f) = unix_of(p, fd)? {
        if let Some(r) = unixsock::send(p, &f, data, flags, to) {
            // Datagram sockets do not raise SIGPIPE (nor does Linux).
            return r;
        }
    } else if to.0 != 0 && to.1 != 0 {
        // A socketpair end given an address: a datagram end sends there,
        // a stream end is connected already, seqpacket ignores it.
        match pair_type(p, fd)? {
            Some(SOCK_DGRAM) => {
                let f = p.fds.get(fd)?;
                return unixsock::send_from_pair(p, &f, data, flags, to);
            }
            Some(SOCK_STREAM) => return Err(Errno::EISCONN),
            _ => {}
        }
    }
    let (_f, raw) = host_socket(p, fd)?;
    let r = retry(p, || crate::host::send(raw, data, flags & SEND_FLAGS | libc::MSG_NOSIGNAL)).map(|n| n as u64);
    sigpipe(p, &r, flags);
    r
}

/// Implements Linux `sendto(2)`: UDP and AF_UNIX datagrams go to the
/// address given; AF_UNIX stream sockets refuse one (EISCONN, or EOPNOTSUPP
/// unconnected), and TCP and seqpacket ignore it.
pub fn sys_sendto(p: &mut Process, a: &Args) -> SysResult {
    if a.u(2) as usize > crate::net::MAX_DATAGRAM && net_of(p, a.i(0))?.is_some_and(|f| as_net(&f).udp) {
        return Err(Errno::EMSGSIZE);
    }
    let len = (a.u(2) as usize).min(MAX_MSG);
    let mut buf = vec![0u8; len];
    p.mm.copy_in(a.u(1), &mut buf)?;
    send_bytes(p, a.i(0), &buf, a.i(3), (a.u(4), a.u32(5)))
}

/// Receives from a network socket, waiting unless non-blocking.
fn net_recv(p: &Process, f: &OpenFile, buf: &mut [u8], flags: i32) -> Result<Received, Errno> {
    let peek = flags & libc::MSG_PEEK != 0;
    let nonblock = flags & libc::MSG_DONTWAIT != 0 || f.flags() & libc::O_NONBLOCK as u32 != 0;
    if nonblock {
        as_net(f).recv(buf, peek)
    } else {
        super::rw::blocking(p, f, crate::net::POLLIN, || as_net(f).recv(buf, peek))
    }
}

/// Implements Linux `recvfrom(2)`: a UDP datagram's source is its address;
/// TCP and socketpair ends give none (length 0), as Linux.
pub fn sys_recvfrom(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = net_of(p, a.i(0))? {
        let len = (a.u(2) as usize).min(MAX_MSG);
        let mut buf = vec![0u8; len];
        let r = net_recv(p, &f, &mut buf, a.i(3))?;
        p.mm.copy_out(a.u(1), &buf[..r.len])?;
        match r.from {
            Some(from) => put_sockaddr_in(p, a.u(4), a.u(5), from, as_net(&f).v6)?,
            None if a.u(4) != 0 && a.u(5) != 0 => put(p, a.u(5), &0u32.to_le_bytes())?,
            None => 0,
        };
        return Ok(if a.i(3) & libc::MSG_TRUNC != 0 { r.full } else { r.len } as u64);
    }
    let len = (a.u(2) as usize).min(MAX_MSG);
    if let Some(f) = unix_of(p, a.i(0))? {
        if let Some(e) = unixsock::recv_unconnected(&f) {
            return Err(e);
        }
        if as_unix(&f).is_dgram() {
            let mut buf = vec![0u8; len];
            let d = unixsock::recv_dgram(p, &f, &mut buf, a.i(3))?;
            p.mm.copy_out(a.u(1), &buf[..d.len])?;
            unixsock::put_from(p, a.u(4), a.u(5), d.from.as_deref())?;
            return Ok(if a.i(3) & libc::MSG_TRUNC != 0 { d.full } else { d.len } as u64);
        }
    }
    let (_f, raw) = host_socket(p, a.i(0))?;
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
    name: u64,
    namelen: u32,
    iov: u64,
    iovlen: u64,
    controllen: u64,
}

fn read_msghdr(p: &Process, ptr: u64) -> Result<MsgHdr, Errno> {
    let mut m = [0u8; 56];
    p.mm.copy_in(ptr, &mut m)?;
    let w = |o: usize| u64::from_le_bytes(m[o..o + 8].try_into().unwrap_or([0; 8]));
    let namelen = u32::from_le_bytes(m[8..12].try_into().unwrap_or([0; 4]));
    Ok(MsgHdr { name: w(0), namelen, iov: w(16), iovlen: w(24), controllen: w(40) })
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
    send_bytes(p, a.i(0), &data, a.i(2), (h.name, h.namelen))
}

/// Implements Linux `recvmsg(2)` without ancillary data.
pub fn sys_recvmsg(p: &mut Process, a: &Args) -> SysResult {
    let h = read_msghdr(p, a.u(1))?;
    let iov = read_iov(p, h.iov, h.iovlen)?;
    let total: usize = iov.iter().map(|(_, l)| *l).sum::<usize>().min(MAX_MSG);
    let mut buf = vec![0u8; total];
    let mut namelen = 0u32;
    // (bytes received, the whole datagram's length, msg_flags)
    let (len, full, mflags) = match net_of(p, a.i(0))? {
        Some(f) => {
            let r = net_recv(p, &f, &mut buf, a.i(2))?;
            if let (Some(from), true) = (r.from, h.name != 0) {
                // put_sockaddr_in reads the room from, and writes the length to, msg_namelen.
                put_sockaddr_in(p, h.name, a.u(1) + 8, from, as_net(&f).v6)?;
                let mut len = [0u8; 4];
                p.mm.copy_in(a.u(1) + 8, &mut len)?;
                namelen = u32::from_le_bytes(len);
            }
            (r.len, r.full, if r.full > total { libc::MSG_TRUNC } else { 0 })
        }
        None => match unix_of(p, a.i(0))? {
            Some(f) if as_unix(&f).is_dgram() => {
                let d = unixsock::recv_dgram(p, &f, &mut buf, a.i(2))?;
                if h.name != 0 {
                    unixsock::put_from(p, h.name, a.u(1) + 8, d.from.as_deref())?;
                    let mut len = [0u8; 4];
                    p.mm.copy_in(a.u(1) + 8, &mut len)?;
                    namelen = u32::from_le_bytes(len);
                }
                (d.len, d.full, if d.full > total { libc::MSG_TRUNC } else { 0 })
            }
            unix => {
                if let Some(e) = unix.as_deref().and_then(unixsock::recv_unconnected) {
                    return Err(e);
                }
                let (_f, raw) = host_socket(p, a.i(0))?;
                // The host's msg_flags say whether a datagram was cut; with
                // MSG_TRUNC its count is the whole datagram's length.
                let flags = a.i(2) & RECV_FLAGS;
                let (n, mflags) =
                    retry(p, || crate::host::recvmsg(raw, &mut [std::io::IoSliceMut::new(&mut buf)], flags))?;
                (n.min(total), n, mflags & (libc::MSG_TRUNC | libc::MSG_EOR))
            }
        },
    };
    let mut off = 0;
    for (base, l) in iov {
        if off >= len {
            break;
        }
        let k = l.min(len - off);
        p.mm.copy_out(base, &buf[off..off + k])?;
        off += k;
    }
    // msg_namelen, msg_controllen = 0, msg_flags.
    put(p, a.u(1) + 8, &namelen.to_le_bytes())?;
    put(p, a.u(1) + 40, &0u64.to_le_bytes())?;
    put(p, a.u(1) + 48, &mflags.to_le_bytes())?;
    Ok(if a.i(2) & libc::MSG_TRUNC != 0 { full } else { len } as u64)
}

/// Size of a `struct mmsghdr`: a msghdr and the message's length.
const MMSGHDR: u64 = 64;

/// Implements Linux `sendmmsg(2)`: sendmsg for each message until one
/// fails (an error only if the first does), each sent length stored.
pub fn sys_sendmmsg(p: &mut Process, a: &Args) -> SysResult {
    let n = a.u(2).min(1024);
    let mut sent = 0;
    while sent < n {
        let at = a.u(1) + sent * MMSGHDR;
        match sys_sendmsg(p, &Args([a.u(0), at, a.u(3), 0, 0, 0])) {
            Ok(len) => put(p, at + 56, &(len as u32).to_le_bytes())?,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        };
        sent += 1;
    }
    Ok(sent)
}

/// Implements Linux `recvmmsg(2)` as recvmsg for each message: the first
/// as the flags say, the rest without waiting (MSG_WAITFORONE semantics);
/// the timeout argument is not applied.
pub fn sys_recvmmsg(p: &mut Process, a: &Args) -> SysResult {
    let n = a.u(2).min(1024);
    let mut got = 0;
    while got < n {
        let at = a.u(1) + got * MMSGHDR;
        let flags = a.u(3) as i32 & !libc::MSG_WAITFORONE | if got > 0 { libc::MSG_DONTWAIT } else { 0 };
        match sys_recvmsg(p, &Args([a.u(0), at, flags as u64, 0, 0, 0])) {
            Ok(len) => put(p, at + 56, &(len as u32).to_le_bytes())?,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        };
        got += 1;
    }
    Ok(got)
}

/// Implements Linux `shutdown(2)`.
pub fn sys_shutdown(p: &mut Process, a: &Args) -> SysResult {
    if !(0..=2).contains(&a.i(1)) {
        return Err(Errno::EINVAL);
    }
    if let Some(f) = net_of(p, a.i(0))? {
        return as_net(&f).shutdown(a.i(1)).map(|_| 0);
    }
    if let Some(r) = unix_of(p, a.i(0))?.and_then(|f| unixsock::shutdown(&f, a.i(1))) {
        return r;
    }
    let (_f, raw) = host_socket(p, a.i(0))?;
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

/// A network socket's integer option.
fn net_option(f: &OpenFile, level: i32, opt: i32) -> Result<i32, Errno> {
    let s = as_net(f);
    match (level, opt) {
        (libc::SOL_SOCKET, libc::SO_ERROR) => s.take_error(),
        (libc::SOL_SOCKET, libc::SO_TYPE) => Ok(if s.udp { SOCK_DGRAM } else { SOCK_STREAM }),
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => Ok(if s.v6 { AF_INET6 } else { AF_INET }),
        (libc::IPPROTO_IPV6, IPV6_V6ONLY) if s.v6 => Ok(0),
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => Ok(if s.udp { libc::IPPROTO_UDP } else { libc::IPPROTO_TCP }),
        (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => Ok(s.listening() as i32),
        (libc::SOL_SOCKET, libc::SO_SNDBUF | libc::SO_RCVBUF) => Ok(256 << 10),
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => Ok(s.reuse() as i32),
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => Ok(0),
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) if !s.udp => Ok(1),
        (libc::SOL_SOCKET, libc::SO_BROADCAST) if s.udp => Ok(0),
        _ => Err(Errno::ENOPROTOOPT),
    }
}

/// Implements Linux `getsockopt(2)` for the common SOL_SOCKET integer options.
pub fn sys_getsockopt(p: &mut Process, a: &Args) -> SysResult {
    let unix = unix_of(p, a.i(0))?.and_then(|f| unixsock::option(&f, a.i(1), a.i(2)));
    let v = match net_of(p, a.i(0))? {
        Some(f) => net_option(&f, a.i(1), a.i(2))?,
        None if unix.is_some() => unix.unwrap_or(Err(Errno::ENOPROTOOPT))?,
        None => {
            let (_f, raw) = host_socket(p, a.i(0))?;
            if !int_option(a.i(1), a.i(2)) {
                return Err(Errno::ENOPROTOOPT);
            }
            crate::host::getsockopt_int(raw, a.i(1), a.i(2))?
        }
    };
    let mut len = [0u8; 4];
    p.mm.copy_in(a.u(4), &mut len)?;
    if (u32::from_le_bytes(len) as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    put(p, a.u(3), &v.to_le_bytes())?;
    put(p, a.u(4), &4u32.to_le_bytes())
}

/// Implements Linux `setsockopt(2)`: SO_SNDBUF and SO_RCVBUF; on TCP
/// sockets also SO_REUSEADDR and TCP_NODELAY, with SO_KEEPALIVE, SO_REUSEPORT
/// and SO_LINGER accepted without effect.
pub fn sys_setsockopt(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = net_of(p, a.i(0))? {
        if a.u32(4) < 4 {
            return Err(Errno::EINVAL);
        }
        let mut v = [0u8; 4];
        p.mm.copy_in(a.u(3), &mut v)?;
        let on = i32::from_le_bytes(v) != 0;
        return match (a.i(1), a.i(2)) {
            (libc::SOL_SOCKET, libc::SO_REUSEADDR) => as_net(&f).set_reuse(on).map(|_| 0),
            (libc::IPPROTO_TCP, libc::TCP_NODELAY) if !as_net(&f).udp => as_net(&f).set_nodelay(on).map(|_| 0),
            (libc::SOL_SOCKET, libc::SO_KEEPALIVE | libc::SO_REUSEPORT | libc::SO_LINGER | libc::SO_SNDBUF)
            | (libc::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_BROADCAST) => Ok(0),
            // Accepted without effect: no ICMP errors are ever queued (glibc's
            // resolver asks for IP_RECVERR), and the cloud network has no TOS,
            // TTL expiry or path MTU to discover.
            (libc::IPPROTO_IP, libc::IP_RECVERR | libc::IP_TOS | libc::IP_TTL | libc::IP_MTU_DISCOVER)
            | (libc::IPPROTO_IPV6, libc::IPV6_RECVERR) => Ok(0),
            // Dual-stack is all there is: turning V6ONLY off is a no-op, on is refused.
            (libc::IPPROTO_IPV6, IPV6_V6ONLY) if as_net(&f).v6 => {
                if on {
                    Err(Errno::ENOPROTOOPT)
                } else {
                    Ok(0)
                }
            }
            _ => Err(Errno::ENOPROTOOPT),
        };
    }
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

/// getsockname: a TCP socket's local address; socketpair ends are unnamed
/// AF_UNIX sockets.
pub fn sys_getsockname(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::names(p, &f, a, false);
    }
    if let Some(f) = net_of(p, a.i(0))? {
        let (local, _) = as_net(&f).names()?;
        return put_sockaddr_in(p, a.u(1), a.u(2), local, as_net(&f).v6);
    }
    unnamed(p, a)
}

/// getpeername: a connected TCP socket's peer (ENOTCONN otherwise).
pub fn sys_getpeername(p: &mut Process, a: &Args) -> SysResult {
    if let Some(f) = unix_of(p, a.i(0))? {
        return unixsock::names(p, &f, a, true);
    }
    if let Some(f) = net_of(p, a.i(0))? {
        let (_, peer) = as_net(&f).names()?;
        return put_sockaddr_in(p, a.u(1), a.u(2), peer.ok_or(Errno::ENOTCONN)?, as_net(&f).v6);
    }
    unnamed(p, a)
}

fn unnamed(p: &mut Process, a: &Args) -> SysResult {
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
