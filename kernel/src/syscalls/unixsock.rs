//! The AF_UNIX side of the socket calls: socket, bind, listen, accept,
//! connect, the names of sockets made by socket(AF_UNIX) (crate::unix), and
//! the datagram sockets' send and receive. Once connected, stream and
//! seqpacket sockets' data calls are those of any host socketpair end.

use std::sync::Arc;

use super::rw::restartable;
use super::{Args, put, resolve_at};
use crate::errno::{Errno, SysResult};
use crate::task::{ProcViewRef, Process};
use crate::unix::{Datagram, Key, Name, UnixSocket};
use crate::vfs::file::OpenFile;

const SOCK_TYPE_MASK: i32 = 0xf;
const SOCK_NONBLOCK: i32 = 0x800;
const SOCK_CLOEXEC: i32 = 0x8_0000;
/// Linux knows socket types below SOCK_MAX.
const SOCK_MAX: i32 = 11;
/// sizeof(struct sockaddr_un).
const SUN_LEN: usize = 110;
/// How long a connect waiting for room in a full listener's queue sleeps
/// at most before looking again (accept() wakes it sooner).
const ROOM_POLL_MS: i32 = 100;

/// The AF_UNIX socket behind guest descriptor `fd`, if it is one.
pub fn unix_of(p: &Process, fd: i32) -> Result<Option<Arc<OpenFile>>, Errno> {
    let f = p.fds.get(fd)?;
    let is = f.file.as_any().is_some_and(|a| a.is::<UnixSocket>());
    Ok(is.then_some(f))
}

pub fn as_unix(f: &OpenFile) -> &UnixSocket {
    // Callers checked with unix_of.
    f.file.as_any().and_then(|a| a.downcast_ref::<UnixSocket>()).expect("an AF_UNIX socket")
}

fn status(nonblock: bool) -> u32 {
    libc::O_RDWR as u32 | if nonblock { libc::O_NONBLOCK as u32 } else { 0 }
}

fn nonblocking(f: &OpenFile) -> bool {
    f.flags() & libc::O_NONBLOCK as u32 != 0
}

