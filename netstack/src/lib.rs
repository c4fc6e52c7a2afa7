//! The per-cloud virtual network of wisp machines, in userspace on smoltcp.
//!
//! A `Network` is one cloud's private IPv4 network: a subnet (by default a
//! /24 inside 100.64.0.0/10, which does not clash with a host's RFC 1918
//! networks) and an in-process switch. Each machine attaches a `Nic`, which
//! gets the next free address, and runs a `Stack` (a smoltcp interface and
//! its sockets) over it. The switch delivers IP packets by destination
//! address to the NIC that owns it; anything else is dropped and counted.
//! Networks share nothing: a machine can reach only the addresses of its own
//! network, whatever it puts in a packet.
//!
//! This crate is the network alone; the guest socket calls that drive a
//! `Stack` live in the kernel crate (issue 6 is in progress: see
//! docs/network.md).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

pub use smoltcp;

pub mod dns;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv4Cidr, Ipv4Packet};

/// Largest IP packet on the virtual wire: no physical link to fit, so as
/// large as IPv4 allows (fewer packets, faster bulk transfer).
pub const MTU: usize = 65535;
/// Packets a NIC may have queued before the switch drops more (a receiver
/// that does not keep up slows its senders through TCP, not host memory).
pub const QUEUE_LIMIT: usize = 256;

#[derive(Debug, PartialEq, Eq)]
pub enum NetError {
    /// Every address of the subnet is taken.
    SubnetFull,
    /// The subnet is too small to hold a gateway and a machine.
    BadSubnet,
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::SubnetFull => write!(f, "no free address left in the subnet"),
            NetError::BadSubnet => write!(f, "the subnet must be a /8 to /30 IPv4 network"),
        }
    }
}

impl std::error::Error for NetError {}

/// Counters of one network's switch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SwitchStats {
    pub delivered: u64,
    /// Packets for an address no NIC of this network owns.
    pub unroutable: u64,
    /// Packets dropped because the receiver's queue was full.
    pub overflow: u64,
    /// Packets that are not well-formed IPv4.
    pub malformed: u64,
}

struct Port {
    queue: VecDeque<Vec<u8>>,
    /// Bytes of IP packets this NIC received and sent (loopback not counted).
    rx_bytes: u64,
    tx_bytes: u64,
}

impl Port {
    fn new() -> Port {
        Port { queue: VecDeque::new(), rx_bytes: 0, tx_bytes: 0 }
    }
}

struct Switch {
    subnet: Ipv4Cidr,
    ports: HashMap<Ipv4Address, Port>,
    /// Host part of the next address to try.
    next: u32,
    stats: SwitchStats,
}

/// One cloud's network.
#[derive(Clone)]
pub struct Network {
    switch: Arc<Mutex<Switch>>,
}

fn host_bits(subnet: &Ipv4Cidr) -> u32 {
    32 - subnet.prefix_len() as u32
}

impl Network {
    /// A network on `subnet`; its first address is the gateway's, machines
    /// get the following ones.
    pub fn new(subnet: Ipv4Cidr) -> Result<Network, NetError> {
        if !(8..=30).contains(&subnet.prefix_len()) {
            return Err(NetError::BadSubnet);
        }
        let subnet = Ipv4Cidr::new(subnet.network().address(), subnet.prefix_len());
        let switch = Switch { subnet, ports: HashMap::new(), next: 2, stats: SwitchStats::default() };
        Ok(Network { switch: Arc::new(Mutex::new(switch)) })
    }

    fn lock(&self) -> MutexGuard<'_, Switch> {
        self.switch.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subnet(&self) -> Ipv4Cidr {
        self.lock().subnet
    }

    /// The gateway's address (the subnet's first), where DNS and metadata
    /// will answer.
    pub fn gateway(&self) -> Ipv4Address {
        let s = self.lock();
        Ipv4Address::from_bits(s.subnet.network().address().to_bits() + 1)
    }

