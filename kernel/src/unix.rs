//! AF_UNIX sockets made by socket(2) inside one machine.
//!
//! Stream and seqpacket: a connection is a host socketpair, as for
//! socketpair(2): once connected, a socket's data moves through the host
//! kernel and every send/recv call treats it like any socketpair end. What
//! wisp adds is the naming: bind() makes a socket file (or takes an abstract
//! name) and enters it in the machine's table, listen() gives the entry a
//! queue, and connect() looks the name up, makes a socketpair and queues one
//! end for the listener's accept().
//!
//! Datagram: every socket owns an inbox, a host SOCK_DGRAM socketpair. It
//! receives on one end; whoever may send to it (by its name, or connected to
//! it) sends on the other. As many senders share that end, each datagram
//! starts with a fixed header naming its sender (for recvfrom), which the
//! receiver strips. Blocking and poll readiness are the host socket's.
//!
//! Names are per machine: a socket file on a volume shared with another
//! machine does not connect the two (as two Linux kernels would not).

use std::collections::{HashMap, VecDeque};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::errno::Errno;
use crate::net::POLLIN;
use crate::vfs::file::{File, Stat};

/// Connections a listener queues at most (Linux queues backlog + 1, then
/// EAGAIN or waits).
const MAX_BACKLOG: usize = 128;
/// Connectors a full listener wakes when accept() makes room; more wait by
/// looking again now and then.
const MAX_WAITERS: usize = 64;
/// The longest name: sockaddr_un's sun_path, and the NUL Linux adds to a
/// path that fills it.
const MAX_NAME: usize = 108 + 1;
/// A datagram's header in an inbox: the sender's name length, then the name
/// (padded to its longest).
const HEADER: usize = 1 + MAX_NAME;
/// Datagrams a disconnect discards from the inbox at most.
const MAX_PURGE: usize = 4096;

/// Where a named socket lives: its socket file (host device and inode), or
/// an abstract name, which Linux keeps apart per socket type.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    File(u64, u64),
    Abstract(i32, Vec<u8>),
}

/// A socket address as the guest gave it: the path bytes (or, for an
/// abstract name, a NUL then the name) and its key.
#[derive(Clone, Debug)]
pub struct Name {
    pub raw: Vec<u8>,
    pub key: Key,
}

/// The machine's bound names.
#[derive(Default)]
pub struct Names {
    bound: Mutex<HashMap<Key, Entry>>,
    /// The next autobind name to try.
    auto: Mutex<u32>,
}

/// A bound socket, for as long as it is open.
struct Entry {
    /// The socket's id (it removes its own entry when closed).
    owner: u64,
    ty: i32,
    /// Stream and seqpacket: the queue, once listen() made one.
    listener: Option<Arc<Listener>>,
    /// Datagram: where to send to it.
    inbox: Option<Arc<Inbox>>,
}

impl Names {
    /// The listener at `key` for a socket of type `ty`: ECONNREFUSED when
    /// none listens there, EPROTOTYPE when a socket of another type is bound.
    fn listener(&self, key: &Key, ty: i32) -> Result<Arc<Listener>, Errno> {
        let map = lock(&self.bound);
        let e = map.get(key).ok_or(Errno::ECONNREFUSED)?;
        if e.ty != ty {
            return Err(Errno::EPROTOTYPE);
        }
        e.listener.clone().ok_or(Errno::ECONNREFUSED)
    }

    /// Whether a socket of type `ty` listens at `key` (errors as for `listener`).
    pub fn listening(&self, key: &Key, ty: i32) -> Result<(), Errno> {
        self.listener(key, ty).map(|_| ())
    }

    /// The inbox of the datagram socket bound to `key`: ECONNREFUSED when
    /// none is, EPROTOTYPE when a socket of another type is.
    pub fn inbox(&self, key: &Key) -> Result<Arc<Inbox>, Errno> {
        let map = lock(&self.bound);
        let e = map.get(key).ok_or(Errno::ECONNREFUSED)?;
        if e.ty != libc::SOCK_DGRAM {
            return Err(Errno::EPROTOTYPE);
        }
        e.inbox.clone().ok_or(Errno::ECONNREFUSED)
    }
}

pub struct Listener {
    name: Name,
    queue: Mutex<Queue>,
    /// Written when a connection is queued.
    wake: Arc<OwnedFd>,
}

