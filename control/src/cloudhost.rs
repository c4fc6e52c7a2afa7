//! `wisp cloud-host`: the one host process that runs all of a cloud's
//! machines. The daemon starts it with a socketpair as its standard input
//! and drives it with `proto` messages; it never listens anywhere else.
//! Before it reads its first message it confines itself (see `sandbox`), so
//! guest-facing code runs only inside that confinement.

use std::collections::HashMap;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use crate::machine::{Spawner, Spec, boot};
use crate::proto::{Envelope, MachineSpec, MachineUsage, Message, NetConfig, ReplyBody, Request, Target};
use crate::state::State;

#[derive(Args, Debug)]
pub struct HostArgs {
    /// The cloud this process serves; without it the process prepares
    /// everything that does not depend on the cloud, then waits for a `Bind`
    /// on its control socket (the daemon keeps a few such hosts warm).
    #[arg(long)]
    cloud: Option<String>,
    /// Test aid: confine this process as for serving, then try to read PATH
    /// and report what happened (a compromised host process, simulated).
    #[arg(long, value_name = "PATH", hide = true)]
    probe: Option<PathBuf>,
    /// Test aid: confine, then ask the mount helper for an overlay whose
    /// writable directories are in DIR, and report what happened.
    #[arg(long, value_name = "DIR", hide = true)]
    probe_mount: Option<PathBuf>,
}

/// A machine this host runs.
struct Running {
    spawner: Spawner,
    /// Keeps the first process's stdin open, so a program reading it waits.
    _stdin: OwnedFd,
    ended: Arc<std::sync::atomic::AtomicBool>,
}

struct Host {
    out: Arc<Mutex<UnixStream>>,
    /// Our end of the descriptor channel (see proto::send_tagged).
    chan: OwnedFd,
    state: State,
    machines: Mutex<HashMap<String, Arc<Running>>>,
    /// The cloud's network, made with its first machine (or its settings).
    net: Mutex<Option<Arc<wisp_kernel::net::CloudNet>>>,
    netcfg: Mutex<NetConfig>,
}

/// Sends one message to the daemon; if it is gone, so is every machine.
fn send_to(out: &Mutex<UnixStream>, msg: &Message) {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    if crate::proto::send(&mut *out, msg).is_err() {
        std::process::exit(0);
    }
}

/// Applies the daemon's network settings to the cloud's network.
fn apply(net: &wisp_kernel::net::CloudNet, cfg: &NetConfig) {
    use wisp_kernel::net::Import;
    net.set_services(cfg.services.clone());
    let imports = cfg.imports.iter().map(|(c, s, p)| Import { cloud: c.clone(), service: s.clone(), port: *p });
    net.set_imports(imports.collect());
    let egress = cfg.egress.iter().filter_map(|(a, p)| Some((a.parse::<std::net::Ipv4Addr>().ok()?, *p)));
    net.set_egress(egress.collect());
}

impl Host {
    fn net(&self) -> Result<Arc<wisp_kernel::net::CloudNet>, String> {
        use wisp_kernel::net::DialTarget;
        let mut net = self.net.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = &*net {
            return Ok(n.clone());
        }
        let subnet = crate::machine::parse_subnet(&self.netcfg.lock().unwrap_or_else(|e| e.into_inner()).subnet)
            .unwrap_or_else(crate::machine::default_subnet);
        let n = wisp_kernel::net::CloudNet::new(subnet)?;
        let out = self.out.clone();
        n.set_dialer(Arc::new(move |dial, machine: &str, target: &DialTarget| {
            let target = match target {
                DialTarget::Service { cloud, service, port } => {
                    Target::Service { cloud: cloud.clone(), service: service.clone(), port: *port }
                }
                DialTarget::Egress { addr, port } => Target::Egress { addr: addr.to_string(), port: *port },
                DialTarget::Metadata => Target::Metadata,
            };
            send_to(&out, &Message::Dial { dial, machine: machine.to_string(), target });
        }));
        apply(&n, &self.netcfg.lock().unwrap_or_else(|e| e.into_inner()));
        *net = Some(n.clone());
        Ok(n)
    }

    fn send(&self, msg: &Message) {
        send_to(&self.out, msg);
    }

    fn reply(&self, id: u64, result: Result<ReplyBody, String>) {
        self.send(&Message::Reply { id, result });
    }

