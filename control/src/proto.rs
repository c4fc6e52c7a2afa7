//! What the daemon and a cloud host say to each other over their socketpair:
//! postcard-encoded messages, each framed by its length (u32, little endian).
//!
//! The daemon sends `Request`s, each with an id of its choosing; the host
//! answers every id with exactly one `Reply` (after any `Output` for it), and
//! sends `Exited` on its own when a machine's first process ends.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

/// The largest frame either side accepts (a file written into a machine is
/// the biggest thing that travels).
pub const MAX_FRAME: usize = 80 << 20;

/// A machine's memory unless it asks for another (MiB).
pub const DEFAULT_MEMORY_MIB: u64 = 512;

/// A machine as the daemon asks for it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct MachineSpec {
    pub image: Option<String>,
    pub command: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub memory_mib: u64,
    /// Most processes and threads at once.
    pub pids: u16,
    /// Host CPUs its threads may run on at once.
    pub vcpus: u16,
    /// Most MiB its writable layer, /tmp and /dev/shm may grow by (0: no limit).
    pub disk_mib: u64,
    /// `NAME:PATH[:ro]`, naming volumes of the same cloud.
    pub volumes: Vec<String>,
    /// Most sockets at once (0: the default, 1024).
    pub max_connections: u32,
    /// Most megabits per second sent to other machines (0: no limit).
    pub net_mbps: u32,
}

#[derive(Serialize, Deserialize, Debug)]
pub enum Request {
    /// Boot a machine and start its first process.
    Start {
        machine: String,
        spec: MachineSpec,
    },
    /// Run a command in a running machine; its output comes as `Output`.
    Exec {
        machine: String,
        command: Vec<String>,
        env: Vec<String>,
        cwd: String,
        stdin: Vec<u8>,
    },
    /// SIGTERM to every process, SIGKILL after `grace_ms`.
    Stop {
        machine: String,
        grace_ms: u64,
    },
    ReadFile {
        machine: String,
        path: String,
        limit: u64,
    },
    WriteFile {
        machine: String,
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// Read (`data` None) or replace a file of one of the cloud's volumes.
    VolumeFile {
        volume: String,
        path: String,
        data: Option<Vec<u8>>,
        mode: u32,
        limit: u64,
    },
    /// Metering counters of every machine.
    Usage,
    /// Forget an ended machine (its writable layer is kept by the daemon's choice).
    Forget {
        machine: String,
    },
    /// The cloud's network settings, whole (replacing the last ones).
    Network(NetConfig),
    /// A connection from outside the cloud for `machine`'s listener on
    /// `port`: the host socket comes on the descriptor channel with `tag`.
    Incoming {
        machine: String,
        port: u16,
        /// The peer as the guest sees it (IPv4 address and port).
        peer: (String, u16),
        tag: u64,
    },
    /// The answer to the host's `Dial`: on success the connection comes on
    /// the descriptor channel with `tag`; else the errno for the guest.
    Dialed {
        dial: u64,
        result: Result<u64, i32>,
    },
}

/// A cloud's network settings.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct NetConfig {
    /// Services of the cloud: (name, machine).
    pub services: Vec<(String, String)>,
    /// Other clouds' services granted to this one: (cloud, service, port).
    pub imports: Vec<(String, String, u16)>,
    /// The egress allowlist: (IPv4 address, port; 0 for any).
    pub egress: Vec<(String, u16)>,
    /// The cloud's subnet (`a.b.c.d/n`); taken when its network is made.
    pub subnet: String,
}

impl NetConfig {
    /// Nothing set: a host without settings behaves the same.
    pub fn is_default(&self) -> bool {
        self.services.is_empty()
            && self.imports.is_empty()
            && self.egress.is_empty()
            && (self.subnet.is_empty() || self.subnet == crate::machine::DEFAULT_SUBNET)
    }
}