struct Queue {
    /// Connections not yet accepted: the listener's end and the connecting
    /// socket's name.
    conns: VecDeque<(OwnedFd, Option<Name>)>,
    backlog: usize,
    /// Event fds of connectors waiting for room, written by accept().
    waiters: Vec<Arc<OwnedFd>>,
    closed: bool,
}

impl Queue {
    fn wake_waiters(&mut self) {
        for w in self.waiters.drain(..) {
            crate::host::wake(w.as_fd());
        }
    }
}

/// A datagram socket's receiving side, as senders see it.
pub struct Inbox {
    /// The owning socket's id.
    owner: u64,
    /// The sending end of the inbox socketpair.
    tx: OwnedFd,
    /// The socket the owner is connected to: only that one may send to it.
    peer: Mutex<Option<Peer>>,
}

#[derive(Clone)]
struct Peer {
    id: u64,
    inbox: Weak<Inbox>,
    name: Name,
}

impl Inbox {
    /// Queues a datagram from socket `from` (0: a socketpair end) named
    /// `name`: EPERM when the owner is connected to another socket.
    pub fn deliver(&self, from: u64, name: Option<&Name>, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        if lock(&self.peer).as_ref().is_some_and(|p| p.id != from) {
            return Err(Errno::EPERM);
        }
        let mut head = [0u8; HEADER];
        let raw = name.map(|n| n.raw.as_slice()).unwrap_or_default();
        let k = raw.len().min(MAX_NAME);
        head[0] = k as u8;
        head[1..1 + k].copy_from_slice(&raw[..k]);
        let flags = libc::MSG_NOSIGNAL | if nonblock { libc::MSG_DONTWAIT } else { 0 };
        crate::host::sendmsg(self.tx.as_raw_fd(), &[IoSlice::new(&head), IoSlice::new(data)], flags)?;
        Ok(data.len())
    }
}

/// A datagram socket's own side.
struct Dgram {
    /// The receiving end of the inbox socketpair.
    rx: OwnedFd,
    inbox: Arc<Inbox>,
    /// Shut down for sending.
    shut_wr: AtomicBool,
}

/// One datagram received: bytes copied, its whole length, and the sender's
/// name (None: unnamed).
pub struct Datagram {
    pub len: usize,
    pub full: usize,
    pub from: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    /// The socket's own name: bound, autobound, or the listener's for an
    /// accepted socket.
    name: Option<Name>,
    /// The key of this socket's entry in the machine's table.
    entry: Option<Key>,
    listener: Option<Arc<Listener>>,
    /// Stream and seqpacket: the peer's name.
    peer: Option<Name>,
}

/// A guest AF_UNIX socket made by socket(2).
pub struct UnixSocket {
    names: Arc<Names>,
    ty: i32,
    id: u64,
    state: Mutex<State>,
    /// The connected end (stream and seqpacket), set once by connect() or accept().
    conn: OnceLock<OwnedFd>,
    /// A listener's wake fd (its Listener's).
    wake: OnceLock<Arc<OwnedFd>>,
    /// Datagram sockets' inbox.
    dgram: Option<Dgram>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl UnixSocket {
    /// A socket of type `ty` (SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM).
    pub fn new(names: Arc<Names>, ty: i32) -> Result<UnixSocket, Errno> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let dgram = if ty == libc::SOCK_DGRAM {
            let (rx, tx) = crate::host::socketpair(libc::SOCK_DGRAM)?;
            let inbox = Arc::new(Inbox { owner: id, tx, peer: Mutex::new(None) });
            Some(Dgram { rx, inbox, shut_wr: AtomicBool::new(false) })
        } else {
            None
        };
        Ok(UnixSocket {
            names,
            ty,
            id,
            state: Mutex::new(State::default()),
            conn: OnceLock::new(),
            wake: OnceLock::new(),
            dgram,
        })
    }

    pub fn ty(&self) -> i32 {
        self.ty
    }

    pub fn is_dgram(&self) -> bool {
        self.dgram.is_some()
    }

    fn entry(&self) -> Entry {
        Entry { owner: self.id, ty: self.ty, listener: None, inbox: self.dgram.as_ref().map(|d| d.inbox.clone()) }
    }