    fn machine(&self, name: &str) -> Result<Arc<Running>, String> {
        self.machines.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned().ok_or(format!("no machine {name}"))
    }

    fn usage_of(name: &str, r: &Running) -> MachineUsage {
        let (net_rx_bytes, net_tx_bytes) = r.spawner.net_bytes();
        MachineUsage {
            net_rx_bytes,
            net_tx_bytes,
            machine: name.to_string(),
            cpu_ns: r.spawner.cpu_ns(),
            resident_bytes: r.spawner.resident_bytes(),
            running: !r.ended.load(std::sync::atomic::Ordering::SeqCst),
        }
    }
}

pub fn main(state_dir: Option<&std::path::Path>, args: HostArgs) -> i32 {
    let fail = |msg: String| {
        eprintln!("wisp cloud-host: {msg}");
        1
    };
    let shared = match State::open(state_dir) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Err(e) = crate::sandbox::prepare(shared.root()) {
        return fail(format!("cannot confine the cloud host: {e}"));
    }
    let sock = match wisp_kernel::host::dup(std::os::fd::AsFd::as_fd(&std::io::stdin())) {
        Ok(fd) => UnixStream::from(fd),
        Err(e) => return fail(format!("no control socket on stdin: {e}")),
    };
    let mut input = match sock.try_clone() {
        Ok(s) => s,
        Err(e) => return fail(format!("control socket: {e}")),
    };
    // A warm host makes the cloud's directories, its log and its first
    // machine's scratch directories while it waits, to move them into place
    // when it is bound.
    let skeleton = match args.cloud {
        Some(_) => None,
        None => shared
            .skeleton(&["host.log"], &["tmp", "shm"])
            .map_err(|e| eprintln!("wisp cloud-host: no directories made ahead: {e}"))
            .ok(),
    };
    if args.cloud.is_none() {
        // The costliest part of a boot that needs no cloud: its first
        // machine's KVM VM and vCPU (after the forks of `prepare`).
        if let Err(e) = crate::machine::make_vm_ahead() {
            eprintln!("wisp cloud-host: no VM made ahead: {e}");
        }
        // Started at low priority by the daemon, ahead of need; ready now,
        // it waits at normal priority so that it answers a bind at once.
        // (Only root may raise it back; others stay niced.)
        let _ = wisp_kernel::host::set_nice(0, 0);
        crate::mounter::renice();
    }
    // The system call filter goes on before anything is read (it costs a
    // cloud's first machine nothing then); Landlock, which needs the cloud,
    // follows the bind (and may only take rights away, so its calls pass).
    let landlock = [libc::SYS_landlock_create_ruleset, libc::SYS_landlock_add_rule, libc::SYS_landlock_restrict_self];
    if let Err(e) = crate::sandbox::restrict_syscalls(&landlock) {
        return fail(format!("cannot confine the cloud host: {e}"));
    }
    // The descriptor channel goes to the daemon last: it tells that this
    // host is ready (a probe has no daemon to send it to).
    let probing = args.probe.is_some() || args.probe_mount.is_some();
    let chan = match wisp_kernel::host::socketpair(libc::SOCK_SEQPACKET) {
        Ok((ours, theirs)) => {
            match wisp_kernel::host::send_fd(std::os::fd::AsFd::as_fd(&sock), b"F", std::os::fd::AsFd::as_fd(&theirs)) {
                Err(e) if !probing => return fail(format!("control socket: {e}")),
                _ => ours,
            }
        }
        Err(e) => return fail(format!("descriptor channel: {e}")),
    };
    let cloud = match &args.cloud {
        Some(c) => c.clone(),
        None => match crate::proto::recv::<crate::proto::Bind>(&mut input) {
            Ok(Some(b)) => b.cloud,
            Ok(None) => return 0,
            Err(e) => return fail(format!("control socket: {e}")),
        },
    };
    if let Some(scratch) = skeleton.and_then(|s| shared.adopt(s, &cloud)) {
        crate::machine::offer_scratch(scratch);
    }
    let state = match shared.cloud(&cloud) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if args.cloud.is_none() {
        // A warm host logged to the shared log until now.
        if let Err(e) = redirect_output(&state) {
            return fail(e);
        }
    }
    if let Err(e) = crate::sandbox::confine(&state, &cloud) {
        return fail(format!("cannot confine the cloud host: {e}"));
    }
    if let Some(dir) = args.probe_mount {
        let layer = host_layer(&state);
        let lower: Vec<&std::path::Path> = layer.iter().map(|p| p.as_path()).collect();
        for d in ["u", "w", "m"] {
            let _ = std::fs::create_dir_all(dir.join(d));
        }
        return match crate::mounter::overlay(&lower, &dir.join("u"), &dir.join("w"), &dir.join("m")) {
            Ok(()) => {
                println!("probe: mounted over {}", dir.display());
                0
            }
            Err(e) => {
                println!("probe: refused {}: {e}", dir.display());
                3
            }
        };
    }
    if let Some(path) = args.probe {
        // What else a compromised host might try: start a program, open a socket.
        match std::process::Command::new("/bin/true").status() {
            Ok(_) => println!("probe: exec allowed"),
            Err(e) => println!("probe: exec refused: {e}"),
        }
        match std::net::TcpStream::connect("127.0.0.1:9") {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => println!("probe: socket refused: {e}"),
            Err(e) => println!("probe: socket allowed ({e})"),
            Ok(_) => println!("probe: socket allowed"),
        }
        // mknodat is allowed (for AF_UNIX socket files): a device node, here
        // the host's /dev/null (1, 3), must still be refused in its own dir.
        match wisp_kernel::host::open_dir_path(state.root()) {
            Ok(dir) => match wisp_kernel::host::at_op(
                wisp_kernel::host::AtOp::MakeCharDevice,
                std::os::fd::AsFd::as_fd(&dir),
                b"probe-dev",
                0x103,
            ) {
                Ok(()) => println!("probe: device node allowed"),
                Err(e) => println!("probe: device node refused: {e}"),
            },
            Err(e) => println!("probe: own dir: {e}"),
        }
        return match std::fs::read(&path) {
            Ok(_) => {
                println!("probe: opened {}", path.display());
                0
            }
            Err(e) => {
                println!("probe: refused {}: {e}", path.display());
                3
            }
        };
    }
    wisp_kernel::host::set_umask(0);
    if let Err(e) = wisp_vmm::sys::install_kick_handler() {
        return fail(e.to_string());
    }
    let host = Arc::new(Host {
        out: Arc::new(Mutex::new(sock)),
        chan,
        state,
        machines: Mutex::new(HashMap::new()),
        net: Mutex::new(None),
        netcfg: Mutex::new(NetConfig::default()),
    });
    loop {
        let env: Envelope = match crate::proto::recv(&mut input) {
            Ok(Some(e)) => e,
            // The daemon closed the socket or died: the machines go with it.
            Ok(None) => return 0,
            Err(e) => return fail(format!("control socket: {e}")),
        };
        handle(&host, env.id, env.request);
    }
}

