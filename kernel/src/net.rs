//! Guest TCP and UDP sockets over IPv4 on a cloud's virtual network
//! (wisp-netstack).
//!
//! All of a cloud's machines share one `CloudNet`: their smoltcp stacks and
//! every guest socket live behind one lock, and one driver thread runs the
//! stacks' timers. Each guest socket has a host eventfd, its wake fd: it is
//! written whenever the socket's readiness changes, so poll, epoll and
//! blocking calls wait on host descriptors as they do for every other file.
//! A waiter recomputes readiness after waking (wakes may be spurious).

use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use wisp_netstack::dns::Lookup;
use wisp_netstack::smoltcp::iface::SocketHandle;
use wisp_netstack::smoltcp::socket::{tcp, udp};
use wisp_netstack::smoltcp::time::Instant;
use wisp_netstack::smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv4Cidr};
use wisp_netstack::{Network, Stack};

use crate::errno::Errno;
use crate::vfs::file::{File, Stat};

pub const POLLIN: u32 = 0x001;
pub const POLLOUT: u32 = 0x004;
pub const POLLERR: u32 = 0x008;
pub const POLLHUP: u32 = 0x010;
pub const POLLRDHUP: u32 = 0x2000;

/// Bytes of buffer each way per TCP socket.
const BUF: usize = 256 << 10;
/// Most sockets one machine may hold at once (ENOBUFS past it).
const MAX_SOCKETS: usize = 1024;
/// Pending connections a listener holds at most.
const MAX_BACKLOG: usize = 128;
const EPHEMERAL: std::ops::RangeInclusive<u16> = 49152..=65535;
/// The largest UDP payload in one IPv4 packet.
pub const MAX_DATAGRAM: usize = 65507;
/// Datagrams a UDP socket queues each way, and their bytes.
const UDP_PACKETS: usize = 256;
const UDP_BUF: usize = 256 << 10;

enum Kind {
    /// Made by socket(), maybe bound.
    Fresh,
    /// listen(): smoltcp sockets in LISTEN (one per pending connection),
    /// and connections handed in from outside the cloud's network.
    Listen { handles: Vec<SocketHandle>, outside: VecDeque<(OwnedFd, Endpoint)> },
    /// A connection (connect or accept).
    Stream { handle: SocketHandle, connecting: bool },
    /// A bound UDP socket.
    Dgram { handle: SocketHandle },
    /// A connection that leaves the cloud's network (a granted service of
    /// another cloud, egress, ingress from the host): a host stream socket
    /// the daemon handed over. `fd` is None while the daemon dials.
    Outside { fd: Option<Arc<OwnedFd>>, dial: u64, peer: Endpoint, connecting: bool },
}

/// Where a connection out of the cloud's network goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialTarget {
    /// Service `service` of cloud `cloud`, granted to this cloud.
    Service { cloud: String, service: String, port: u16 },
    /// A host:port on the egress allowlist.
    Egress { addr: Ipv4Address, port: u16 },
    /// The metadata service at METADATA:80 (the machine's identity).
    Metadata,
}

/// Where the metadata service answers (HTTP on port 80).
pub const METADATA: Ipv4Address = Ipv4Address::new(169, 254, 169, 254);

/// Asks the daemon for a connection: (dial id, machine name, target). The
/// answer comes back through `CloudNet::dial_done`.
pub type Dialer = Arc<dyn Fn(u64, &str, &DialTarget) + Send + Sync>;

/// Another cloud's service this cloud may reach: SERVICE.CLOUD.clouds.internal.
#[derive(Clone, Debug)]
pub struct Import {
    pub cloud: String,
    pub service: String,
    pub port: u16,
}

/// Imported services get addresses from here (outside any cloud subnet the
/// daemon hands out).
pub const IMPORTS: Ipv4Cidr = Ipv4Cidr::new(Ipv4Address::new(100, 127, 0, 0), 16);

struct Sock {
    machine: u32,
    wake: Arc<OwnedFd>,
    kind: Kind,
    /// A UDP socket (ports apart from TCP's).
    udp: bool,
    local: Option<(Ipv4Address, u16)>,
    /// A connected UDP socket's peer: the default destination and the
    /// only source it receives from.
    peer: Option<Endpoint>,
    reuse: bool,
    /// The error SO_ERROR reports next (a refused connect).
    error: Option<Errno>,
    shut_rd: bool,
    shut_wr: bool,
    last: u32,
}

struct NetState {
    network: Network,
    stacks: BTreeMap<u32, Stack>,
    socks: BTreeMap<u64, Sock>,
    next_sock: u64,
    next_machine: u32,
    next_port: BTreeMap<u32, u16>,
    /// Connections whose guest socket is closed, kept until TCP is done.
    orphans: Vec<(u32, SocketHandle)>,
    /// Machine names and addresses, for /etc/hosts and DNS.
    names: BTreeMap<u32, (String, Ipv4Address)>,
    /// The gateway: its NIC until the first packet comes, then its stack
    /// and DNS socket (port 53). Most clouds never ask it anything.
    gateway: Gateway,
    /// Services of the cloud: name -> machine name.
    services: BTreeMap<String, String>,
    /// Granted imports by DNS name, with their addresses.
    imports: BTreeMap<String, (Ipv4Address, Import)>,
    /// Egress allowlist (address, port; port 0: any).
    egress: Vec<(Ipv4Address, u16)>,
    dialer: Option<Dialer>,
    next_dial: u64,
    /// Host sockets of outside connections, watched for readiness (by a
    /// thread started with the first one).
    poller: Arc<OwnedFd>,
    poller_started: bool,
    start: std::time::Instant,
    stopped: bool,
    /// When the driver means to wake next (None: it is running now).
    driver_wakes: Option<std::time::Instant>,
    /// Bytes machines moved over outside connections: (received, sent).
    outside_bytes: BTreeMap<u32, (u64, u64)>,
    limits: BTreeMap<u32, NetLimits>,
    /// Rate limits on what machines send over outside connections.
    out_rate: BTreeMap<u32, Rate>,
}

/// A token bucket (bytes per second, burst of 1/20 s, at least 64 KiB).
struct Rate {
    per_sec: f64,
    tokens: f64,
    burst: f64,
    at: std::time::Instant,
}

impl Rate {
    fn new(per_sec: u64) -> Rate {
        let burst = (per_sec as f64 / 20.0).max(65536.0);
        Rate { per_sec: per_sec as f64, tokens: burst, burst, at: std::time::Instant::now() }
    }

    /// Tokens now (refilled for the time since the last look).
    fn available(&mut self) -> f64 {
        let now = std::time::Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.per_sec).min(self.burst);
        self.at = now;
        self.tokens
    }
}

/// Per-machine network limits.
#[derive(Clone, Copy, Debug)]
pub struct NetLimits {
    /// Most sockets the machine holds at once (ENOBUFS past it).
    pub max_sockets: usize,
    /// Most bytes per second it sends to other machines (0: no limit).
    pub tx_bytes_per_sec: u64,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits { max_sockets: MAX_SOCKETS, tx_bytes_per_sec: 0 }
    }
}

