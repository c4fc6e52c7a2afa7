//! Named AF_UNIX stream sockets inside one machine.
//!
//! A connection is a host socketpair, as for socketpair(2): once connected,
//! a socket's data moves through the host kernel and every send/recv call
//! treats it like any socketpair end. What wisp adds is the naming: bind()
//! makes a socket file (or takes an abstract name), listen() registers the
//! name in the machine's table, and connect() looks the name up, makes a
//! socketpair and queues one end for the listener's accept().
//!
//! Names are per machine: a socket file on a volume shared with another
//! machine does not connect the two (as two Linux kernels would not).

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::errno::Errno;
use crate::net::POLLIN;
use crate::vfs::file::{File, Stat};

/// Connections a listener queues at most (EAGAIN past it).
const MAX_BACKLOG: usize = 128;

/// Where a named socket lives: its socket file (host device and inode), or
/// an abstract name.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    File(u64, u64),
    Abstract(Vec<u8>),
}

/// A socket address as the guest gave it: the path bytes (or, for an
/// abstract name, a NUL then the name) and its key.
#[derive(Clone, Debug)]
pub struct Name {
    pub raw: Vec<u8>,
    pub key: Key,
}

/// The machine's listening names.
#[derive(Default)]
pub struct Names {
    listeners: Mutex<HashMap<Key, Weak<Listener>>>,
}

pub struct Listener {
    name: Name,
    ty: i32,
    queue: Mutex<VecDeque<OwnedFd>>,
    backlog: Mutex<usize>,
    /// Written when a connection is queued.
    wake: Arc<OwnedFd>,
}

enum State {
    Fresh,
    Bound(Name),
    Listening(Arc<Listener>),
}