fn handle(host: &Arc<Host>, id: u64, req: Request) {
    match req {
        Request::Start { machine, spec } => start(host, id, machine, spec),
        Request::Exec { machine, command, env, cwd, stdin } => {
            let h = host.clone();
            let result = host.machine(&machine).map(|m| {
                std::thread::spawn(move || exec(&h, id, &m, &command, &env, &cwd, stdin));
            });
            if let Err(e) = result {
                host.reply(id, Err(e));
            }
        }
        Request::Stop { machine, grace_ms } => match host.machine(&machine) {
            Ok(m) => {
                let h = host.clone();
                std::thread::spawn(move || {
                    stop(&m, Duration::from_millis(grace_ms));
                    h.reply(id, Ok(ReplyBody::Done));
                });
            }
            Err(e) => host.reply(id, Err(e)),
        },
        Request::ReadFile { machine, path, limit } => {
            let r = host.machine(&machine).and_then(|m| m.spawner.read_file(&path, limit));
            host.reply(id, r.map(|data| ReplyBody::File { data }));
        }
        Request::WriteFile { machine, path, data, mode } => {
            let r = host.machine(&machine).and_then(|m| m.spawner.write_file(&path, &data, mode));
            host.reply(id, r.map(|_| ReplyBody::Done));
        }
        Request::VolumeFile { volume, path, data, mode, limit } => {
            let r = crate::machine::volume_file(&host.state, &volume, &path, data.as_deref().map(|d| (d, mode)), limit);
            host.reply(id, r.map(|data| ReplyBody::File { data }));
        }
        Request::Usage => {
            let machines = host.machines.lock().unwrap_or_else(|e| e.into_inner());
            let rows = machines.iter().map(|(n, r)| Host::usage_of(n, r)).collect();
            drop(machines);
            host.reply(id, Ok(ReplyBody::Usage { machines: rows }));
        }
        Request::Network(cfg) => {
            let net = host.net.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(n) = net {
                apply(&n, &cfg);
            }
            *host.netcfg.lock().unwrap_or_else(|e| e.into_inner()) = cfg;
            host.reply(id, Ok(ReplyBody::Done));
        }
        Request::Incoming { machine, port, peer, tag } => {
            let fd = match crate::proto::recv_tagged(std::os::fd::AsFd::as_fd(&host.chan), tag) {
                Ok(fd) => fd,
                Err(e) => return host.reply(id, Err(e)),
            };
            let peer_addr = peer.0.parse::<std::net::Ipv4Addr>().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
            let r = host.net().and_then(|n| {
                n.incoming(&machine, port, fd, (peer_addr, peer.1))
                    .map_err(|e| format!("machine {machine} port {port}: {e}"))
            });
            host.reply(id, r.map(|_| ReplyBody::Done));
        }
        Request::Dialed { dial, result } => {
            let result = match result {
                Ok(tag) => crate::proto::recv_tagged(std::os::fd::AsFd::as_fd(&host.chan), tag)
                    .map_err(|_| wisp_kernel::Errno::ECONNREFUSED),
                Err(errno) => Err(wisp_kernel::Errno(errno)),
            };
            if let Ok(n) = host.net() {
                n.dial_done(dial, result);
            }
            host.reply(id, Ok(ReplyBody::Done));
        }
        Request::Forget { machine } => {
            let mut machines = host.machines.lock().unwrap_or_else(|e| e.into_inner());
            let r = match machines.get(&machine) {
                Some(m) if !m.ended.load(std::sync::atomic::Ordering::SeqCst) => {
                    Err(format!("machine {machine} is still running"))
                }
                _ => {
                    machines.remove(&machine);
                    Ok(ReplyBody::Done)
                }
            };
            drop(machines);
            host.reply(id, r);
        }
    }
}