/// Where a guest asks to connect out of its cloud's network.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub enum Target {
    Service {
        cloud: String,
        service: String,
        port: u16,
    },
    Egress {
        addr: String,
        port: u16,
    },
    /// The metadata service (http://169.254.169.254/).
    Metadata,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct MachineUsage {
    pub machine: String,
    /// CPU time of the machine's vCPU threads so far.
    pub cpu_ns: u64,
    /// Guest memory in use now (user pages).
    pub resident_bytes: u64,
    pub running: bool,
    /// Bytes received and sent on the network so far (not loopback).
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

#[derive(Serialize, Deserialize, Debug)]
pub enum ReplyBody {
    Done,
    /// A machine started, with its address on the cloud network.
    Started {
        address: String,
    },
    Exec {
        exit_code: i32,
    },
    File {
        data: Vec<u8>,
    },
    Usage {
        machines: Vec<MachineUsage>,
    },
}

#[derive(Serialize, Deserialize, Debug)]
pub enum Message {
    Reply {
        id: u64,
        result: Result<ReplyBody, String>,
    },
    /// Output of an exec, in order.
    Output {
        id: u64,
        stderr: bool,
        data: Vec<u8>,
    },
    /// A machine's first process ended (the machine with it): its shell-style
    /// status, and final metering counters.
    Exited {
        machine: String,
        status: i32,
        usage: MachineUsage,
    },
    /// A guest of `machine` connects out of the cloud's network: the daemon
    /// answers with `Request::Dialed { dial }`.
    Dial {
        dial: u64,
        machine: String,
        target: Target,
    },
}

/// The descriptor channel: a SOCK_SEQPACKET socketpair the host makes at
/// start and hands to the daemon (on its control socket, one byte with the
/// descriptor attached). Each datagram on it is a tag (u64, little endian)
/// with one descriptor attached, sent just before the request that names
/// the tag.
pub fn send_tagged(chan: std::os::fd::BorrowedFd<'_>, tag: u64, fd: std::os::fd::BorrowedFd<'_>) -> Result<(), String> {
    wisp_kernel::host::send_fd(chan, &tag.to_le_bytes(), fd).map_err(|e| format!("descriptor channel: {e}"))
}

/// Takes the descriptor tagged `tag` off the channel (descriptors with
/// other tags, which a well-behaved sender never puts first, are closed).
pub fn recv_tagged(chan: std::os::fd::BorrowedFd<'_>, tag: u64) -> Result<std::os::fd::OwnedFd, String> {
    for _ in 0..64 {
        let mut b = [0u8; 8];
        let (n, fd) = wisp_kernel::host::recv_fd(chan, &mut b).map_err(|e| format!("descriptor channel: {e}"))?;
        if n == 0 && fd.is_none() {
            return Err("descriptor channel closed".into());
        }
        if let (8, Some(fd)) = (n, fd)
            && u64::from_le_bytes(b) == tag
        {
            return Ok(fd);
        }
    }
    Err(format!("descriptor {tag} never came"))
}

/// Writes one frame.
pub fn send<T: Serialize>(w: &mut impl Write, msg: &T) -> std::io::Result<()> {
    let body = postcard::to_stdvec(msg).map_err(std::io::Error::other)?;
    if body.len() > MAX_FRAME {
        return Err(std::io::Error::other("message too large"));
    }
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame)
}

/// Reads one frame; None at a clean end of the stream.
pub fn recv<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> std::io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!("frame of {len} bytes is past the limit")));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    postcard::from_bytes(&body).map(Some).map_err(std::io::Error::other)
}

/// The first message to a warm cloud host: the cloud it now serves.
#[derive(Serialize, Deserialize, Debug)]
pub struct Bind {
    pub cloud: String,
}

/// A request with its id, as framed on the wire.
#[derive(Serialize, Deserialize, Debug)]
pub struct Envelope {
    pub id: u64,
    pub request: Request,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_reject_garbage() {
        let mut buf = Vec::new();
        let spec = MachineSpec { command: vec!["sh".into()], memory_mib: 64, ..Default::default() };
        send(&mut buf, &Envelope { id: 7, request: Request::Start { machine: "a".into(), spec } }).unwrap();
        let got: Envelope = recv(&mut buf.as_slice()).unwrap().unwrap();
        assert_eq!(got.id, 7);
        assert!(
            matches!(got.request, Request::Start { ref machine, ref spec } if machine == "a" && spec.memory_mib == 64)
        );
        let empty: Option<Envelope> = recv(&mut [].as_slice()).unwrap();
        assert!(empty.is_none());
        let huge = ((MAX_FRAME + 1) as u32).to_le_bytes();
        assert!(recv::<Envelope>(&mut huge.as_slice()).is_err(), "an oversized frame is refused before allocation");
        let junk = [3u8, 0, 0, 0, 0xff, 0xff, 0xff];
        assert!(recv::<Envelope>(&mut junk.as_slice()).is_err(), "undecodable bytes are an error");
    }
}