    /// Attaches the gateway's NIC (the subnet's first address), where the
    /// cloud's DNS server answers.
    pub fn attach_gateway(&self) -> Result<Nic, NetError> {
        let addr = self.gateway();
        let mut s = self.lock();
        match s.ports.entry(addr) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Port::new());
                Ok(Nic { addr, net: self.clone(), rate: None })
            }
            std::collections::hash_map::Entry::Occupied(_) => Err(NetError::SubnetFull),
        }
    }

    /// Attaches a new NIC with the next free address.
    pub fn attach(&self) -> Result<Nic, NetError> {
        let mut s = self.lock();
        let base = s.subnet.network().address().to_bits();
        // Host parts 2 ..= size-2 (0 is the network, 1 the gateway, the last broadcast).
        let size = 1u64 << host_bits(&s.subnet);
        let usable = size.saturating_sub(3);
        for _ in 0..usable {
            let host = s.next;
            s.next = if u64::from(host) + 1 >= size - 1 { 2 } else { host + 1 };
            let addr = Ipv4Address::from_bits(base + host);
            if let std::collections::hash_map::Entry::Vacant(e) = s.ports.entry(addr) {
                e.insert(Port::new());
                return Ok(Nic { addr, net: self.clone(), rate: None });
            }
        }
        Err(NetError::SubnetFull)
    }

    pub fn stats(&self) -> SwitchStats {
        self.lock().stats
    }

    /// Whether some NIC of this network owns `addr`.
    pub fn has(&self, addr: Ipv4Address) -> bool {
        self.lock().ports.contains_key(&addr)
    }

    /// Delivers one IP packet from the NIC `from` to the NIC owning its
    /// destination; loopback (127.0.0.0/8) goes back to `from` itself.
    fn deliver(&self, from: Ipv4Address, packet: Vec<u8>) {
        let mut s = self.lock();
        let (dst, looped) = match Ipv4Packet::new_checked(&packet[..]) {
            Ok(p) if p.dst_addr().is_loopback() => (from, true),
            Ok(p) => (p.dst_addr(), false),
            Err(_) => {
                s.stats.malformed += 1;
                return;
            }
        };
        let len = packet.len() as u64;
        let Switch { ports, stats, .. } = &mut *s;
        if !looped && let Some(src) = ports.get_mut(&from) {
            src.tx_bytes += len;
        }
        match ports.get_mut(&dst) {
            Some(port) if port.queue.len() >= QUEUE_LIMIT => stats.overflow += 1,
            Some(port) => {
                port.queue.push_back(packet);
                if !looped {
                    port.rx_bytes += len;
                }
                stats.delivered += 1;
            }
            None => stats.unroutable += 1,
        }
    }

    /// Bytes NIC `addr` received and sent to other NICs: (rx, tx).
    pub fn bytes(&self, addr: Ipv4Address) -> (u64, u64) {
        self.lock().ports.get(&addr).map(|p| (p.rx_bytes, p.tx_bytes)).unwrap_or_default()
    }

    fn take(&self, addr: Ipv4Address) -> Option<Vec<u8>> {
        self.lock().ports.get_mut(&addr)?.queue.pop_front()
    }

    fn detach(&self, addr: Ipv4Address) {
        self.lock().ports.remove(&addr);
    }
}

/// A machine's port on its network; detached when dropped.
pub struct Nic {
    addr: Ipv4Address,
    net: Network,
    rate: Option<Bucket>,
}

/// A token bucket limiting what a NIC sends: bytes per second, with a
/// burst of 1/20 s (at least 64 KiB).
struct Bucket {
    per_sec: f64,
    tokens: f64,
    burst: f64,
    at: Instant,
}

impl Nic {
    pub fn addr(&self) -> Ipv4Address {
        self.addr
    }

    /// Limits what this NIC sends to `bytes_per_sec` (0: no limit).
    pub fn set_rate(&mut self, bytes_per_sec: u64) {
        self.rate = (bytes_per_sec > 0).then(|| {
            let burst = (bytes_per_sec as f64 / 20.0).max(65536.0);
            Bucket { per_sec: bytes_per_sec as f64, tokens: burst, burst, at: Instant::from_micros(0) }
        });
    }