/// `n` host CPUs for a machine, rotating the starting CPU from machine to
/// machine so small machines spread over the host; empty (any CPU) when `n`
/// covers them all.
fn pick_cpus(n: u16) -> Vec<usize> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let all = wisp_kernel::host::allowed_cpus();
    if n == 0 || n as usize >= all.len() {
        return Vec::new();
    }
    let start = NEXT.fetch_add(n as usize, std::sync::atomic::Ordering::Relaxed);
    (0..n as usize).map(|i| all[(start + i) % all.len()]).collect()
}

/// Points stdout and stderr at the cloud's own host log.
fn redirect_output(state: &State) -> Result<(), String> {
    let path = state.root().join("host.log");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for fd in [1, 2] {
        wisp_kernel::host::dup_onto(std::os::fd::AsFd::as_fd(&f), fd).map_err(|e| format!("host log: {e}"))?;
    }
    Ok(())
}

/// Any one image layer of the state directory (for --probe-mount).
fn host_layer(state: &State) -> Option<PathBuf> {
    std::fs::read_dir(state.layers()).ok()?.flatten().map(|e| e.path()).next()
}

/// Signals every process of the machine with SIGTERM, then SIGKILL once
/// `grace` has passed; returns when the machine has ended.
fn stop(m: &Running, grace: Duration) {
    use std::sync::atomic::Ordering;
    let deadline = Instant::now() + grace;
    m.spawner.signal_all(wisp_kernel::signal::SIGTERM);
    while !m.ended.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    while !m.ended.load(Ordering::SeqCst) {
        m.spawner.signal_all(wisp_kernel::signal::SIGKILL);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Most bytes a machine's log holds before it is rotated (one previous
/// file, `NAME.log.1`, is kept): output cannot fill the cloud's disk.
pub const LOG_CAP: u64 = 8 << 20;

/// The machine's log: a pipe whose write end becomes the first process's
/// stdout and stderr, and (LogPump) a thread appending what comes out of it
/// to `logs/NAME.log`, rotating at LOG_CAP.
fn start_log(state: &State, machine: &str) -> Result<(OwnedFd, LogPump), String> {
    let path = state.root().join("logs").join(format!("{machine}.log"));
    let (r, w) = wisp_kernel::host::pipe(libc::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    Ok((w, LogPump { r, path }))
}

fn open_log(p: &std::path::Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).open(p)
}

/// The read end of a machine's log pipe and the file it goes to.
struct LogPump {
    r: OwnedFd,
    path: PathBuf,
}

impl LogPump {
    /// Starts copying (once the machine's start is answered: the pipe holds
    /// what comes before, and making the file is no part of the start); the
    /// thread ends when every write end is closed. A log that cannot be
    /// written (a full disk) loses lines, never the machine: the pipe is
    /// drained regardless.
    fn spawn(self, machine: &str) -> std::io::Result<std::thread::JoinHandle<()>> {
        let LogPump { r, path } = self;
        std::thread::Builder::new().name(format!("log-{machine}")).spawn(move || {
            use std::io::{Read, Write};
            let mut r = std::fs::File::from(r);
            let mut warned = false;
            let mut open = || match open_log(&path) {
                Ok(f) => Some(f),
                Err(e) => {
                    if !std::mem::replace(&mut warned, true) {
                        eprintln!("wisp cloud-host: log {}: {e}", path.display());
                    }
                    None
                }
            };
            let len = |f: &Option<std::fs::File>| f.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len());
            let mut file = open();
            let mut size = len(&file);
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if size + n as u64 > LOG_CAP || file.is_none() {
                    if file.is_some() {
                        let _ = std::fs::rename(&path, path.with_extension("log.1"));
                    }
                    file = open();
                    size = len(&file);
                }
                if file.as_mut().is_some_and(|f| f.write_all(&buf[..n]).is_ok()) {
                    size += n as u64;
                }
            }
        })
    }
}