/// The AF_UNIX socket type `ty` (with its flags) and `proto` ask for, as
/// socket(2) and socketpair(2) check them: SOCK_RAW is taken as SOCK_DGRAM,
/// as Linux does.
pub fn unix_type(ty: i32, proto: i32) -> Result<i32, Errno> {
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 || ty & SOCK_TYPE_MASK >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    if proto != 0 && proto != libc::AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    match ty & SOCK_TYPE_MASK {
        t @ (libc::SOCK_STREAM | libc::SOCK_SEQPACKET) => Ok(t),
        libc::SOCK_DGRAM | libc::SOCK_RAW => Ok(libc::SOCK_DGRAM),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

/// Implements `socket(AF_UNIX, ty, proto)`.
pub fn socket(p: &mut Process, ty: i32, proto: i32) -> SysResult {
    let t = unix_type(ty, proto)?;
    let names = p.machine.as_ref().map(|m| m.unix.clone()).ok_or(Errno::EAFNOSUPPORT)?;
    let sock = UnixSocket::new(names, t)?;
    let file = Arc::new(OpenFile::new(Box::new(sock), status(ty & SOCK_NONBLOCK != 0)));
    // A datagram socket's inbox is its host descriptor from the start.
    sync_nonblock(&file)?;
    p.fds.insert(file, ty & SOCK_CLOEXEC != 0, 0).map(|fd| fd as u64)
}

/// What a guest sockaddr_un names: a path (absolute, resolved against the
/// working directory), an abstract name, or nothing (the family alone).
enum Addr {
    Path(String, Vec<u8>),
    Abstract(Vec<u8>),
    Unnamed,
}

fn read_addr(p: &Process, ptr: u64, len: u32) -> Result<Addr, Errno> {
    let len = len as usize;
    if !(2..=SUN_LEN).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let mut b = vec![0u8; len];
    p.mm.copy_in(ptr, &mut b)?;
    if u16::from_le_bytes([b[0], b[1]]) != libc::AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    let sun = &b[2..];
    match sun.first() {
        None => Ok(Addr::Unnamed),
        Some(0) => Ok(Addr::Abstract(sun.to_vec())),
        Some(_) => {
            let path = sun.split(|c| *c == 0).next().unwrap_or_default().to_vec();
            let (abs, _) = resolve_at(p, super::AT_FDCWD, &path)?;
            Ok(Addr::Path(abs, path))
        }
    }
}

/// The key of the socket file at `abs`: ENOENT when none is there,
/// ECONNREFUSED when it is not a socket.
fn file_key(p: &Process, abs: &str) -> Result<Key, Errno> {
    let st = p.vfs.stat(&ProcViewRef(p), abs, false)?;
    if st.mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(Errno::ECONNREFUSED);
    }
    Ok(Key::File(st.dev, st.ino))
}

/// The name a socket of type `ty` reaches at the address `ptr`/`len`
/// (connect, sendto): EINVAL for a bad or empty address.
fn target(p: &Process, ptr: u64, len: u32, ty: i32) -> Result<Name, Errno> {
    let addr = read_addr(p, ptr, len)?;
    let key = match &addr {
        Addr::Abstract(raw) => Key::Abstract(ty, raw.clone()),
        Addr::Path(abs, _) => file_key(p, abs)?,
        Addr::Unnamed => return Err(Errno::EINVAL),
    };
    Ok(name_of(addr, key))
}

fn name_of(addr: Addr, key: Key) -> Name {
    let raw = match addr {
        Addr::Path(_, mut path) => {
            path.push(0);
            path
        }
        Addr::Abstract(raw) => raw,
        Addr::Unnamed => Vec::new(),
    };
    Name { raw, key }
}

pub fn bind(p: &mut Process, f: &OpenFile, ptr: u64, len: u32) -> SysResult {
    let s = as_unix(f);
    let addr = read_addr(p, ptr, len)?;
    if matches!(addr, Addr::Unnamed) {
        return s.autobind().map(|_| 0);
    }
    if s.name().is_some() {
        return Err(Errno::EINVAL);
    }
    let key = match &addr {
        Addr::Abstract(raw) => Key::Abstract(s.ty(), raw.clone()),
        Addr::Path(abs, _) => {
            p.vfs.make_socket(abs, 0o777 & !p.fs.umask())?;
            file_key(p, abs)?
        }
        Addr::Unnamed => return Err(Errno::EINVAL),
    };
    s.bind(name_of(addr, key)).map(|_| 0)
}

pub fn listen(f: &OpenFile, backlog: i32) -> SysResult {
    as_unix(f).listen(backlog).map(|_| 0)
}

/// Mirrors the guest's O_NONBLOCK onto a socket's host end, if it has one.
fn sync_nonblock(f: &OpenFile) -> Result<(), Errno> {
    if let Some(h) = f.file.host_fd() {
        let cur = crate::host::fcntl_getfl(h)?;
        let want = (cur & !libc::O_NONBLOCK) | (f.flags() as i32 & libc::O_NONBLOCK);
        if want != cur {
            crate::host::fcntl_setfl(h, want)?;
        }
    }
    Ok(())
}

pub fn connect(p: &mut Process, f: &OpenFile, ptr: u64, len: u32) -> SysResult {
    let s = as_unix(f);
    if s.is_dgram() {
        if len >= 2 {
            let mut family = [0u8; 2];
            p.mm.copy_in(ptr, &mut family)?;
            if u16::from_le_bytes(family) == libc::AF_UNSPEC as u16 {
                return s.disconnect().map(|_| 0);
            }
        }
        return s.connect_dgram(target(p, ptr, len, s.ty())?).map(|_| 0);
    }
    let name = target(p, ptr, len, s.ty())?;
    // A full queue: a blocking connect waits for accept() to make room.
    let mut waiter = None;
    loop {
        match s.connect(&name.key, waiter.as_ref()) {
            Err(Errno::EAGAIN) if !nonblocking(f) => {
                let Some(w) = &waiter else {
                    waiter = Some(Arc::new(crate::host::wake_fd()?));
                    continue;
                };
                let fd = std::os::fd::AsRawFd::as_raw_fd(&**w);
                let mut pfd = [libc::pollfd { fd, events: libc::POLLIN, revents: 0 }];
                restartable(p, || crate::host::poll(&mut pfd, ROOM_POLL_MS))?;
                crate::host::drain(std::os::fd::AsFd::as_fd(&**w));
            }
            r => break r?,
        }
    }
    sync_nonblock(f).map(|_| 0)
}

/// connect(2) on a socketpair end of type `ty`: the address is checked as
/// for any socket, then a stream or seqpacket end is already connected; a
/// datagram end cannot be pointed elsewhere (its peer is the host's).
pub fn connect_pair(p: &mut Process, ptr: u64, len: u32, ty: i32) -> SysResult {
    if ty == libc::SOCK_DGRAM {
        return Err(Errno::EOPNOTSUPP);
    }
    let name = target(p, ptr, len, ty)?;
    p.machine.as_ref().ok_or(Errno::ECONNREFUSED)?.unix.listening(&name.key, ty)?;
    Err(Errno::EISCONN)
}

pub fn accept(p: &mut Process, f: &Arc<OpenFile>, addr: u64, lenp: u64, flags: i32) -> SysResult {
    if as_unix(f).is_dgram() {
        return Err(Errno::EOPNOTSUPP);
    }
    if !as_unix(f).listening() {
        return Err(Errno::EINVAL);
    }
    let (sock, peer) = super::rw::blocking(p, f, crate::net::POLLIN, || as_unix(f).accept())?;
    let file = Arc::new(OpenFile::new(Box::new(sock), status(flags & SOCK_NONBLOCK != 0)));
    sync_nonblock(&file)?;
    let fd = p.fds.insert(file, flags & SOCK_CLOEXEC != 0, 0)?;
    if let Err(e) = put_name(p, addr, lenp, peer) {
        let _ = p.fds.remove(fd);
        return Err(e);
    }
    Ok(fd as u64)
}

/// Writes the socket address `sun` as far as `*lenp` allows, and its full
/// length to `*lenp`.
fn put_sun(p: &mut Process, ptr: u64, lenp: u64, sun: &[u8]) -> SysResult {
    if ptr == 0 || lenp == 0 {
        return Ok(0);
    }
    let mut len = [0u8; 4];
    p.mm.copy_in(lenp, &mut len)?;
    let room = u32::from_le_bytes(len) as i32;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    put(p, ptr, &sun[..(room as usize).min(sun.len())])?;
    put(p, lenp, &(sun.len() as u32).to_le_bytes())
}

fn sockaddr(raw: &[u8]) -> Vec<u8> {
    let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
    b.extend_from_slice(raw);
    b
}

/// Writes a sockaddr_un for `name` (None: unnamed, the family alone).
pub fn put_name(p: &mut Process, ptr: u64, lenp: u64, name: Option<Name>) -> SysResult {
    put_sun(p, ptr, lenp, &sockaddr(name.map(|n| n.raw).unwrap_or_default().as_slice()))
}

/// Writes a datagram's source: its sender's name, or for an unnamed sender
/// nothing (length 0), as Linux.
pub fn put_from(p: &mut Process, ptr: u64, lenp: u64, from: Option<&[u8]>) -> SysResult {
    put_sun(p, ptr, lenp, &from.map(sockaddr).unwrap_or_default())
}

/// getsockname (`peer` false) or getpeername (`peer` true).
pub fn names(p: &mut Process, f: &OpenFile, a: &Args, peer: bool) -> SysResult {
    let s = as_unix(f);
    let name = if peer { s.peer()? } else { s.name() };
    put_name(p, a.u(1), a.u(2), name)
}

/// Options of a socket not (yet) connected, or any AF_UNIX one's type.
pub fn option(f: &OpenFile, level: i32, opt: i32) -> Option<Result<i32, Errno>> {
    let s = as_unix(f);
    if level != libc::SOL_SOCKET {
        return None;
    }
    match opt {
        libc::SO_TYPE => Some(Ok(s.ty())),
        libc::SO_DOMAIN => Some(Ok(libc::AF_UNIX)),
        libc::SO_PROTOCOL => Some(Ok(0)),
        libc::SO_ACCEPTCONN => Some(Ok(s.listening() as i32)),
        _ if f.file.host_fd().is_none() => Some(match opt {
            libc::SO_ERROR => Ok(0),
            libc::SO_SNDBUF | libc::SO_RCVBUF => Ok(212_992),
            _ => Err(Errno::ENOPROTOOPT),
        }),
        _ => None,
    }
}

/// The guest's destination address (pointer, length), if it gave one: a
/// null pointer or a zero length is none, as Linux.
fn dest(to: (u64, u32)) -> Option<(u64, u32)> {
    (to.0 != 0 && to.1 != 0).then_some(to)
}

/// Sends on an AF_UNIX socket: datagram sockets here; None leaves a
/// stream or seqpacket socket's data to its host end.
pub fn send(p: &mut Process, f: &OpenFile, data: &[u8], flags: i32, to: (u64, u32)) -> Option<SysResult> {
    let s = as_unix(f);
    let to = dest(to);
    if !s.is_dgram() {
        // A stream socket refuses an address; seqpacket ignores it.
        return match to {
            Some(_) if s.ty() == libc::SOCK_STREAM => {
                Some(Err(if s.is_connected() { Errno::EISCONN } else { Errno::EOPNOTSUPP }))
            }
            _ => None,
        };
    }
    Some(send_dgram(p, f, data, flags, to))
}

fn send_dgram(p: &mut Process, f: &OpenFile, data: &[u8], flags: i32, to: Option<(u64, u32)>) -> SysResult {
    let s = as_unix(f);
    if flags & libc::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let name = to.map(|(ptr, len)| target(p, ptr, len, s.ty())).transpose()?;
    let nonblock = flags & libc::MSG_DONTWAIT != 0 || nonblocking(f);
    restartable(p, || s.send_dgram(data, name.as_ref().map(|n| &n.key), nonblock)).map(|n| n as u64)
}

/// sendto(2) from a datagram socketpair end to a named socket: it arrives
/// from an unnamed sender.
pub fn send_from_pair(p: &mut Process, f: &OpenFile, data: &[u8], flags: i32, to: (u64, u32)) -> SysResult {
    if flags & libc::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let name = target(p, to.0, to.1, libc::SOCK_DGRAM)?;
    let inbox = p.machine.as_ref().ok_or(Errno::ECONNREFUSED)?.unix.inbox(&name.key)?;
    let nonblock = flags & libc::MSG_DONTWAIT != 0 || nonblocking(f);
    restartable(p, || inbox.deliver(0, None, data, nonblock)).map(|n| n as u64)
}

/// Receives a datagram on a datagram socket (MSG_PEEK, MSG_DONTWAIT; the
/// caller reports MSG_TRUNC), waiting unless non-blocking.
pub fn recv_dgram(p: &Process, f: &OpenFile, buf: &mut [u8], flags: i32) -> Result<Datagram, Errno> {
    if flags & libc::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let flags = flags | if nonblocking(f) { libc::MSG_DONTWAIT } else { 0 };
    restartable(p, || as_unix(f).recv_dgram(buf, flags))
}

/// A receive on an AF_UNIX stream or seqpacket socket that has no
/// connection: its error.
pub fn recv_unconnected(f: &OpenFile) -> Option<Errno> {
    let s = as_unix(f);
    (!s.is_dgram() && !s.is_connected()).then(|| s.unconnected_recv())
}

/// shutdown(2) of a datagram socket; None for the others (their host end's).
pub fn shutdown(f: &OpenFile, how: i32) -> Option<SysResult> {
    let s = as_unix(f);
    s.is_dgram().then(|| s.shutdown_dgram(how).map(|_| 0))
}
