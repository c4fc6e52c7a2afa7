//! The AF_UNIX side of the socket calls: socket, bind, listen, accept,
//! connect and the names of sockets made by socket(AF_UNIX) (crate::unix).
//! Once connected, their data calls are those of any host socketpair end.

use std::sync::Arc;

use super::{Args, put, resolve_at};
use crate::errno::{Errno, SysResult};
use crate::task::{ProcViewRef, Process};
use crate::unix::{Key, Name, UnixSocket};
use crate::vfs::file::OpenFile;

const SOCK_TYPE_MASK: i32 = 0xf;
const SOCK_NONBLOCK: i32 = 0x800;
const SOCK_CLOEXEC: i32 = 0x8_0000;
/// sizeof(struct sockaddr_un).
const SUN_LEN: usize = 110;

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

/// Implements `socket(AF_UNIX, ty, proto)`.
pub fn socket(p: &mut Process, ty: i32, proto: i32) -> SysResult {
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(ty & SOCK_TYPE_MASK, libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET) {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    if proto != 0 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let names = p.machine.as_ref().map(|m| m.unix.clone()).ok_or(Errno::EAFNOSUPPORT)?;
    let sock = UnixSocket::new(names, ty & SOCK_TYPE_MASK);
    let file = Arc::new(OpenFile::new(Box::new(sock), status(ty & SOCK_NONBLOCK != 0)));
    p.fds.insert(file, ty & SOCK_CLOEXEC != 0, 0).map(|fd| fd as u64)
}

/// What a guest sockaddr_un names: a path (absolute, resolved against the
/// working directory) or an abstract name.
enum Addr {
    Path(String, Vec<u8>),
    Abstract(Vec<u8>),
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
        // Linux would autobind an abstract name for an empty address.
        None => Err(Errno::EINVAL),
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

fn name_of(addr: Addr, key: Key) -> Name {
    let raw = match addr {
        Addr::Path(_, mut path) => {
            path.push(0);
            path
        }
        Addr::Abstract(raw) => raw,
    };
    Name { raw, key }
}

pub fn bind(p: &mut Process, f: &OpenFile, ptr: u64, len: u32) -> SysResult {
    let s = as_unix(f);
    if s.name().is_some() {
        return Err(Errno::EINVAL);
    }
    let addr = read_addr(p, ptr, len)?;
    let key = match &addr {
        Addr::Abstract(raw) => Key::Abstract(raw.clone()),
        Addr::Path(abs, _) => {
            p.vfs.make_socket(abs, 0o777 & !p.fs.umask())?;
            file_key(p, abs)?
        }
    };
    s.bind(name_of(addr, key)).map(|_| 0)
}

pub fn listen(f: &OpenFile, backlog: i32) -> SysResult {
    as_unix(f).listen(backlog).map(|_| 0)
}

/// Mirrors the guest's O_NONBLOCK onto a newly connected socket's host end.
fn sync_nonblock(f: &OpenFile) -> Result<(), Errno> {
    if let Some(h) = f.file.host_fd() {
        let cur = crate::host::fcntl_getfl(h)?;
        let want = (cur & !libc::O_NONBLOCK) | (f.flags() as i32 & libc::O_NONBLOCK);
        crate::host::fcntl_setfl(h, want)?;
    }
    Ok(())
}

pub fn connect(p: &mut Process, f: &OpenFile, ptr: u64, len: u32) -> SysResult {
    let addr = read_addr(p, ptr, len)?;
    let key = match &addr {
        Addr::Abstract(raw) => Key::Abstract(raw.clone()),
        Addr::Path(abs, _) => file_key(p, abs)?,
    };
    as_unix(f).connect(name_of(addr, key))?;
    sync_nonblock(f).map(|_| 0)
}

pub fn accept(p: &mut Process, f: &Arc<OpenFile>, addr: u64, lenp: u64, flags: i32) -> SysResult {
    if !as_unix(f).listening() {
        return Err(Errno::EINVAL);
    }
    let sock = super::rw::blocking(p, f, crate::net::POLLIN, || as_unix(f).accept())?;
    let file = Arc::new(OpenFile::new(Box::new(sock), status(flags & SOCK_NONBLOCK != 0)));
    sync_nonblock(&file)?;
    let fd = p.fds.insert(file, flags & SOCK_CLOEXEC != 0, 0)?;
    // The connecting socket is unnamed (wisp has no autobind).
    if let Err(e) = put_name(p, addr, lenp, None) {
        let _ = p.fds.remove(fd);
        return Err(e);
    }
    Ok(fd as u64)
}

/// Writes a sockaddr_un for `name` (None: unnamed, the family alone) as
/// far as `*lenp` allows, and its full length to `*lenp`.
pub fn put_name(p: &mut Process, ptr: u64, lenp: u64, name: Option<Name>) -> SysResult {
    if ptr == 0 || lenp == 0 {
        return Ok(0);
    }
    let mut len = [0u8; 4];
    p.mm.copy_in(lenp, &mut len)?;
    let room = u32::from_le_bytes(len) as i32;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
    b.extend_from_slice(name.map(|n| n.raw).unwrap_or_default().as_slice());
    put(p, ptr, &b[..(room as usize).min(b.len())])?;
    put(p, lenp, &(b.len() as u32).to_le_bytes())
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