/// One cloud's network as its machines' guests see it.
pub struct CloudNet {
    state: Mutex<NetState>,
    /// The driver waits on it for its next timer or a guest's call.
    kick: Condvar,
}

/// A machine's place on its cloud's network; leaves it when dropped.
pub struct MachineNet {
    pub net: Arc<CloudNet>,
    pub id: u32,
    pub addr: Ipv4Address,
}

fn now(s: &NetState) -> Instant {
    Instant::from_micros(s.start.elapsed().as_micros() as i64)
}

impl CloudNet {
    /// A network on `subnet` with its driver thread (which ends with it).
    pub fn new(subnet: Ipv4Cidr) -> Result<Arc<CloudNet>, String> {
        let network = Network::new(subnet).map_err(|e| e.to_string())?;
        let start = std::time::Instant::now();
        let gateway = Gateway::Idle(Some(network.attach_gateway().map_err(|e| e.to_string())?));
        if subnet.contains_subnet(&IMPORTS) || IMPORTS.contains_subnet(&subnet) {
            return Err(format!("subnet {subnet} overlaps the imports range {IMPORTS}"));
        }
        let poller = Arc::new(crate::host::epoll_create().map_err(|e| format!("epoll: {e}"))?);
        let net = Arc::new(CloudNet {
            state: Mutex::new(NetState {
                network,
                stacks: BTreeMap::new(),
                socks: BTreeMap::new(),
                next_sock: 1,
                next_machine: 1,
                next_port: BTreeMap::new(),
                orphans: Vec::new(),
                names: BTreeMap::new(),
                gateway,
                services: BTreeMap::new(),
                imports: BTreeMap::new(),
                egress: Vec::new(),
                dialer: None,
                next_dial: 1,
                poller,
                poller_started: false,
                start,
                stopped: false,
                driver_wakes: None,
                outside_bytes: BTreeMap::new(),
                limits: BTreeMap::new(),
                out_rate: BTreeMap::new(),
            }),
            kick: Condvar::new(),
        });
        let weak = Arc::downgrade(&net);
        std::thread::Builder::new()
            .name("net-driver".into())
            .spawn(move || drive(weak))
            .map_err(|e| format!("cannot start the network driver: {e}"))?;
        Ok(net)
    }

    /// Starts the thread that watches outside connections, on the first
    /// one (most clouds never have any).
    fn start_poller(self: &Arc<Self>, s: &mut NetState) -> Result<(), Errno> {
        if s.poller_started {
            return Ok(());
        }
        let (weak, poller) = (Arc::downgrade(self), s.poller.clone());
        std::thread::Builder::new()
            .name("net-outside".into())
            .spawn(move || watch_outside(weak, poller))
            .map_err(|_| Errno::ENOBUFS)?;
        s.poller_started = true;
        Ok(())
    }

    /// Lets guests connect out of the cloud's network through `dialer`.
    pub fn set_dialer(&self, dialer: Dialer) {
        self.lock().dialer = Some(dialer);
    }

    /// The services of other clouds granted to this one; each gets an
    /// address in IMPORTS (kept while it stays granted).
    pub fn set_imports(&self, imports: Vec<Import>) {
        let mut s = self.lock();
        let mut next: BTreeMap<String, (Ipv4Address, Import)> = BTreeMap::new();
        for i in imports {
            let name = format!("{}.{}.clouds.internal", i.service, i.cloud).to_ascii_lowercase();
            let addr = match s.imports.get(&name) {
                Some((a, _)) => *a,
                None => {
                    let base = IMPORTS.network().address().to_bits();
                    let used =
                        |a: &Ipv4Address| s.imports.values().any(|(b, _)| b == a) || next.values().any(|(b, _)| b == a);
                    match (2..0xfffe).map(|h| Ipv4Address::from_bits(base + h)).find(|a| !used(a)) {
                        Some(a) => a,
                        None => continue,
                    }
                }
            };
            next.insert(name, (addr, i));
        }
        s.imports = next;
    }

    /// The egress allowlist: (address, port) pairs; port 0 allows any port.
    pub fn set_egress(&self, allow: Vec<(Ipv4Address, u16)>) {
        self.lock().egress = allow;
    }

    /// The daemon's answer to dial `dial`: the connection, or why not.
    pub fn dial_done(self: &Arc<Self>, dial: u64, result: Result<OwnedFd, Errno>) {
        let mut s = self.lock();
        let poller = s.poller.clone();
        let result = result.and_then(|fd| self.start_poller(&mut s).map(|_| fd));
        let Some((id, k)) =
            s.socks.iter_mut().find(|(_, k)| matches!(k.kind, Kind::Outside { dial: d, fd: None, .. } if d == dial))
        else {
            return;
        };
        match result.and_then(|fd| watch(&poller, fd, *id)) {
            Ok(fd) => {
                if let Kind::Outside { fd: slot, .. } = &mut k.kind {
                    *slot = Some(fd);
                }
            }
            Err(e) => k.error = Some(e),
        }
        crate::host::wake(k.wake.as_fd());
    }