fn start(host: &Arc<Host>, id: u64, name: String, spec: MachineSpec) {
    if let Err(e) = crate::state::check_name("machine", &name) {
        return host.reply(id, Err(e));
    }
    let first = {
        let machines = host.machines.lock().unwrap_or_else(|e| e.into_inner());
        if machines.contains_key(&name) {
            drop(machines);
            return host.reply(id, Err(format!("machine {name} exists")));
        }
        machines.is_empty()
    };
    // A cloud's first machine boots here, on the thread reading requests:
    // nothing else of the cloud can be waiting, and its start does not wait
    // for a thread to be made. Later ones boot on their own thread, so that
    // a slow boot (an image to mount) holds up no other machine.
    let (h, thread) = (host.clone(), std::thread::Builder::new().name(format!("machine-{name}")));
    if !first {
        let spawned = thread.spawn(move || {
            if let Some(started) = boot_machine(&h, id, &name, spec) {
                run_machine(&h, &name, started);
            }
        });
        if let Err(e) = spawned {
            host.reply(id, Err(format!("cannot start a thread for the machine: {e}")));
        }
        return;
    }
    let Some(started) = boot_machine(host, id, &name, spec) else { return };
    let (running, who) = (started.running.clone(), name.clone());
    if let Err(e) = thread.spawn(move || run_machine(&h, &who, started)) {
        // Started but cannot run: it ends at once (the machine went with
        // the closure), and the daemon hears so.
        eprintln!("wisp cloud-host: machine {name}: cannot start a thread: {e}");
        running.ended.store(true, std::sync::atomic::Ordering::SeqCst);
        let usage = Host::usage_of(&name, &running);
        host.send(&Message::Exited { machine: name, status: crate::machine::EXIT_WISP, usage });
    }
}

/// A booted machine, its start answered, not yet running.
struct Started {
    booted: crate::machine::Booted,
    running: Arc<Running>,
    pump: LogPump,
}