    /// Whether packets wait in this NIC's queue.
    pub fn pending(&self) -> bool {
        self.net.lock().ports.get(&self.addr).is_some_and(|p| !p.queue.is_empty())
    }

    /// Whether the limit holds packets back now (the stack needs a poll soon).
    pub fn throttled(&self) -> bool {
        self.rate.as_ref().is_some_and(|b| b.tokens <= 0.0)
    }

    fn may_send(&mut self, now: Instant) -> bool {
        let Some(b) = &mut self.rate else { return true };
        let dt = (now - b.at).total_micros() as f64 / 1e6;
        if now > b.at {
            b.tokens = (b.tokens + dt * b.per_sec).min(b.burst);
            b.at = now;
        }
        b.tokens > 0.0
    }
}

impl Drop for Nic {
    fn drop(&mut self) {
        self.net.detach(self.addr);
    }
}

pub struct NicRx(Vec<u8>);
pub struct NicTx<'a>(Option<&'a mut Bucket>, &'a Network, Ipv4Address);

impl smoltcp::phy::RxToken for NicRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl smoltcp::phy::TxToken for NicTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        // Loopback stays inside the machine: not charged to its rate.
        let looped = Ipv4Packet::new_checked(&buf[..]).is_ok_and(|p| p.dst_addr().is_loopback());
        if let (Some(b), false) = (self.0, looped) {
            b.tokens -= len as f64;
        }
        self.1.deliver(self.2, buf);
        r
    }
}

impl Device for Nic {
    type RxToken<'a> = NicRx;
    type TxToken<'a> = NicTx<'a>;

    fn receive(&mut self, now: Instant) -> Option<(NicRx, NicTx<'_>)> {
        let packet = self.net.take(self.addr)?;
        // Answers to what arrives (ACKs) go out even when the rate is spent.
        self.may_send(now);
        Some((NicRx(packet), NicTx(self.rate.as_mut(), &self.net, self.addr)))
    }

    fn transmit(&mut self, now: Instant) -> Option<NicTx<'_>> {
        if !self.may_send(now) {
            return None;
        }
        Some(NicTx(self.rate.as_mut(), &self.net, self.addr))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = MTU;
        caps
    }
}

/// A machine's network stack: its interface, sockets and NIC.
pub struct Stack {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    nic: Nic,
}

impl Stack {
    /// A stack on `nic` with its address in the network's subnet and the
    /// gateway as default route.
    pub fn new(mut nic: Nic, now: Instant) -> Stack {
        let (addr, subnet, gateway) = (nic.addr, nic.net.subnet(), nic.net.gateway());
        let config = Config::new(HardwareAddress::Ip);
        let mut iface = Interface::new(config, &mut nic, now);
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(addr), subnet.prefix_len()));
            let _ = a.push(IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(gateway);
        Stack { iface, sockets: SocketSet::new(Vec::new()), nic }
    }

    pub fn addr(&self) -> Ipv4Address {
        self.nic.addr
    }

    /// Moves packets in and out and advances every socket; true when some
    /// socket's state may have changed.
    pub fn poll(&mut self, now: Instant) -> bool {
        self.iface.poll(now, &mut self.nic, &mut self.sockets) == smoltcp::iface::PollResult::SocketStateChanged
    }

    /// When the stack next needs a poll for its timers (None: only on traffic).
    pub fn poll_delay(&mut self, now: Instant) -> Option<smoltcp::time::Duration> {
        self.iface.poll_delay(now, &self.sockets)
    }

    /// Whether the NIC's rate limit holds packets back.
    pub fn throttled(&self) -> bool {
        self.nic.throttled()
    }

    /// Whether packets wait in this stack's queue.
    pub fn pending(&self) -> bool {
        self.nic.pending()
    }

    pub fn network(&self) -> &Network {
        &self.nic.net
    }

    /// A TCP socket with `buf` bytes of buffer each way.
    pub fn tcp_socket(&mut self, buf: usize) -> SocketHandle {
        let rx = tcp::SocketBuffer::new(vec![0u8; buf]);
        let tx = tcp::SocketBuffer::new(vec![0u8; buf]);
        self.sockets.add(tcp::Socket::new(rx, tx))
    }

    pub fn tcp(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    /// A UDP socket queueing up to `packets` datagrams and `buf` bytes each way.
    pub fn udp_socket(&mut self, packets: usize, buf: usize) -> SocketHandle {
        let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0u8; buf]);
        self.sockets.add(udp::Socket::new(buffer(), buffer()))
    }

    pub fn udp(&mut self, h: SocketHandle) -> &mut udp::Socket<'static> {
        self.sockets.get_mut::<udp::Socket>(h)
    }

    /// Connects TCP socket `h` to `to:port` from local port `local`.
    pub fn tcp_connect(
        &mut self,
        h: SocketHandle,
        to: Ipv4Address,
        port: u16,
        local: u16,
    ) -> Result<(), tcp::ConnectError> {
        let cx = self.iface.context();
        self.sockets.get_mut::<tcp::Socket>(h).connect(cx, (IpAddress::Ipv4(to), port), local)
    }
}