    /// Hands a connection from outside the cloud's network (ingress, or a
    /// grantee's) to machine `machine`'s listener on `port`; ECONNREFUSED
    /// when nothing listens there.
    pub fn incoming(&self, machine: &str, port: u16, fd: OwnedFd, peer: Endpoint) -> Result<(), Errno> {
        let mut s = self.lock();
        let id = s.names.iter().find(|(_, (n, _))| n == machine).map(|(i, _)| *i).ok_or(Errno::ECONNREFUSED)?;
        let k = s
            .socks
            .values_mut()
            .find(|k| {
                k.machine == id
                    && !k.udp
                    && matches!(k.kind, Kind::Listen { .. })
                    && k.local.is_some_and(|(_, p)| p == port)
            })
            .ok_or(Errno::ECONNREFUSED)?;
        let Kind::Listen { outside, .. } = &mut k.kind else { return Err(Errno::ECONNREFUSED) };
        if outside.len() >= MAX_BACKLOG {
            return Err(Errno::ECONNREFUSED);
        }
        outside.push_back((fd, peer));
        crate::host::wake(k.wake.as_fd());
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, NetState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attaches machine `name`: its own address and stack.
    pub fn attach(self: &Arc<Self>, name: &str, limits: NetLimits) -> Result<MachineNet, String> {
        let mut s = self.lock();
        let mut nic = s.network.attach().map_err(|e| e.to_string())?;
        nic.set_rate(limits.tx_bytes_per_sec);
        let addr = nic.addr();
        let t = now(&s);
        let id = s.next_machine;
        s.next_machine += 1;
        s.stacks.insert(id, Stack::new(nic, t));
        s.names.insert(id, (name.to_string(), addr));
        s.limits.insert(id, limits);
        if limits.tx_bytes_per_sec > 0 {
            s.out_rate.insert(id, Rate::new(limits.tx_bytes_per_sec));
        }
        Ok(MachineNet { net: self.clone(), id, addr })
    }

    /// /etc/hosts for machine `hostname`: localhost, itself, and every
    /// machine of the cloud as NAME.internal (and NAME).
    pub fn hosts_file(&self, hostname: &str) -> Vec<u8> {
        let s = self.lock();
        let mut out = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if !s.names.values().any(|(n, _)| n == hostname) {
            out.push_str(&format!("127.0.1.1\t{hostname}\n"));
        }
        for (name, addr) in s.names.values() {
            out.push_str(&format!("{addr}\t{name}.internal {name}\n"));
        }
        out.into_bytes()
    }

    /// /etc/resolv.conf: the cloud's DNS server at the gateway.
    pub fn resolv_conf(&self) -> Vec<u8> {
        let s = self.lock();
        format!("nameserver {}\nsearch internal\noptions ndots:1\n", s.network.gateway()).into_bytes()
    }

    /// Names the cloud's services (name, machine) for DNS: SERVICE.internal
    /// is the address of its machine.
    pub fn set_services(&self, services: Vec<(String, String)>) {
        self.lock().services = services.into_iter().collect();
    }

    /// Opens a TCP (or, with `udp`, a UDP) socket for machine `machine`;
    /// `v6` for an AF_INET6 one (dual-stack: IPv4 traffic under IPv4-mapped
    /// addresses).
    pub fn socket(self: &Arc<Self>, machine: u32, v6: bool, udp: bool) -> Result<NetSocket, Errno> {
        let mut s = self.lock();
        let most = s.limits.get(&machine).map(|l| l.max_sockets).unwrap_or(MAX_SOCKETS);
        if s.socks.values().filter(|k| k.machine == machine).count() >= most {
            return Err(Errno::ENOBUFS);
        }
        let wake = Arc::new(crate::host::wake_fd()?);
        let id = s.next_sock;
        s.next_sock += 1;
        let sock = Sock {
            machine,
            wake: wake.clone(),
            kind: Kind::Fresh,
            udp,
            local: None,
            peer: None,
            reuse: false,
            error: None,
            shut_rd: false,
            shut_wr: false,
            last: 0,
        };
        s.socks.insert(id, sock);
        Ok(NetSocket { net: self.clone(), id, wake, v6, udp })
    }
}

impl MachineNet {
    /// Bytes the machine received and sent on the network (other machines
    /// of its cloud and connections out of it; not loopback): (rx, tx).
    pub fn bytes(&self) -> (u64, u64) {
        let s = self.net.lock();
        let (rx, tx) = s.network.bytes(self.addr);
        let (orx, otx) = s.outside_bytes.get(&self.id).copied().unwrap_or_default();
        (rx + orx, tx + otx)
    }
}

impl Drop for MachineNet {
    fn drop(&mut self) {
        let mut s = self.net.lock();
        let ids: Vec<u64> = s.socks.iter().filter(|(_, k)| k.machine == self.id).map(|(i, _)| *i).collect();
        for id in ids {
            s.socks.remove(&id);
        }
        s.stacks.remove(&self.id);
        s.names.remove(&self.id);
        s.outside_bytes.remove(&self.id);
        s.limits.remove(&self.id);
        s.out_rate.remove(&self.id);
    }
}

impl Drop for CloudNet {
    fn drop(&mut self) {
        self.lock().stopped = true;
        self.kick.notify_all();
    }
}

/// The driver: polls every stack when a timer falls due, or when a guest
/// call asks.
fn drive(weak: Weak<CloudNet>) {
    loop {
        let Some(net) = weak.upgrade() else { return };
        let mut s = net.lock();
        if s.stopped {
            return;
        }
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&mut s))).is_err() {
            s.stopped = true;
            return;
        }
        let delay = next_timer(&mut s);
        s.driver_wakes = Some(std::time::Instant::now() + delay);
        let (mut s, _) = net.kick.wait_timeout(s, delay).unwrap_or_else(|e| e.into_inner());
        s.driver_wakes = None;
    }
}

/// How long until some stack's timers need a poll (at most 200 ms).
fn next_timer(s: &mut NetState) -> std::time::Duration {
    if s.stacks.values().any(|st| st.throttled()) || s.out_rate.values().any(|r| r.tokens <= 0.0) {
        // A rate limit holds packets: send them as tokens come.
        return std::time::Duration::from_millis(1);
    }
    // With no timer set the driver sleeps long: guest calls move packets
    // themselves and wake it when they set a timer (kick_driver), so an
    // idle cloud costs no wakeups.
    let idle = std::time::Duration::from_secs(5);
    let t = now(s);
    s.stacks
        .values_mut()
        .filter_map(|st| st.poll_delay(t))
        .min()
        .map(|d| std::time::Duration::from_micros(d.total_micros()))
        .unwrap_or(idle)
        .clamp(std::time::Duration::from_micros(200), idle)
}

/// Wakes the driver if a timer now falls due before it means to wake (a
/// guest call just set one); most calls leave it asleep.
fn kick_driver(net: &CloudNet, s: &mut NetState) {
    if let Some(wakes) = s.driver_wakes
        && std::time::Instant::now() + next_timer(s) < wakes
    {
        s.driver_wakes = None;
        net.kick.notify_all();
    }
}

/// Polls every stack until packets stop moving, then wakes the sockets
/// whose readiness changed.
fn step(s: &mut NetState) {
    let t = now(s);
    for _ in 0..64 {
        let mut moved = s.gateway.poll(t);
        for st in s.stacks.values_mut() {
            moved |= st.poll(t);
        }
        moved |= serve_dns(s);
        if !moved && !s.gateway.pending() && !s.stacks.values().any(|st| st.pending()) {
            break;
        }
    }
    let NetState { orphans, stacks, .. } = &mut *s;
    orphans.retain(|(m, h)| {
        let Some(st) = stacks.get_mut(m) else { return false };
        let done = matches!(st.tcp(*h).state(), tcp::State::Closed | tcp::State::TimeWait);
        if done {
            st.sockets.remove(*h);
        }
        !done
    });
    let ids: Vec<u64> = s.socks.keys().copied().collect();
    for id in ids {
        let r = readiness(s, id);
        if let Some(k) = s.socks.get_mut(&id).filter(|k| k.last != r) {
            k.last = r;
            crate::host::wake(k.wake.as_fd());
        }
    }
}

enum Gateway {
    Idle(Option<wisp_netstack::Nic>),
    Up(Box<Stack>, SocketHandle),
}

impl Gateway {
    /// Polls the gateway's stack, bringing it up when its first packet waits.
    fn poll(&mut self, t: Instant) -> bool {
        if let Gateway::Idle(nic) = self
            && nic.as_ref().is_some_and(|n| n.pending())
            && let Some(nic) = nic.take()
        {
            let mut stack = Stack::new(nic, t);
            // DNS answers are small and quick: a modest queue.
            let dns = stack.udp_socket(64, 64 << 10);
            let _ = stack.udp(dns).bind(53);
            *self = Gateway::Up(Box::new(stack), dns);
        }
        match self {
            Gateway::Up(stack, _) => stack.poll(t),
            Gateway::Idle(_) => false,
        }
    }