/// Boots the machine and replies to the start request; None when it did
/// not boot (the reply said why).
fn boot_machine(host: &Arc<Host>, id: u64, name: &str, spec: MachineSpec) -> Option<Started> {
    let setup = || -> Result<_, String> {
        let (out, pump) = start_log(&host.state, name)?;
        let (stdin_r, stdin_w) = wisp_kernel::host::pipe(libc::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
        let err = wisp_kernel::host::dup(std::os::fd::AsFd::as_fd(&out)).map_err(|e| format!("log: {e}"))?;
        Ok((stdin_w, pump, [stdin_r, out, err]))
    };
    let (stdin_w, pump, stdio) = match setup() {
        Ok(s) => s,
        Err(e) => {
            host.reply(id, Err(e));
            return None;
        }
    };
    let spec_vcpus = spec.vcpus;
    let image = spec.image.clone().map(|i| (i, false, Some(name.to_string())));
    let machine_spec = Spec {
        root: PathBuf::from("/"),
        image,
        hostname: name.to_string(),
        mem: spec.memory_mib << 20,
        env: spec.env,
        cwd: if spec.cwd.is_empty() { "/".into() } else { spec.cwd },
        pids: spec.pids.clamp(1, 64),
        tmp: None,
        scratch: Some(host.state.tmp()),
        disk: (spec.disk_mib > 0).then_some(spec.disk_mib << 20),
        net: match host.net() {
            Ok(n) => Some(n),
            Err(e) => {
                host.reply(id, Err(e));
                return None;
            }
        },
        volumes: spec.volumes,
        net_limits: wisp_kernel::net::NetLimits {
            max_sockets: if spec.max_connections == 0 { 1024 } else { spec.max_connections as usize },
            tx_bytes_per_sec: spec.net_mbps as u64 * 1_000_000 / 8,
        },
        strace: false,
        program: spec.command,
    };
    let booted = match boot(&machine_spec, Some(&host.state), Some(stdio)) {
        Ok(b) => b,
        Err(e) => {
            host.reply(id, Err(e.message));
            return None;
        }
    };
    booted.machine.set_cpus(pick_cpus(spec_vcpus));
    let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = Arc::new(Running { spawner: booted.spawner(), _stdin: stdin_w, ended });
    host.machines.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), running.clone());
    let address = booted.machine.net().map(|n| n.addr.to_string()).unwrap_or_default();
    host.reply(id, Ok(ReplyBody::Started { address }));
    Some(Started { booted, running, pump })
}

/// Runs a booted machine to its end and tells the daemon how it ended.
fn run_machine(host: &Host, name: &str, Started { mut booted, running, pump }: Started) {
    let pump = pump.spawn(name);
    if let Err(e) = &pump {
        eprintln!("wisp cloud-host: machine {name}: no log thread: {e}");
    }
    let status = match booted.run(&|| false) {
        Ok(s) => s.shell_status(),
        Err(e) => {
            eprintln!("wisp cloud-host: machine {name}: {e}");
            crate::machine::EXIT_WISP
        }
    };
    running.ended.store(true, std::sync::atomic::Ordering::SeqCst);
    let usage = Host::usage_of(name, &running);
    drop(booted.finish());
    // The log is complete before the daemon hears of the end.
    if let Ok(p) = pump {
        let _ = p.join();
    }
    host.send(&Message::Exited { machine: name.to_string(), status, usage });
}

/// Runs one command in a machine, sending its output as it comes.
fn exec(host: &Host, id: u64, m: &Running, argv: &[String], env: &[String], cwd: &str, stdin: Vec<u8>) {
    let pipes = || -> Result<_, wisp_kernel::Errno> {
        let (ir, iw) = wisp_kernel::host::pipe(libc::O_CLOEXEC)?;
        let (or, ow) = wisp_kernel::host::pipe(libc::O_CLOEXEC)?;
        let (er, ew) = wisp_kernel::host::pipe(libc::O_CLOEXEC)?;
        Ok(((iw, or, er), [ir, ow, ew]))
    };
    let ((iw, or, er), stdio) = match pipes() {
        Ok(p) => p,
        Err(e) => return host.reply(id, Err(format!("pipe: {e}"))),
    };
    let cwd = if cwd.is_empty() { "/" } else { cwd };
    let pid = match m.spawner.spawn(argv, env, cwd, stdio) {
        Ok(pid) => pid,
        Err(e) => return host.reply(id, Err(e.message)),
    };
    let feeder = std::thread::spawn(move || {
        let mut w = std::fs::File::from(iw);
        let _ = w.write_all(&stdin);
    });
    let pump = |fd: OwnedFd, stderr: bool| {
        use std::io::Read;
        let mut r = std::fs::File::from(fd);
        let mut buf = vec![0u8; 64 << 10];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            host.send(&Message::Output { id, stderr, data: buf[..n].to_vec() });
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| pump(er, true));
        pump(or, false);
    });
    let _ = feeder.join();
    let status = m.spawner.wait(pid, &|| false).map(|s| s.shell_status()).unwrap_or(crate::machine::EXIT_WISP);
    host.reply(id, Ok(ReplyBody::Exec { exit_code: status }));
}