/// Moves `bytes` over TCP between two machines of one network, both stacks
/// polled on the calling thread with the real clock; returns the time it
/// took (for `wisp-bench network`).
pub fn transfer_time(bytes: usize) -> Result<std::time::Duration, String> {
    let start = std::time::Instant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as i64);
    let net = Network::new(Ipv4Cidr::new(Ipv4Address::new(100, 64, 0, 0), 24)).map_err(|e| e.to_string())?;
    let mut a = Stack::new(net.attach().map_err(|e| e.to_string())?, now());
    let mut b = Stack::new(net.attach().map_err(|e| e.to_string())?, now());
    let (server, client) = (b.tcp_socket(1 << 20), a.tcp_socket(1 << 20));
    b.tcp(server).listen(5001).map_err(|e| format!("{e:?}"))?;
    let to = b.addr();
    a.tcp_connect(client, to, 5001, 40000).map_err(|e| format!("{e:?}"))?;
    let chunk = vec![0x5au8; 256 << 10];
    let (mut sent, mut got) = (0usize, 0usize);
    let t0 = std::time::Instant::now();
    while got < bytes {
        if t0.elapsed() > std::time::Duration::from_secs(60) {
            return Err(format!("stalled after {got} of {bytes} bytes"));
        }
        if sent < bytes && a.tcp(client).can_send() {
            let n = (bytes - sent).min(chunk.len());
            sent += a.tcp(client).send_slice(&chunk[..n]).map_err(|e| format!("{e:?}"))?;
        }
        a.poll(now());
        b.poll(now());
        while b.tcp(server).can_recv() {
            let n = b.tcp(server).recv(|buf| (buf.len(), buf.len())).map_err(|e| format!("{e:?}"))?;
            if n == 0 {
                break;
            }
            got += n;
        }
    }
    Ok(t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::time::Duration;

    fn net(a: u8, b: u8) -> Network {
        Network::new(Ipv4Cidr::new(Ipv4Address::new(100, 64, a, b), 24)).unwrap()
    }

    /// Polls every stack, advancing the clock, until `done` or `rounds` run out.
    fn run(
        stacks: &mut [&mut Stack],
        clock: &mut Instant,
        rounds: usize,
        mut done: impl FnMut(&mut [&mut Stack]) -> bool,
    ) -> bool {
        for _ in 0..rounds {
            for s in stacks.iter_mut() {
                s.poll(*clock);
            }
            if done(stacks) {
                return true;
            }
            *clock += Duration::from_millis(1);
        }
        false
    }

    #[test]
    fn addresses_come_from_the_subnet_after_the_gateway_and_are_reused() {
        let n = Network::new(Ipv4Cidr::new(Ipv4Address::new(100, 64, 7, 9), 29)).unwrap();
        assert_eq!(n.subnet().network().address(), Ipv4Address::new(100, 64, 7, 8), "normalized to the network");
        assert_eq!(n.gateway(), Ipv4Address::new(100, 64, 7, 9));
        let nics: Vec<Nic> = (0..5).map(|_| n.attach().unwrap()).collect();
        let addrs: Vec<u8> = nics.iter().map(|n| n.addr().octets()[3]).collect();
        assert_eq!(addrs, vec![10, 11, 12, 13, 14], "network .8, gateway .9 and broadcast .15 are never given");
        assert_eq!(n.attach().err(), Some(NetError::SubnetFull));
        drop(nics);
        assert!(n.attach().is_ok(), "addresses of detached NICs are free again");
        assert_eq!(Network::new(Ipv4Cidr::new(Ipv4Address::new(10, 0, 0, 0), 31)).err(), Some(NetError::BadSubnet));
    }

    #[test]
    fn two_machines_talk_tcp_and_other_networks_cannot_reach_them() {
        let mut clock = Instant::from_millis(0);
        let cloud = net(1, 0);
        let mut a = Stack::new(cloud.attach().unwrap(), clock);
        let mut b = Stack::new(cloud.attach().unwrap(), clock);
        let server = b.tcp_socket(64 << 10);
        b.tcp(server).listen(8000).unwrap();
        let client = a.tcp_socket(64 << 10);
        let b_addr = b.addr();
        a.tcp_connect(client, b_addr, 8000, 49152).unwrap();
        let ok =
            run(&mut [&mut a, &mut b], &mut clock, 100, |s| s[0].tcp(client).may_send() && s[1].tcp(server).may_recv());
        assert!(ok, "the connection is established");

        // A megabyte each way is delivered intact and in order.
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + i / 251) as u8).collect();
        let (mut sent, mut got) = (0usize, Vec::new());
        for _ in 0..100_000 {
            if sent < data.len() {
                sent += a.tcp(client).send_slice(&data[sent..]).unwrap();
            }
            a.poll(clock);
            b.poll(clock);
            while let Ok(n) = b.tcp(server).recv(|buf| (buf.len(), buf.to_vec())) {
                if n.is_empty() {
                    break;
                }
                got.extend(n);
            }
            if got.len() == data.len() {
                break;
            }
            clock += Duration::from_millis(1);
        }
        assert!(got == data, "received {} of {} bytes intact", got.len(), data.len());

        // Another cloud's machine sends to the same address: its switch has
        // no such port, so nothing arrives and no connection forms.
        let other = net(2, 0);
        let mut z = Stack::new(other.attach().unwrap(), clock);
        let probe = z.tcp_socket(4096);
        z.tcp_connect(probe, b_addr, 8000, 49153).unwrap();
        let reached = run(&mut [&mut z, &mut b], &mut clock, 200, |s| s[0].tcp(probe).may_send());
        assert!(!reached, "a machine of another network never connects");
        assert!(other.stats().unroutable > 0, "its packets died in its own switch");
        assert_eq!(cloud.stats().malformed, 0);
    }

    #[test]
    fn loopback_stays_inside_the_machine() {
        let mut clock = Instant::from_millis(0);
        let cloud = net(3, 0);
        let mut a = Stack::new(cloud.attach().unwrap(), clock);
        let mut b = Stack::new(cloud.attach().unwrap(), clock);
        let (server, client) = (a.tcp_socket(4096), a.tcp_socket(4096));
        a.tcp(server).listen(80).unwrap();
        a.tcp_connect(client, Ipv4Address::new(127, 0, 0, 1), 80, 50000).unwrap();
        let b_client = b.tcp_socket(4096);
        b.tcp_connect(b_client, Ipv4Address::new(127, 0, 0, 1), 80, 50001).unwrap();
        let ok = run(&mut [&mut a, &mut b], &mut clock, 100, |s| s[0].tcp(client).may_send());
        assert!(ok, "a machine reaches its own listener on 127.0.0.1");
        assert!(!b.tcp(b_client).may_send(), "another machine's 127.0.0.1 is its own, with no listener");
    }
}