    fn pending(&self) -> bool {
        match self {
            Gateway::Up(stack, _) => stack.pending(),
            Gateway::Idle(nic) => nic.as_ref().is_some_and(|n| n.pending()),
        }
    }
}

/// Answers the DNS queries waiting at the gateway; true if it sent any.
fn serve_dns(s: &mut NetState) -> bool {
    let mut sent = false;
    for _ in 0..UDP_PACKETS {
        let Gateway::Up(stack, dns) = &mut s.gateway else { return false };
        let (query, from) = match stack.udp(*dns).recv() {
            Ok((q, meta)) => (q.to_vec(), meta.endpoint),
            Err(_) => break,
        };
        let Some(reply) = wisp_netstack::dns::answer(&query, &|name| lookup(s, name)) else { continue };
        let Gateway::Up(stack, dns) = &mut s.gateway else { return false };
        // A full send queue drops the answer; the resolver asks again.
        sent |= stack.udp(*dns).send_slice(&reply, from).is_ok();
    }
    sent
}

/// Makes `fd` non-blocking and watched by the poller under socket `id`.
fn watch(poller: &OwnedFd, fd: OwnedFd, id: u64) -> Result<Arc<OwnedFd>, Errno> {
    let flags = crate::host::fcntl_getfl(fd.as_fd())?;
    crate::host::fcntl_setfl(fd.as_fd(), flags | libc::O_NONBLOCK)?;
    let ev = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
    crate::host::epoll_ctl(poller.as_fd(), libc::EPOLL_CTL_ADD, fd.as_fd(), ev, id)?;
    Ok(Arc::new(fd))
}

/// The poller: wakes the guest sockets whose outside connection's host
/// socket changed (edge-triggered; the wakened recompute readiness).
fn watch_outside(weak: Weak<CloudNet>, poller: Arc<OwnedFd>) {
    loop {
        let events = match crate::host::epoll_wait(poller.as_fd(), 64, 5000) {
            Ok(e) => e,
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        };
        let Some(net) = weak.upgrade() else { return };
        let s = net.lock();
        if s.stopped {
            return;
        }
        for (_, id) in events {
            if let Some(k) = s.socks.get(&id) {
                crate::host::wake(k.wake.as_fd());
            }
        }
    }
}

/// Readiness of an outside connection's host socket, as POLL bits.
fn outside_readiness(fd: &OwnedFd) -> u32 {
    match crate::host::poll_now(fd.as_fd(), libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP) {
        Ok(revents) => revents as u16 as u32,
        Err(_) => POLLERR,
    }
}

/// What the cloud's DNS says of `name` (lowercase, no final dot).
fn lookup(s: &NetState, name: &str) -> Lookup {
    if let Some((a, _)) = s.imports.get(name) {
        return Lookup::Found(vec![*a]);
    }
    let Some(rest) = name.strip_suffix(".internal") else {
        return if name == "internal" { Lookup::NoSuchName } else { Lookup::NotOurs };
    };
    let machine = |m: &str| s.names.values().find(|(n, _)| n == m).map(|(_, a)| *a);
    let found =
        if rest.contains('.') { None } else { machine(rest).or_else(|| s.services.get(rest).and_then(|m| machine(m))) };
    match found {
        Some(a) => Lookup::Found(vec![a]),
        None => Lookup::NoSuchName,
    }
}

fn readiness(s: &mut NetState, id: u64) -> u32 {
    settle(s, id);
    let Some(k) = s.socks.get(&id) else { return POLLERR | POLLHUP };
    let (machine, shut_rd, error) = (k.machine, k.shut_rd, k.error.is_some());
    let handles: Vec<SocketHandle> = match &k.kind {
        Kind::Listen { outside, .. } if !outside.is_empty() => return POLLIN,
        Kind::Listen { handles, .. } => handles.clone(),
        Kind::Outside { fd: None, .. } if error => return POLLOUT | POLLERR | POLLHUP,
        Kind::Outside { fd: None, .. } => return 0,
        Kind::Outside { fd: Some(fd), .. } => {
            let mut r = outside_readiness(fd) | if shut_rd { POLLIN } else { 0 };
            // A machine past its rate cannot send until tokens come back.
            if s.out_rate.get_mut(&machine).is_some_and(|rate| rate.available() <= 0.0) {
                r &= !POLLOUT;
            }
            return r;
        }
        Kind::Stream { handle, .. } => vec![*handle],
        Kind::Fresh if k.udp => return POLLOUT,
        Kind::Fresh => return POLLOUT | POLLHUP,
        &Kind::Dgram { handle } => {
            let peer = k.peer;
            let Some(st) = s.stacks.get_mut(&machine) else { return POLLERR | POLLHUP };
            let u = st.udp(handle);
            let mut r = if u.can_send() { POLLOUT } else { 0 };
            if shut_rd || next_datagram(u, peer).is_some() {
                r |= POLLIN;
            }
            return r;
        }
    };
    let listening = matches!(k.kind, Kind::Listen { .. });
    let connecting = matches!(k.kind, Kind::Stream { connecting: true, .. });
    let Some(st) = s.stacks.get_mut(&machine) else { return POLLERR | POLLHUP };
    if listening {
        let ready = handles.iter().any(|h| acceptable(st.tcp(*h)));
        return if ready { POLLIN } else { 0 };
    }
    let t = st.tcp(handles[0]);
    if error || (connecting && t.state() == tcp::State::Closed) {
        return POLLOUT | POLLERR | POLLHUP;
    }
    if connecting && !t.may_send() {
        return 0;
    }
    let mut r = 0;
    if t.can_recv() || !t.may_recv() || shut_rd {
        r |= POLLIN;
    }
    if t.can_send() {
        r |= POLLOUT;
    }
    if !t.may_recv() {
        r |= POLLRDHUP;
    }
    if !t.is_open() {
        r |= POLLHUP;
    }
    r
}

/// A connecting socket whose handshake is over is connected from then on,
/// whether or not the guest calls connect() again to ask.
fn settle(s: &mut NetState, id: u64) {
    let NetState { socks, stacks, .. } = s;
    let Some(k) = socks.get_mut(&id) else { return };
    if let Kind::Stream { handle, connecting } = &mut k.kind {
        let state = stacks.get_mut(&k.machine).map(|st| st.tcp(*handle).state());
        let pending = matches!(state, Some(tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Closed));
        if *connecting && !pending {
            *connecting = false;
        }
    }
}

/// The size of the next datagram `u` holds for a socket connected to
/// `peer` (None: from anyone); datagrams from other sources are dropped, as
/// Linux never queues them for a connected socket.
fn next_datagram(u: &mut udp::Socket<'static>, peer: Option<Endpoint>) -> Option<usize> {
    loop {
        let (len, from) = match u.peek() {
            Ok((data, meta)) => (data.len(), v4(meta.endpoint)),
            Err(_) => return None,
        };
        match peer {
            Some(p) if p != from => {
                let _ = u.recv();
            }
            _ => return Some(len),
        }
    }
}