    /// Gives the socket `name` (whose socket file, if any, the caller made):
    /// EINVAL when it has one, EADDRINUSE for an abstract name in use.
    pub fn bind(&self, name: Name) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        if st.name.is_some() {
            return Err(Errno::EINVAL);
        }
        let mut map = lock(&self.names.bound);
        // A socket file's key is free (the file was just made); an old entry
        // under it is a socket whose unlinked file had the same inode.
        if matches!(name.key, Key::Abstract(..)) && map.contains_key(&name.key) {
            return Err(Errno::EADDRINUSE);
        }
        map.insert(name.key.clone(), self.entry());
        st.entry = Some(name.key.clone());
        st.name = Some(name);
        Ok(())
    }

    /// Binds an unnamed socket to a free abstract name of five hex digits,
    /// as Linux does for an address that is only the family.
    pub fn autobind(&self) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        if st.name.is_some() {
            return Ok(());
        }
        let mut map = lock(&self.names.bound);
        let mut next = lock(&self.names.auto);
        for _ in 0..=0xf_ffff {
            let raw = format!("\0{:05x}", *next & 0xf_ffff).into_bytes();
            *next = next.wrapping_add(1);
            let key = Key::Abstract(self.ty, raw.clone());
            if !map.contains_key(&key) {
                map.insert(key.clone(), self.entry());
                st.entry = Some(key.clone());
                st.name = Some(Name { raw, key });
                return Ok(());
            }
        }
        Err(Errno::ENOSPC)
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if self.is_dgram() {
            return Err(Errno::EOPNOTSUPP);
        }
        // Linux takes a negative backlog as its largest.
        let want = usize::try_from(backlog).map_or(MAX_BACKLOG, |b| b.min(MAX_BACKLOG));
        let mut st = lock(&self.state);
        if let Some(l) = &st.listener {
            lock(&l.queue).backlog = want;
            return Ok(());
        }
        let (Some(name), Some(key)) = (st.name.clone(), st.entry.clone()) else { return Err(Errno::EINVAL) };
        if self.conn.get().is_some() {
            return Err(Errno::EINVAL);
        }
        let wake = Arc::new(crate::host::wake_fd()?);
        let queue = Queue { conns: VecDeque::new(), backlog: want, waiters: Vec::new(), closed: false };
        let l = Arc::new(Listener { name, queue: Mutex::new(queue), wake: wake.clone() });
        match lock(&self.names.bound).get_mut(&key) {
            Some(e) if e.owner == self.id => e.listener = Some(l.clone()),
            _ => return Err(Errno::EADDRINUSE),
        }
        let _ = self.wake.set(wake);
        st.listener = Some(l);
        Ok(())
    }

    pub fn listening(&self) -> bool {
        lock(&self.state).listener.is_some()
    }

    /// Connects a stream or seqpacket socket to the listener at `key`:
    /// ECONNREFUSED when none listens there, EPROTOTYPE for another type,
    /// EAGAIN when its queue is full (after adding `waiter`, if given, to
    /// the event fds accept() writes).
    pub fn connect(&self, key: &Key, waiter: Option<&Arc<OwnedFd>>) -> Result<(), Errno> {
        let l = self.names.listener(key, self.ty)?;
        // (The socket's state is not locked with the queue: listen() takes
        // the two the other way round.)
        let (listening, name) = {
            let st = lock(&self.state);
            (st.listener.is_some(), st.name.clone())
        };
        {
            let mut q = lock(&l.queue);
            if q.closed {
                return Err(Errno::ECONNREFUSED);
            }
            // Linux's queue is full past the backlog (so backlog 0 takes one).
            if q.conns.len() > q.backlog {
                if let Some(w) =
                    waiter.filter(|w| q.waiters.len() < MAX_WAITERS && !q.waiters.iter().any(|x| Arc::ptr_eq(x, w)))
                {
                    q.waiters.push(w.clone());
                }
                return Err(Errno::EAGAIN);
            }
            if self.conn.get().is_some() {
                return Err(Errno::EISCONN);
            }
            if listening {
                return Err(Errno::EINVAL);
            }
            let (mine, theirs) = crate::host::socketpair(self.ty)?;
            self.conn.set(mine).map_err(|_| Errno::EISCONN)?;
            q.conns.push_back((theirs, name));
        }
        crate::host::wake(l.wake.as_fd());
        lock(&self.state).peer = Some(l.name.clone());
        Ok(())
    }

    /// Takes a queued connection: a connected socket named as the listener,
    /// and the connecting socket's name.
    pub fn accept(&self) -> Result<(UnixSocket, Option<Name>), Errno> {
        let l = lock(&self.state).listener.clone().ok_or(Errno::EINVAL)?;
        let (fd, peer) = {
            let mut q = lock(&l.queue);
            let c = q.conns.pop_front().ok_or(Errno::EAGAIN)?;
            q.wake_waiters();
            c
        };
        let s = UnixSocket::new(self.names.clone(), self.ty)?;
        {
            let mut st = lock(&s.state);
            st.name = Some(l.name.clone());
            st.peer = peer.clone();
        }
        let _ = s.conn.set(fd);
        Ok((s, peer))
    }

    /// The socket's own name (None: unnamed).
    pub fn name(&self) -> Option<Name> {
        lock(&self.state).name.clone()
    }

    /// The peer's name: Ok(None) for an unnamed peer, ENOTCONN when not connected.
    pub fn peer(&self) -> Result<Option<Name>, Errno> {
        if let Some(d) = &self.dgram {
            return lock(&d.inbox.peer).as_ref().map(|p| Some(p.name.clone())).ok_or(Errno::ENOTCONN);
        }
        if self.conn.get().is_none() {
            return Err(Errno::ENOTCONN);
        }
        Ok(lock(&self.state).peer.clone())
    }

    /// The error of a receive on a stream or seqpacket socket without a
    /// connection (Linux: EINVAL for stream, ENOTCONN for seqpacket).
    pub fn unconnected_recv(&self) -> Errno {
        if self.ty == libc::SOCK_STREAM { Errno::EINVAL } else { Errno::ENOTCONN }
    }

    /// Whether a stream or seqpacket socket is connected.
    pub fn is_connected(&self) -> bool {
        self.conn.get().is_some()
    }

    fn dgram(&self) -> Result<&Dgram, Errno> {
        self.dgram.as_ref().ok_or(Errno::EOPNOTSUPP)
    }

    /// Connects a datagram socket to the one bound at `name`: it sends there
    /// by default and takes datagrams only from it. A new peer discards what
    /// the inbox holds, as Linux does.
    pub fn connect_dgram(&self, name: Name) -> Result<(), Errno> {
        let d = self.dgram()?;
        let target = self.names.inbox(&name.key)?;
        if lock(&target.peer).as_ref().is_some_and(|p| p.id != self.id) {
            return Err(Errno::EPERM);
        }
        let new = Peer { id: target.owner, inbox: Arc::downgrade(&target), name };
        let old = lock(&d.inbox.peer).replace(new);
        if old.is_some_and(|o| o.id != target.owner) {
            self.purge();
        }
        Ok(())
    }

    /// Dissolves a datagram socket's association (connect to AF_UNSPEC).
    pub fn disconnect(&self) -> Result<(), Errno> {
        let d = self.dgram()?;
        if lock(&d.inbox.peer).take().is_some() {
            self.purge();
        }
        Ok(())
    }

    /// Discards the datagrams queued in the inbox.
    fn purge(&self) {
        let Some(d) = &self.dgram else { return };
        let flags = libc::MSG_DONTWAIT | libc::MSG_TRUNC;
        for _ in 0..MAX_PURGE {
            // Every datagram has a header: 0 is the end (shut down).
            if !matches!(crate::host::recv(d.rx.as_raw_fd(), &mut [], flags), Ok(n) if n > 0) {
                break;
            }
        }
    }

    /// Sends a datagram to the socket bound at `to`, or (None) to the
    /// connected peer. A peer closed since is ECONNREFUSED once, and the
    /// association is gone.
    pub fn send_dgram(&self, data: &[u8], to: Option<&Key>, nonblock: bool) -> Result<usize, Errno> {
        let d = self.dgram()?;
        let target = match to {
            Some(key) => {
                if d.shut_wr.load(Ordering::Relaxed) {
                    return Err(Errno::EPIPE);
                }
                self.names.inbox(key)?
            }
            None => {
                let peer = lock(&d.inbox.peer).clone().ok_or(Errno::ENOTCONN)?;
                if d.shut_wr.load(Ordering::Relaxed) {
                    return Err(Errno::EPIPE);
                }
                match peer.inbox.upgrade() {
                    Some(t) => t,
                    None => {
                        let mut cur = lock(&d.inbox.peer);
                        if cur.as_ref().is_some_and(|p| p.id == peer.id) {
                            *cur = None;
                            drop(cur);
                            self.purge();
                        }
                        return Err(Errno::ECONNREFUSED);
                    }
                }
            }
        };
        let name = self.name();
        target.deliver(self.id, name.as_ref(), data, nonblock)
    }

    /// Receives one datagram into `buf`; `flags` may hold MSG_PEEK and
    /// MSG_DONTWAIT. Blocks unless the socket or `flags` says not to.
    pub fn recv_dgram(&self, buf: &mut [u8], flags: i32) -> Result<Datagram, Errno> {
        let d = self.dgram()?;
        let mut head = [0u8; HEADER];
        let flags = flags & (libc::MSG_PEEK | libc::MSG_DONTWAIT) | libc::MSG_TRUNC;
        let (n, _) =
            crate::host::recvmsg(d.rx.as_raw_fd(), &mut [IoSliceMut::new(&mut head), IoSliceMut::new(buf)], flags)?;
        // Shorter than a header: the end after shutdown(SHUT_RD).
        let Some(full) = n.checked_sub(HEADER) else { return Ok(Datagram { len: 0, full: 0, from: None }) };
        let k = (head[0] as usize).min(MAX_NAME);
        let from = (k > 0).then(|| head[1..1 + k].to_vec());
        Ok(Datagram { len: full.min(buf.len()), full, from })
    }

    /// shutdown(2) of a datagram socket: SHUT_RD ends receiving (and sends
    /// to it fail with EPIPE), SHUT_WR ends sending.
    pub fn shutdown_dgram(&self, how: i32) -> Result<(), Errno> {
        let d = self.dgram()?;
        if how != libc::SHUT_RD {
            d.shut_wr.store(true, Ordering::Relaxed);
        }
        if how != libc::SHUT_WR {
            crate::host::shutdown(d.rx.as_raw_fd(), libc::SHUT_RD)?;
        }
        Ok(())
    }

    fn connected(&self) -> Result<BorrowedFd<'_>, Errno> {
        self.conn.get().map(|f| f.as_fd()).ok_or(Errno::ENOTCONN)
    }

    /// Whether the guest made the socket non-blocking (mirrored on the
    /// receiving host end).
    fn nonblocking(&self) -> bool {
        self.host_fd().and_then(|h| crate::host::fcntl_getfl(h).ok()).is_some_and(|fl| fl & libc::O_NONBLOCK != 0)
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let st = lock(&self.state);
        if let Some(key) = &st.entry {
            let mut map = lock(&self.names.bound);
            if map.get(key).is_some_and(|e| e.owner == self.id) {
                map.remove(key);
            }
        }
        if let Some(l) = &st.listener {
            let mut q = lock(&l.queue);
            q.closed = true;
            q.conns.clear();
            q.wake_waiters();
        }
    }
}

impl File for UnixSocket {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.is_dgram() {
            return self.recv_dgram(buf, 0).map(|d| d.len);
        }
        crate::host::read(self.connected().map_err(|_| self.unconnected_recv())?, buf)
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        if self.is_dgram() {
            return self.send_dgram(buf, None, self.nonblocking());
        }
        crate::host::write(self.connected()?, buf)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::vfs::synth_stat(&self.path(), libc::S_IFSOCK | 0o777))
    }
    fn path(&self) -> String {
        format!("socket:[u{}]", self.id)
    }
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.dgram {
            Some(d) => Some(d.rx.as_fd()),
            None => self.conn.get().map(|f| f.as_fd()),
        }
    }
    fn readiness(&self) -> Option<(u32, BorrowedFd<'_>)> {
        if self.host_fd().is_some() {
            return None;
        }
        let wake = self.wake.get()?;
        crate::host::drain(wake.as_fd());
        let ready = match &lock(&self.state).listener {
            Some(l) => !lock(&l.queue).conns.is_empty(),
            None => false,
        };
        Some((if ready { POLLIN } else { 0 }, wake.as_fd()))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