/// A guest AF_UNIX socket made by socket(2).
pub struct UnixSocket {
    names: Arc<Names>,
    ty: i32,
    id: u64,
    state: Mutex<State>,
    /// The connected end, set once by connect() or accept().
    conn: OnceLock<OwnedFd>,
    /// The peer's name (connect: the name connected to).
    peer: Mutex<Option<Name>>,
    /// A listener's wake fd (its Listener's).
    wake: OnceLock<Arc<OwnedFd>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl UnixSocket {
    pub fn new(names: Arc<Names>, ty: i32) -> UnixSocket {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        UnixSocket {
            names,
            ty,
            id,
            state: Mutex::new(State::Fresh),
            conn: OnceLock::new(),
            peer: Mutex::new(None),
            wake: OnceLock::new(),
        }
    }

    pub fn ty(&self) -> i32 {
        self.ty
    }

    /// Gives the socket `name` (whose socket file, if any, the caller made).
    pub fn bind(&self, name: Name) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        if !matches!(*st, State::Fresh) || self.conn.get().is_some() {
            return Err(Errno::EINVAL);
        }
        let taken = || lock(&self.names.listeners).get(&name.key).is_some_and(|w| w.strong_count() > 0);
        if matches!(name.key, Key::Abstract(_)) && taken() {
            return Err(Errno::EADDRINUSE);
        }
        *st = State::Bound(name);
        Ok(())
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if self.ty == libc::SOCK_DGRAM {
            return Err(Errno::EOPNOTSUPP);
        }
        let want = (backlog.max(1) as usize).min(MAX_BACKLOG);
        let mut st = lock(&self.state);
        let name = match &*st {
            State::Listening(l) => {
                *lock(&l.backlog) = want;
                return Ok(());
            }
            // Linux autobinds an abstract name here; wisp asks for bind().
            State::Fresh => return Err(Errno::EINVAL),
            State::Bound(name) => name.clone(),
        };
        if self.conn.get().is_some() {
            return Err(Errno::EINVAL);
        }
        let fd = crate::host::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC);
        let wake = Arc::new(crate::host::own_fd(if fd < 0 { return Err(Errno::ENFILE) } else { fd as i32 })?);
        let l = Arc::new(Listener {
            name: name.clone(),
            ty: self.ty,
            queue: Mutex::new(VecDeque::new()),
            backlog: Mutex::new(want),
            wake: wake.clone(),
        });
        let mut map = lock(&self.names.listeners);
        if map.get(&name.key).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        map.insert(name.key.clone(), Arc::downgrade(&l));
        let _ = self.wake.set(wake);
        *st = State::Listening(l);
        Ok(())
    }

    pub fn listening(&self) -> bool {
        matches!(*lock(&self.state), State::Listening(_))
    }

    /// Connects to the listener named `name`: ECONNREFUSED when none
    /// listens there, EAGAIN when its queue is full.
    pub fn connect(&self, name: Name) -> Result<(), Errno> {
        if self.conn.get().is_some() {
            return Err(Errno::EISCONN);
        }
        if matches!(*lock(&self.state), State::Listening(_)) {
            return Err(Errno::EINVAL);
        }
        let l = lock(&self.names.listeners).get(&name.key).and_then(Weak::upgrade).ok_or(Errno::ECONNREFUSED)?;
        if l.ty != self.ty {
            return Err(Errno::EPROTOTYPE);
        }
        let mut q = lock(&l.queue);
        if q.len() >= *lock(&l.backlog) {
            return Err(Errno::EAGAIN);
        }
        let (mine, theirs) = crate::host::socketpair(self.ty)?;
        q.push_back(theirs);
        let _ = crate::host::write(l.wake.as_fd(), &1u64.to_ne_bytes());
        *lock(&self.peer) = Some(l.name.clone());
        self.conn.set(mine).map_err(|_| Errno::EISCONN)
    }

    /// Takes a queued connection: a connected socket named as the listener.
    pub fn accept(&self) -> Result<UnixSocket, Errno> {
        let l = match &*lock(&self.state) {
            State::Listening(l) => l.clone(),
            _ => return Err(Errno::EINVAL),
        };
        let fd = lock(&l.queue).pop_front().ok_or(Errno::EAGAIN)?;
        let s = UnixSocket::new(self.names.clone(), self.ty);
        *lock(&s.state) = State::Bound(l.name.clone());
        let _ = s.conn.set(fd);
        Ok(s)
    }

    /// The socket's own name (None: unnamed).
    pub fn name(&self) -> Option<Name> {
        match &*lock(&self.state) {
            State::Fresh => None,
            State::Bound(n) => Some(n.clone()),
            State::Listening(l) => Some(l.name.clone()),
        }
    }

    /// The peer's name: Ok(None) for an unnamed peer, ENOTCONN when not connected.
    pub fn peer(&self) -> Result<Option<Name>, Errno> {
        if self.conn.get().is_none() {
            return Err(Errno::ENOTCONN);
        }
        Ok(lock(&self.peer).clone())
    }

    fn connected(&self) -> Result<BorrowedFd<'_>, Errno> {
        self.conn.get().map(|f| f.as_fd()).ok_or(Errno::ENOTCONN)
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        if let State::Listening(l) = &*lock(&self.state) {
            let mut map = lock(&self.names.listeners);
            if map.get(&l.name.key).is_some_and(|w| w.as_ptr() == Arc::as_ptr(l)) {
                map.remove(&l.name.key);
            }
        }
    }
}

impl File for UnixSocket {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        crate::host::read(self.connected()?, buf)
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        crate::host::write(self.connected()?, buf)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::vfs::synth_stat(&self.path(), libc::S_IFSOCK | 0o777))
    }
    fn path(&self) -> String {
        format!("socket:[u{}]", self.id)
    }
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        self.conn.get().map(|f| f.as_fd())
    }
    fn readiness(&self) -> Option<(u32, BorrowedFd<'_>)> {
        if self.conn.get().is_some() {
            return None;
        }
        let wake = self.wake.get()?;
        let mut b = [0u8; 8];
        let _ = crate::host::read(wake.as_fd(), &mut b);
        let ready = match &*lock(&self.state) {
            State::Listening(l) => !lock(&l.queue).is_empty(),
            _ => false,
        };
        Some((if ready { POLLIN } else { 0 }, wake.as_fd()))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