/// What one receive gave: bytes copied, the whole message's length (longer
/// for a truncated datagram) and its source (for UDP).
pub struct Received {
    pub len: usize,
    pub full: usize,
    pub from: Option<Endpoint>,
}

/// A listening smoltcp socket that holds a connection to hand to accept().
fn acceptable(t: &tcp::Socket<'_>) -> bool {
    matches!(t.state(), tcp::State::Established | tcp::State::CloseWait)
}

/// An IPv4 address and port.
pub type Endpoint = (Ipv4Address, u16);

fn v4(ep: IpEndpoint) -> Endpoint {
    match ep.addr {
        IpAddress::Ipv4(a) => (a, ep.port),
    }
}

/// A guest's TCP socket: a file whose calls go to its cloud's network.
pub struct NetSocket {
    net: Arc<CloudNet>,
    id: u64,
    wake: Arc<OwnedFd>,
    /// Made as AF_INET6: addresses go to and from the guest as IPv6.
    pub v6: bool,
    /// A UDP socket.
    pub udp: bool,
}

impl NetSocket {
    /// Runs `f` on the locked network, then moves packets and wakes sockets.
    /// A panic inside the stack (guest traffic reaching a bug in smoltcp)
    /// takes the cloud's network down, never the machine: ENETDOWN from then on.
    fn with<T>(&self, f: impl FnOnce(&mut NetState, &mut Sock) -> Result<T, Errno>) -> Result<T, Errno> {
        let mut s = self.net.lock();
        if s.stopped {
            return Err(Errno::ENETDOWN);
        }
        let mut k = s.socks.remove(&self.id).ok_or(Errno::EBADF)?;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let r = f(&mut s, &mut k);
            step(&mut s);
            r
        }));
        s.socks.insert(self.id, k);
        let r = r.unwrap_or_else(|_| {
            s.stopped = true;
            Err(Errno::ENETDOWN)
        });
        if s.stopped {
            self.net.kick.notify_all();
        } else {
            kick_driver(&self.net, &mut s);
        }
        r
    }

    /// The socket's current readiness (POLL* bits); drains the wake fd so
    /// the next change wakes waiters again.
    pub fn poll_now(&self) -> u32 {
        crate::host::drain(self.wake.as_fd());
        let mut s = self.net.lock();
        let r = readiness(&mut s, self.id);
        if let Some(k) = s.socks.get_mut(&self.id) {
            k.last = r;
        }
        r
    }

    pub fn bind(&self, addr: Ipv4Address, port: u16) -> Result<(), Errno> {
        self.with(|s, k| {
            if k.local.is_some() {
                return Err(Errno::EINVAL);
            }
            let own = s.stacks.get(&k.machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)?;
            if !(addr.is_unspecified() || addr == own || addr.is_loopback()) {
                return Err(Errno::EADDRNOTAVAIL);
            }
            let port = if port == 0 { ephemeral(s, k.machine, k.udp)? } else { port };
            let clash = s.socks.values().any(|o| {
                o.machine == k.machine
                    && o.udp == k.udp
                    && o.local.is_some_and(|(_, p)| p == port)
                    && (matches!(o.kind, Kind::Listen { .. }) || !(o.reuse && k.reuse))
            });
            if clash {
                return Err(Errno::EADDRINUSE);
            }
            k.local = Some((addr, port));
            if k.udp {
                udp_bound(s, k)?;
            }
            Ok(())
        })
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        self.with(|s, k| {
            if k.udp {
                return Err(Errno::EOPNOTSUPP);
            }
            if matches!(k.kind, Kind::Stream { .. }) {
                return Err(Errno::EINVAL);
            }
            if k.local.is_none() {
                let port = ephemeral(s, k.machine, false)?;
                k.local = Some((Ipv4Address::UNSPECIFIED, port));
            }
            let (_, port) = k.local.ok_or(Errno::EINVAL)?;
            let want = (backlog.max(1) as usize).min(MAX_BACKLOG);
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            let handles = match &mut k.kind {
                Kind::Listen { handles, .. } => handles,
                kind => {
                    *kind = Kind::Listen { handles: Vec::new(), outside: VecDeque::new() };
                    let Kind::Listen { handles, .. } = kind else { return Err(Errno::EINVAL) };
                    handles
                }
            };
            while handles.len() < want {
                let h = st.tcp_socket(BUF);
                st.tcp(h).listen(port).map_err(|_| Errno::EADDRINUSE)?;
                handles.push(h);
            }
            Ok(())
        })
    }

    /// Takes an established connection off the listener.
    pub fn accept(&self) -> Result<(NetSocket, (Ipv4Address, u16)), Errno> {
        if let Some(r) = self.accept_outside() {
            return r;
        }
        let (machine, handle, peer, local) = self.with(|s, k| {
            let Kind::Listen { handles, .. } = &mut k.kind else { return Err(Errno::EINVAL) };
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            let i = handles.iter().position(|h| acceptable(st.tcp(*h))).ok_or(Errno::EAGAIN)?;
            let h = handles.remove(i);
            let (_, port) = k.local.ok_or(Errno::EINVAL)?;
            // A fresh listener takes its place.
            let fresh = st.tcp_socket(BUF);
            st.tcp(fresh).listen(port).map_err(|_| Errno::ENOBUFS)?;
            handles.push(fresh);
            let t = st.tcp(h);
            let peer = t.remote_endpoint().map(v4).unwrap_or((Ipv4Address::UNSPECIFIED, 0));
            let local = t.local_endpoint().map(v4).unwrap_or((Ipv4Address::UNSPECIFIED, port));
            Ok((k.machine, h, peer, local))
        })?;
        let sock = self.net.socket(machine, self.v6, false)?;
        sock.with(|_, k| {
            k.kind = Kind::Stream { handle, connecting: false };
            k.local = Some(local);
            Ok(())
        })?;
        Ok((sock, peer))
    }

    /// Takes a connection handed in from outside, if the listener holds one.
    fn accept_outside(&self) -> Option<Result<(NetSocket, Endpoint), Errno>> {
        let got = self.with(|s, k| {
            let Kind::Listen { outside, .. } = &mut k.kind else { return Err(Errno::EINVAL) };
            let Some((fd, peer)) = outside.pop_front() else { return Ok(None) };
            let own = s.stacks.get(&k.machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)?;
            let port = k.local.map(|(_, p)| p).unwrap_or(0);
            Ok(Some((k.machine, fd, peer, (own, port))))
        });
        let (machine, fd, peer, local) = match got {
            Ok(Some(g)) => g,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        Some((|| {
            let sock = self.net.socket(machine, self.v6, false)?;
            let poller = {
                let mut s = self.net.lock();
                self.net.start_poller(&mut s)?;
                s.poller.clone()
            };
            let fd = watch(&poller, fd, sock.id)?;
            sock.with(|_, k| {
                k.kind = Kind::Outside { fd: Some(fd), dial: 0, peer, connecting: false };
                k.local = Some(local);
                Ok(())
            })?;
            Ok((sock, peer))
        })())
    }

    /// Starts (or checks on) a connection to `to:port`: Ok once connected,
    /// EINPROGRESS while it is being made, the failure once it failed.
    pub fn connect(&self, to: Ipv4Address, port: u16) -> Result<(), Errno> {
        self.with(|s, k| {
            if k.udp {
                reachable(s, k.machine, to)?;
                udp_bound(s, k)?;
                k.peer = Some((to, port));
                if let Some((addr, _)) = k.local.as_mut().filter(|(a, _)| a.is_unspecified()) {
                    *addr = source_for(s, k.machine, to)?;
                }
                return Ok(());
            }
            match &mut k.kind {
                Kind::Listen { .. } => return Err(Errno::EINVAL),
                Kind::Stream { handle, connecting } => {
                    let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
                    let t = st.tcp(*handle);
                    if let Some(e) = k.error.take() {
                        return Err(e);
                    }
                    if *connecting && t.state() == tcp::State::Closed {
                        *connecting = false;
                        return Err(Errno::ECONNREFUSED);
                    }
                    if *connecting && !t.may_send() {
                        return Err(Errno::EALREADY);
                    }
                    let was = *connecting;
                    *connecting = false;
                    return if was { Ok(()) } else { Err(Errno::EISCONN) };
                }
                Kind::Outside { fd, connecting, .. } => {
                    if let Some(e) = k.error.take() {
                        *connecting = false;
                        return Err(e);
                    }
                    if fd.is_none() {
                        return Err(Errno::EALREADY);
                    }
                    let was = *connecting;
                    *connecting = false;
                    return if was { Ok(()) } else { Err(Errno::EISCONN) };
                }
                Kind::Dgram { .. } | Kind::Fresh => {}
            }
            if let Some(target) = outside_target(s, to, port) {
                return dial(s, k, target?, (to, port));
            }
            reachable(s, k.machine, to)?;
            let own = s.stacks.get(&k.machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)?;
            if !(to.is_loopback() || to == own || s.network.has(to)) {
                return Err(Errno::EHOSTUNREACH);
            }
            let local_port = match k.local {
                Some((_, p)) => p,
                None => ephemeral(s, k.machine, false)?,
            };
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            let h = st.tcp_socket(BUF);
            st.tcp(h).set_nagle_enabled(false);
            if st.tcp_connect(h, to, port, local_port).is_err() {
                st.sockets.remove(h);
                return Err(Errno::EADDRNOTAVAIL);
            }
            let from = if to.is_loopback() { Ipv4Address::LOCALHOST } else { own };
            k.local = Some((from, local_port));
            k.kind = Kind::Stream { handle: h, connecting: true };
            Err(Errno::EINPROGRESS)
        })
    }

    /// Dissolves a UDP socket's association (connect with AF_UNSPEC).
    pub fn disconnect(&self) -> Result<(), Errno> {
        self.with(|_, k| {
            if !k.udp {
                // TCP would abort the connection; not supported here.
                return Err(Errno::EOPNOTSUPP);
            }
            k.peer = None;
            Ok(())
        })
    }

    fn stream<T>(&self, f: impl FnOnce(&mut tcp::Socket<'static>, &mut Sock) -> Result<T, Errno>) -> Result<T, Errno> {
        self.with(|s, k| {
            let Kind::Stream { handle, .. } = k.kind else { return Err(Errno::ENOTCONN) };
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            f(st.tcp(handle), k)
        })
    }

    /// An outside connection's host socket (None: not an outside connection;
    /// EAGAIN while it is being dialled).
    fn outside(&self) -> Option<Result<(Arc<OwnedFd>, bool), Errno>> {
        let s = self.net.lock();
        let k = s.socks.get(&self.id)?;
        match &k.kind {
            Kind::Outside { fd: Some(fd), .. } => Some(Ok((fd.clone(), k.shut_rd))),
            Kind::Outside { fd: None, .. } if k.error.is_some() => Some(Err(Errno::ENOTCONN)),
            Kind::Outside { fd: None, .. } => Some(Err(Errno::EAGAIN)),
            _ => None,
        }
    }

    fn count_outside(&self, rx: u64, tx: u64) {
        let mut s = self.net.lock();
        let Some(m) = s.socks.get(&self.id).map(|k| k.machine) else { return };
        let e = s.outside_bytes.entry(m).or_default();
        e.0 += rx;
        e.1 += tx;
        if let Some(r) = s.out_rate.get_mut(&m) {
            r.tokens -= tx as f64;
        }
    }

    /// Bytes this socket's machine may send out of the cloud now (EAGAIN
    /// while its rate is spent; the driver wakes the socket as it refills).
    fn outside_allowance(&self) -> Result<usize, Errno> {
        let mut s = self.net.lock();
        let Some(m) = s.socks.get(&self.id).map(|k| k.machine) else { return Ok(usize::MAX) };
        match s.out_rate.get_mut(&m).map(|r| r.available()) {
            Some(t) if t <= 0.0 => Err(Errno::EAGAIN),
            Some(t) => Ok(t as usize),
            None => Ok(usize::MAX),
        }
    }

    /// Receives into `buf`: EAGAIN when nothing is there yet, 0 at the end.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> Result<Received, Errno> {
        if self.udp {
            return self.recv_datagram(buf, peek);
        }
        if let Some(o) = self.outside() {
            let (fd, shut_rd) = o?;
            if shut_rd || buf.is_empty() {
                return Ok(Received { len: 0, full: 0, from: None });
            }
            let flags = libc::MSG_DONTWAIT | if peek { libc::MSG_PEEK } else { 0 };
            let n = crate::host::recv(std::os::fd::AsRawFd::as_raw_fd(&*fd), buf, flags)?;
            if !peek {
                self.count_outside(n as u64, 0);
            }
            return Ok(Received { len: n, full: n, from: None });
        }
        self.stream(|t, k| {
            let n = |len| Received { len, full: len, from: None };
            if buf.is_empty() || k.shut_rd {
                return Ok(n(0));
            }
            if t.can_recv() {
                let r = if peek { t.peek_slice(buf) } else { t.recv_slice(buf) };
                return r.map(n).map_err(|_| Errno::ECONNRESET);
            }
            if !t.may_recv() {
                return if t.state() == tcp::State::Closed && k.error.is_some() {
                    Err(Errno::ECONNRESET)
                } else {
                    Ok(n(0))
                };
            }
            Err(Errno::EAGAIN)
        })
    }

    /// Takes (or, with `peek`, copies) the next datagram, cut to `buf`.
    fn recv_datagram(&self, buf: &mut [u8], peek: bool) -> Result<Received, Errno> {
        self.with(|s, k| {
            let Kind::Dgram { handle } = k.kind else {
                return if k.shut_rd { Ok(Received { len: 0, full: 0, from: None }) } else { Err(Errno::EAGAIN) };
            };
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            let u = st.udp(handle);
            if next_datagram(u, k.peer).is_none() {
                return if k.shut_rd { Ok(Received { len: 0, full: 0, from: None }) } else { Err(Errno::EAGAIN) };
            }
            let copy = |data: &[u8], from: IpEndpoint, buf: &mut [u8]| {
                let len = data.len().min(buf.len());
                buf[..len].copy_from_slice(&data[..len]);
                Received { len, full: data.len(), from: Some(v4(from)) }
            };
            let r = if peek {
                u.peek().map(|(data, meta)| copy(data, meta.endpoint, buf))
            } else {
                u.recv().map(|(data, meta)| copy(data, meta.endpoint, buf))
            };
            r.map_err(|_| Errno::EAGAIN)
        })
    }

    /// Sends from `buf` (to `to`, for UDP: else to the connected peer):
    /// EAGAIN when the buffer is full, EPIPE once the sending side is closed.
    pub fn send(&self, buf: &[u8], to: Option<Endpoint>) -> Result<usize, Errno> {
        if self.udp {
            return self.send_datagram(buf, to);
        }
        if let Some(o) = self.outside() {
            let (fd, _) = o?;
            if buf.is_empty() {
                return Ok(0);
            }
            let raw = std::os::fd::AsRawFd::as_raw_fd(&*fd);
            let buf = &buf[..buf.len().min(self.outside_allowance()?.max(1))];
            let n = crate::host::send(raw, buf, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
                .map_err(|e| if e == Errno::ECONNRESET { Errno::EPIPE } else { e })?;
            self.count_outside(0, n as u64);
            return Ok(n);
        }
        self.stream(|t, _| {
            if !t.may_send() {
                return if matches!(t.state(), tcp::State::SynSent | tcp::State::SynReceived) {
                    Err(Errno::EAGAIN)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            if buf.is_empty() {
                return Ok(0);
            }
            match t.send_slice(buf) {
                Ok(0) => Err(Errno::EAGAIN),
                Ok(n) => Ok(n),
                Err(_) => Err(Errno::EPIPE),
            }
        })
    }

    fn send_datagram(&self, buf: &[u8], to: Option<Endpoint>) -> Result<usize, Errno> {
        self.with(|s, k| {
            let (addr, port) = to.or(k.peer).ok_or(Errno::EDESTADDRREQ)?;
            if k.shut_wr {
                return Err(Errno::EPIPE);
            }
            if buf.len() > MAX_DATAGRAM {
                return Err(Errno::EMSGSIZE);
            }
            if port == 0 {
                return Err(Errno::EINVAL);
            }
            reachable(s, k.machine, addr)?;
            let from = source_for(s, k.machine, addr)?;
            let handle = udp_bound(s, k)?;
            let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
            let meta = udp::UdpMetadata {
                endpoint: IpEndpoint::new(IpAddress::Ipv4(addr), port),
                local_address: Some(IpAddress::Ipv4(from)),
                meta: Default::default(),
            };
            match st.udp(handle).send_slice(buf, meta) {
                Ok(()) => Ok(buf.len()),
                Err(udp::SendError::BufferFull) => Err(Errno::EAGAIN),
                Err(udp::SendError::Unaddressable) => Err(Errno::EINVAL),
            }
        })
    }

    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if let Some(o) = self.outside() {
            let (fd, _) = o.map_err(|_| Errno::ENOTCONN)?;
            crate::host::shutdown(std::os::fd::AsRawFd::as_raw_fd(&*fd), how)?;
            if how == libc::SHUT_RD || how == libc::SHUT_RDWR {
                let mut s = self.net.lock();
                if let Some(k) = s.socks.get_mut(&self.id) {
                    k.shut_rd = true;
                }
            }
            return Ok(());
        }
        if self.udp {
            return self.with(|_, k| {
                if k.peer.is_none() {
                    return Err(Errno::ENOTCONN);
                }
                k.shut_rd |= how == libc::SHUT_RD || how == libc::SHUT_RDWR;
                k.shut_wr |= how == libc::SHUT_WR || how == libc::SHUT_RDWR;
                Ok(())
            });
        }
        self.stream(|t, k| {
            if matches!(t.state(), tcp::State::Closed | tcp::State::SynSent | tcp::State::Listen) {
                return Err(Errno::ENOTCONN);
            }
            if how == libc::SHUT_RD || how == libc::SHUT_RDWR {
                k.shut_rd = true;
            }
            if how == libc::SHUT_WR || how == libc::SHUT_RDWR {
                t.close();
            }
            Ok(())
        })
    }

    /// (local, peer) addresses; the peer is None when not connected.
    pub fn names(&self) -> Result<(Endpoint, Option<Endpoint>), Errno> {
        self.with(|s, k| {
            let local = k.local.unwrap_or((Ipv4Address::UNSPECIFIED, 0));
            let peer = match k.kind {
                Kind::Stream { handle, .. } => {
                    s.stacks.get_mut(&k.machine).and_then(|st| st.tcp(handle).remote_endpoint()).map(v4)
                }
                Kind::Outside { fd: Some(_), peer, .. } => Some(peer),
                _ => k.peer,
            };
            Ok((local, peer))
        })
    }

    pub fn set_reuse(&self, on: bool) -> Result<(), Errno> {
        self.with(|_, k| {
            k.reuse = on;
            Ok(())
        })
    }

    pub fn set_nodelay(&self, on: bool) -> Result<(), Errno> {
        match self.stream(|t, _| {
            t.set_nagle_enabled(!on);
            Ok(())
        }) {
            Err(Errno::ENOTCONN) => Ok(()),
            r => r,
        }
    }

    /// SO_ERROR: the pending error, cleared by reading it.
    pub fn take_error(&self) -> Result<i32, Errno> {
        self.with(|s, k| {
            if let Some(e) = k.error.take() {
                return Ok(e.0);
            }
            if let Kind::Stream { handle, connecting } = &mut k.kind {
                let closed =
                    s.stacks.get_mut(&k.machine).is_some_and(|st| st.tcp(*handle).state() == tcp::State::Closed);
                // Reported once: Linux clears the error it returns.
                if *connecting && closed {
                    *connecting = false;
                    return Ok(Errno::ECONNREFUSED.0);
                }
            }
            Ok(0)
        })
    }

    pub fn listening(&self) -> bool {
        self.with(|_, k| Ok(matches!(k.kind, Kind::Listen { .. }))).unwrap_or(false)
    }

    pub fn reuse(&self) -> bool {
        self.with(|_, k| Ok(k.reuse)).unwrap_or(false)
    }
}

/// Where a TCP connection to `to:port` leaves the cloud's network: None
/// for an address inside it, ENETUNREACH for one outside that is neither a
/// granted import nor on the egress allowlist (nor anything with no dialer).
fn outside_target(s: &NetState, to: Ipv4Address, port: u16) -> Option<Result<DialTarget, Errno>> {
    if to.is_loopback() || s.network.subnet().contains_addr(&to) {
        return None;
    }
    if s.dialer.is_none() {
        return Some(Err(Errno::ENETUNREACH));
    }
    if to == METADATA {
        return Some(if port == 80 { Ok(DialTarget::Metadata) } else { Err(Errno::ECONNREFUSED) });
    }
    if IMPORTS.contains_addr(&to) {
        let Some((_, i)) = s.imports.values().find(|(a, _)| *a == to) else { return Some(Err(Errno::EHOSTUNREACH)) };
        if i.port != port {
            return Some(Err(Errno::ECONNREFUSED));
        }
        return Some(Ok(DialTarget::Service { cloud: i.cloud.clone(), service: i.service.clone(), port }));
    }
    if s.egress.iter().any(|&(a, p)| a == to && (p == 0 || p == port)) {
        return Some(Ok(DialTarget::Egress { addr: to, port }));
    }
    Some(Err(Errno::ENETUNREACH))
}

/// Asks the daemon for an outside connection; the socket connects when it answers.
fn dial(s: &mut NetState, k: &mut Sock, target: DialTarget, peer: Endpoint) -> Result<(), Errno> {
    let dialer = s.dialer.clone().ok_or(Errno::ENETUNREACH)?;
    let machine = s.names.get(&k.machine).map(|(n, _)| n.clone()).ok_or(Errno::ENETDOWN)?;
    let own = s.stacks.get(&k.machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)?;
    let port = match k.local {
        Some((_, p)) => p,
        None => ephemeral(s, k.machine, false)?,
    };
    let id = s.next_dial;
    s.next_dial += 1;
    k.local = Some((own, port));
    k.kind = Kind::Outside { fd: None, dial: id, peer, connecting: true };
    dialer(id, &machine, &target);
    Err(Errno::EINPROGRESS)
}

/// Whether machine `machine` has a route to `to`: its own addresses and
/// its cloud's subnet; nothing outside (ENETUNREACH).
fn reachable(s: &NetState, machine: u32, to: Ipv4Address) -> Result<(), Errno> {
    let own = s.stacks.get(&machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)?;
    if to.is_loopback() || to == own || s.network.subnet().contains_addr(&to) {
        Ok(())
    } else {
        Err(Errno::ENETUNREACH)
    }
}

/// The address machine `machine` sends to `to` from.
fn source_for(s: &NetState, machine: u32, to: Ipv4Address) -> Result<Ipv4Address, Errno> {
    if to.is_loopback() {
        return Ok(Ipv4Address::LOCALHOST);
    }
    s.stacks.get(&machine).map(|st| st.addr()).ok_or(Errno::ENETDOWN)
}

/// The smoltcp socket of UDP socket `k`, made and bound now if it has none
/// (to its address, or to an ephemeral port as Linux does on first use).
fn udp_bound(s: &mut NetState, k: &mut Sock) -> Result<SocketHandle, Errno> {
    if let Kind::Dgram { handle } = k.kind {
        return Ok(handle);
    }
    let (addr, port) = match k.local {
        Some(l) => l,
        None => (Ipv4Address::UNSPECIFIED, ephemeral(s, k.machine, true)?),
    };
    let st = s.stacks.get_mut(&k.machine).ok_or(Errno::ENETDOWN)?;
    let h = st.udp_socket(UDP_PACKETS, UDP_BUF);
    let at = if addr.is_unspecified() { None } else { Some(IpAddress::Ipv4(addr)) };
    if st.udp(h).bind(IpListenEndpoint { addr: at, port }).is_err() {
        st.sockets.remove(h);
        return Err(Errno::EINVAL);
    }
    k.local = Some((addr, port));
    k.kind = Kind::Dgram { handle: h };
    Ok(h)
}

/// A free local port of the machine (for UDP or for TCP).
fn ephemeral(s: &mut NetState, machine: u32, udp: bool) -> Result<u16, Errno> {
    let span = (EPHEMERAL.end() - EPHEMERAL.start()) as u32 + 1;
    // Like Linux, start somewhere random: ports are not a sequence a guest
    // can predict (or collide with itself on).
    let start = *s.next_port.entry(machine).or_insert_with(|| {
        let mut b = [0u8; 4];
        let _ = crate::host::getrandom(&mut b);
        EPHEMERAL.start() + (u32::from_le_bytes(b) % span) as u16
    });
    for i in 0..span {
        let p = EPHEMERAL.start() + ((start - EPHEMERAL.start()) as u32 + i).rem_euclid(span) as u16;
        if !s.socks.values().any(|o| o.machine == machine && o.udp == udp && o.local.is_some_and(|(_, q)| q == p)) {
            let next = if p == *EPHEMERAL.end() { *EPHEMERAL.start() } else { p + 1 };
            s.next_port.insert(machine, next);
            return Ok(p);
        }
    }
    Err(Errno::EADDRNOTAVAIL)
}

impl Drop for NetSocket {
    fn drop(&mut self) {
        let mut s = self.net.lock();
        let k = s.socks.remove(&self.id);
        if let Some((k, st)) = k.and_then(|k| s.stacks.get_mut(&k.machine).map(|st| (k, st))) {
            match k.kind {
                Kind::Listen { handles, .. } => {
                    for h in handles {
                        st.sockets.remove(h);
                    }
                }
                // Sent data still goes out: the connection closes gracefully,
                // and the socket is reaped once closed.
                Kind::Stream { handle, .. } => {
                    // As Linux: closing with unread data resets the connection.
                    let t = st.tcp(handle);
                    if t.recv_queue() > 0 {
                        t.abort();
                    } else {
                        t.close();
                    }
                    s.orphans.push((k.machine, handle));
                }
                Kind::Dgram { handle } => {
                    st.sockets.remove(handle);
                }
                // Shut down, not just closed: the daemon holds the socket
                // too (to cut it on revocation); the peer must see the end.
                Kind::Outside { fd: Some(fd), .. } => {
                    let _ = crate::host::shutdown(std::os::fd::AsRawFd::as_raw_fd(&*fd), libc::SHUT_RDWR);
                    // The daemon's duplicate keeps the socket alive: leave the poller now.
                    let _ = crate::host::epoll_ctl(s.poller.as_fd(), libc::EPOLL_CTL_DEL, fd.as_fd(), 0, 0);
                }
                Kind::Fresh | Kind::Outside { .. } => {}
            }
        }
        step(&mut s);
        kick_driver(&self.net, &mut s);
    }
}

impl File for NetSocket {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.recv(buf, false).map(|r| r.len)
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        self.send(buf, None)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::vfs::synth_stat(&format!("socket:[{}]", self.id), libc::S_IFSOCK | 0o777))
    }
    fn path(&self) -> String {
        format!("socket:[{}]", self.id)
    }
    fn readiness(&self) -> Option<(u32, BorrowedFd<'_>)> {
        Some((self.poll_now(), self.wake.as_fd()))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
