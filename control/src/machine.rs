//! Booting one machine: its filesystem tree, memory, vCPU and first process.
//! `wisp run` boots one on its main thread; a cloud host boots each of its
//! machines on a thread of its own. A booted machine can also start more
//! processes from outside (exec).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wisp_kernel::loader::{ExecArgs, search_path};
use wisp_kernel::machine::Machine;
use wisp_kernel::mm::MemoryManager;
use wisp_kernel::mm::phys::PhysMem;
use wisp_kernel::platform::FpuState;
use wisp_kernel::task::ProcViewRef;
use wisp_kernel::vdso::Clock;
use wisp_kernel::vfs::hostfs::HostFs;
use wisp_kernel::vfs::{Fs, Vfs};
use wisp_kernel::{ExitStatus, Process, ProcessConfig};
use wisp_vmm::{EmptyVm, KvmHost, KvmVcpu, KvmVm, VmmError};

use crate::state::State;

/// `a.b.c.d/n` as a subnet (None if malformed).
pub fn parse_subnet(s: &str) -> Option<wisp_netstack::smoltcp::wire::Ipv4Cidr> {
    let (a, n) = s.split_once('/')?;
    let a: std::net::Ipv4Addr = a.parse().ok()?;
    let n: u8 = n.parse().ok().filter(|n| *n <= 32)?;
    Some(wisp_netstack::smoltcp::wire::Ipv4Cidr::new(a, n))
}

/// The subnet of a machine's network by default: inside 100.64.0.0/10, so
/// it does not clash with a host's RFC 1918 networks.
pub const DEFAULT_SUBNET: &str = "100.64.0.0/24";

pub fn default_subnet() -> wisp_netstack::smoltcp::wire::Ipv4Cidr {
    wisp_netstack::smoltcp::wire::Ipv4Cidr::new(wisp_netstack::smoltcp::wire::Ipv4Address::new(100, 64, 0, 0), 24)
}

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Status for failures of wisp itself (as container runtimes use 125).
pub const EXIT_WISP: i32 = 125;

/// What a machine is made of.
pub struct Spec {
    /// Host directory for a read-only root (ignored with `image`).
    pub root: PathBuf,
    /// Image name, whether its writable layer is discarded, and the layer's name.
    pub image: Option<(String, bool, Option<String>)>,
    pub hostname: String,
    pub mem: u64,
    /// `KEY=VALUE` pairs, on top of PATH, HOME and HOSTNAME.
    pub env: Vec<String>,
    pub cwd: String,
    pub pids: u16,
    /// Host directory behind /tmp (shared, kept); a private one otherwise.
    pub tmp: Option<PathBuf>,
    /// Where the private /tmp and /dev/shm go (default /dev/shm).
    pub scratch: Option<PathBuf>,
    /// Most bytes the machine may add to its writable layer, /tmp and
    /// /dev/shm together (past it: ENOSPC); None: no limit of its own.
    pub disk: Option<u64>,
    /// `NAME:PATH[:ro]` volume mounts.
    pub volumes: Vec<String>,
    /// The network the machine joins (its cloud's).
    pub net: Option<Arc<wisp_kernel::net::CloudNet>>,
    pub net_limits: wisp_kernel::net::NetLimits,
    pub strace: bool,
    pub program: Vec<String>,
}

/// A failure to boot: the status `wisp run` exits with, and why.
#[derive(Debug)]
pub struct BootError {
    pub status: i32,
    pub message: String,
}

fn fail(message: impl std::fmt::Display) -> BootError {
    BootError { status: EXIT_WISP, message: message.to_string() }
}

/// A private host directory behind the machine's /tmp, removed on drop.
pub struct TmpDir(pub PathBuf);

/// Scratch directories made ahead of need (see `State::skeleton`), by
/// purpose, for the next machines booted here.
static MADE: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());

/// Offers directories made ahead to `TmpDir::create`.
pub fn offer_scratch(dirs: Vec<(String, PathBuf)>) {
    MADE.lock().unwrap_or_else(|e| e.into_inner()).extend(dirs);
}

impl TmpDir {
    /// A fresh directory in `base` (one made ahead, if offered), else in
    /// /dev/shm (or the temp directory).
    pub fn create(purpose: &str, base: Option<&Path>) -> std::io::Result<TmpDir> {
        if let Some(b) = base {
            let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = made.iter().position(|(p, d)| p == purpose && d.parent() == Some(b)) {
                return Ok(TmpDir(made.swap_remove(i).1));
            }
        }
        let base = match base {
            Some(b) => b.to_path_buf(),
            None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
            None => std::env::temp_dir(),
        };
        let name = format!("wisp-{purpose}-{}-{}", std::process::id(), crate::state::random_hex(12));
        let path = base.join(name);
        std::fs::create_dir(&path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o1777))?;
        Ok(TmpDir(path))
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The environment a program starts with: PATH, HOME and HOSTNAME, then
/// `extra` (`KEY=VALUE`, later ones win).
pub fn build_env(extra: &[String], hostname: &str, term: bool) -> Result<Vec<Vec<u8>>, String> {
    let mut env: Vec<(String, String)> =
        vec![("PATH".into(), DEFAULT_PATH.into()), ("HOME".into(), "/".into()), ("HOSTNAME".into(), hostname.into())];
    if let Some(term) = std::env::var("TERM").ok().filter(|_| term) {
        env.push(("TERM".into(), term));
    }
    for kv in extra {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("env {kv:?}: expected KEY=VALUE"))?;
        if k.is_empty() || k.contains('\0') || v.contains('\0') {
            return Err(format!("env {kv:?}: invalid variable"));
        }
        env.retain(|(ek, _)| ek != k);
        env.push((k.into(), v.into()));
    }
    Ok(env.into_iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect())
}

/// A `NAME:PATH[:ro]` volume mount.
pub struct VolumeSpec {
    name: String,
    path: String,
    read_only: bool,
}

pub fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    let bad = || format!("volume {spec:?}: expected NAME:PATH or NAME:PATH:ro with an absolute PATH");
    let mut parts = spec.split(':');
    let (name, path) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    let read_only = match parts.next() {
        None => false,
        Some("ro") => true,
        Some("rw") => false,
        Some(_) => return Err(bad()),
    };
    if parts.next().is_some() || !path.starts_with('/') {
        return Err(bad());
    }
    let (path, _) = wisp_kernel::vfs::normalize("/", path.as_bytes()).map_err(|_| bad())?;
    if path == "/" || ["/proc", "/dev", "/tmp"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) {
        return Err(format!("volume {spec:?}: cannot mount over {path}"));
    }
    Ok(VolumeSpec { name: name.to_string(), path, read_only })
}

/// What starting another process in a running machine needs.
struct Template {
    /// A pristine address space sharing the machine's memory pool.
    mm: MemoryManager,
    vfs: Arc<Vfs>,
    config: Arc<ProcessConfig>,
    clock: Option<Clock>,
    env: Vec<Vec<u8>>,
}

/// Host resources that live as long as the machine.
struct Guards {
    _tmp: Option<TmpDir>,
    _shm: TmpDir,
    _volumes: Vec<crate::volume::Attached>,
    layered: Option<crate::rootfs::LayeredRoot>,
}

/// A machine ready to run: its first process loaded, not yet started.
pub struct Booted {
    pub process: Process,
    pub vcpu: KvmVcpu,
    pub machine: Arc<Machine>,
    template: Arc<Mutex<Template>>,
    guards: Guards,
}

/// A handle to start processes in a running machine from another thread.
#[derive(Clone)]
pub struct Spawner {
    machine: Arc<Machine>,
    template: Arc<Mutex<Template>>,
}

/// A VM made ahead of need, for the next machine this process boots.
static AHEAD: Mutex<Option<EmptyVm>> = Mutex::new(None);

/// Makes the KVM VM and vCPU of the next machine now (a warm cloud host does
/// this while it waits for a cloud; it must be the process that runs it).
pub fn make_vm_ahead() -> Result<(), String> {
    let vm = EmptyVm::new().map_err(|e| e.to_string())?;
    *AHEAD.lock().unwrap_or_else(|e| e.into_inner()) = Some(vm);
    Ok(())
}

/// Guest memory for a `mem`-byte machine and the VM over it.
fn new_vm(mem: u64) -> Result<(MemoryManager, Arc<KvmVm>), BootError> {
    // Physical memory covers the user limit plus page tables and the system area.
    let phys_size = mem + mem / 256 + (8 << 20);
    let phys = PhysMem::new(phys_size).map_err(|e| fail(format!("cannot reserve guest memory: {e}")))?;
    let mut mm = MemoryManager::new(phys, wisp_vmm::FIRST_FRAME, mem)
        .map_err(|e| fail(format!("cannot set up guest memory: {e}")))?;
    let ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner()).take();
    let vm = match ahead {
        Some(empty) => KvmVm::over(empty, &mut mm),
        None => KvmVm::new(&mut mm),
    };
    let vm = vm.map_err(|e| match e {
        VmmError::NoKvm | VmmError::KvmPermission => fail(e),
        e => fail(format!("cannot create the machine: {e}")),
    })?;
    Ok((mm, vm))
}

/// Builds the machine described by `spec`; `stdio` becomes the first
/// process's descriptors 0-2 (None: wisp's own).
pub fn boot(spec: &Spec, state: Option<&State>, stdio: Option<[OwnedFd; 3]>) -> Result<Booted, BootError> {
    let env = build_env(&spec.env, &spec.hostname, stdio.is_none()).map_err(fail)?;
    if spec.image.is_none() && !spec.root.is_dir() {
        return Err(fail(format!("root {}: not a directory", spec.root.display())));
    }
    if spec.mem < (4 << 20) {
        return Err(fail("memory must be at least 4M"));
    }
    let need_state = spec.image.is_some() || !spec.volumes.is_empty();
    let state = match (state, need_state) {
        (Some(s), _) => Some(s),
        (None, false) => None,
        (None, true) => return Err(fail("images and volumes need a state directory")),
    };
    let tmp = match &spec.tmp {
        Some(_) => None,
        None => Some(
            TmpDir::create("tmp", spec.scratch.as_deref())
                .map_err(|e| fail(format!("cannot create the machine's /tmp: {e}")))?,
        ),
    };
    let tmp_dir = spec.tmp.clone().or_else(|| tmp.as_ref().map(|t| t.0.clone())).unwrap_or_default();
    let layered = match (&spec.image, state) {
        (Some((img, discard, name)), Some(st)) => {
            let root = crate::rootfs::prepare(st, img, *discard, name.as_deref()).map_err(fail)?;
            root.synthesize_etc(&spec.hostname).map_err(fail)?;
            Some(root)
        }
        _ => None,
    };
    let disk = spec.disk.map(|limit| {
        let kept = layered.as_ref().map(|l| crate::state::tree_bytes(&l.upper)).unwrap_or(0);
        wisp_kernel::vfs::hostfs::Quota::new(limit, kept)
    });
    let charged = |fs: HostFs| match &disk {
        Some(q) => fs.with_quota(q.clone()),
        None => fs,
    };
    let mut vfs = Vfs::new();
    let root_fs = match &layered {
        Some(l) => charged(HostFs::new(&l.merged, true).map_err(|e| fail(format!("the image root: {e}")))?),
        None => HostFs::new(&spec.root, false).map_err(|e| fail(format!("root {}: {e}", spec.root.display())))?,
    };
    vfs.mount("/", Fs::Host(root_fs));
    let tmp_fs = HostFs::new(&tmp_dir, true).map_err(|e| fail(format!("tmp {}: {e}", tmp_dir.display())))?;
    // A --tmp directory given by the user is theirs to fill.
    vfs.mount("/tmp", Fs::Host(if tmp.is_some() { charged(tmp_fs) } else { tmp_fs }));
    vfs.mount("/proc", Fs::Proc);
    vfs.mount("/dev", Fs::Dev);
    if layered.is_none() {
        // The host root is read-only: the machine's own copies are mounted over
        // the files the root has (a root without them keeps not having them).
        for (path, text) in crate::rootfs::etc_files(&spec.hostname) {
            // With a network, /etc/hosts and /etc/resolv.conf are generated (below).
            if (path == "hosts" || path == "resolv.conf") && spec.net.is_some() {
                continue;
            }
            if spec.root.join("etc").join(path).symlink_metadata().is_ok() {
                vfs.mount(&format!("/etc/{path}"), Fs::File(text.into_bytes()));
            }
        }
    }
    // On a network, /etc/hosts names every machine of the cloud, as they
    // come and go (NAME.internal).
    let has_etc = match &layered {
        Some(l) => l.merged.join("etc/hosts").symlink_metadata().is_ok(),
        None => spec.root.join("etc/hosts").symlink_metadata().is_ok(),
    };
    if let (Some(net), true) = (&spec.net, has_etc) {
        let (net, hostname) = (net.clone(), spec.hostname.clone());
        vfs.mount("/etc/hosts", Fs::Generated(Arc::new(move || net.hosts_file(&hostname))));
        // The cloud's DNS server (at the gateway) resolves NAME.internal too.
        let dns = spec.net.clone();
        vfs.mount(
            "/etc/resolv.conf",
            Fs::Generated(Arc::new(move || dns.as_ref().map(|n| n.resolv_conf()).unwrap_or_default())),
        );
    }
    let specs = spec.volumes.iter().map(|v| parse_volume(v)).collect::<Result<Vec<_>, _>>().map_err(fail)?;
    let mut attached = Vec::new();
    if let Some(state) = state {
        for v in &specs {
            if specs.iter().filter(|o| o.path == v.path).count() > 1 {
                return Err(fail(format!("two volumes mounted at {}", v.path)));
            }
            let a = crate::volume::attach(state, &v.name).map_err(fail)?;
            let fs =
                if v.read_only { HostFs::volume_read_only(&a.data) } else { HostFs::volume(&a.data, a.quota.clone()) };
            vfs.mount(&v.path, Fs::Host(fs.map_err(|e| fail(format!("volume {}: {e}", v.name)))?));
            attached.push(a);
        }
    }
    // POSIX shared memory and semaphores (shm_open, sem_open) live in /dev/shm.
    let shm = TmpDir::create("shm", spec.scratch.as_deref())
        .map_err(|e| fail(format!("cannot create the machine's /dev/shm: {e}")))?;
    let shm_fs = HostFs::new(&shm.0, true).map_err(|e| fail(format!("/dev/shm: {e}")))?;
    vfs.mount("/dev/shm", Fs::Host(charged(shm_fs)));

    let machine_err = |e: VmmError| match e {
        VmmError::NoKvm | VmmError::KvmPermission => fail(e),
        e => fail(format!("cannot create the machine: {e}")),
    };
    let (mm, vm) = new_vm(spec.mem)?;
    let mut vcpu = vm.vcpu().map_err(machine_err)?;
    // The vDSO needs a guest TSC we can convert; without one, clocks are syscalls.
    let clock = wisp_kernel::Platform::tsc(&mut vcpu)
        .and_then(|(off, khz)| Clock::new(off, khz))
        .filter(|_| std::env::var_os("WISP_NO_VDSO").is_none());
    if let Some(c) = &clock {
        mm.phys.write(wisp_vmm::VVAR, &c.vvar()).map_err(|e| fail(format!("vDSO data page: {e}")))?;
    }
    let config = Arc::new(ProcessConfig {
        strace: spec.strace,
        patch_syscalls: std::env::var_os("WISP_NO_PATCH").is_none(),
        cpuinfo: vm.cpuinfo(),
        hostname: spec.hostname.clone(),
        hwcap: vm.hwcap(),
        vdso: clock.map(|_| (wisp_vmm::vdso_image(), wisp_vmm::VVAR)),
    });
    let (cwd, _) =
        wisp_kernel::vfs::normalize("/", spec.cwd.as_bytes()).map_err(|e| fail(format!("cwd {}: {e}", spec.cwd)))?;
    let machine = Machine::new(Arc::new(KvmHost::new(vm.clone())), spec.pids as usize);
    if let Some(net) = &spec.net {
        machine.set_net(net.attach(&spec.hostname, spec.net_limits).map_err(|e| fail(format!("network: {e}")))?);
    }
    let template_mm = mm.new_address_space().map_err(|e| fail(format!("cannot set up guest memory: {e}")))?;
    let vfs = Arc::new(vfs);
    let mut process = Process::new(mm, vfs.clone(), cwd.clone(), config.clone());
    process.clock = clock;
    process.machine = Some(machine.clone());
    let cwd_ok = process.vfs.stat(&ProcViewRef(&process), &cwd, false).map(|s| s.is_dir());
    if cwd_ok != Ok(true) {
        return Err(fail(format!("cwd {}: not a directory inside the machine", spec.cwd)));
    }
    match stdio {
        Some(fds) => process.set_stdio(fds),
        None => process.inherit_stdio(),
    }
    .map_err(|e| fail(format!("cannot pass the standard streams: {e}")))?;
    load(&mut process, &spec.program, &env, &cwd)?;
    let (comm, cmdline) = {
        let view = ProcViewRef(&process);
        (wisp_kernel::vfs::procfs::ProcView::comm(&view), wisp_kernel::vfs::procfs::ProcView::cmdline(&view))
    };
    machine.register_init(process.interrupts.clone(), process.shared_signals.clone(), comm, cmdline);
    let template = Arc::new(Mutex::new(Template { mm: template_mm, vfs, config, clock, env }));
    let guards = Guards { _tmp: tmp, _shm: shm, _volumes: attached, layered };
    Ok(Booted { process, vcpu, machine, template, guards })
}

/// Finds `argv[0]` on the PATH in `env` and loads it into `process`.
fn load(process: &mut Process, argv: &[String], env: &[Vec<u8>], cwd: &str) -> Result<(), BootError> {
    let path_env = env
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let Some(name) = argv.first() else { return Err(fail("no program to run")) };
    let Some(program) = search_path(&process.vfs, &ProcViewRef(process), name, &path_env) else {
        return Err(BootError { status: 127, message: format!("{name}: command not found") });
    };
    let mut random = [0u8; 16];
    let _ = wisp_kernel::host::getrandom(&mut random);
    let exec_args = ExecArgs {
        path: program.as_bytes(),
        argv: argv.iter().map(|a| a.clone().into_bytes()).collect(),
        envp: env.to_vec(),
        cwd,
        random,
        hwcap: process.config.hwcap,
    };
    process.exec(exec_args).map_err(|e| BootError { status: e.status(), message: e.to_string() })
}

impl Booted {
    pub fn spawner(&self) -> Spawner {
        Spawner { machine: self.machine.clone(), template: self.template.clone() }
    }

    /// Runs the first process on the calling thread until it ends; the
    /// machine ends with it, as a PID namespace does. `give_up` ends the wait
    /// for its other threads early (a timeout killed it).
    pub fn run(&mut self, give_up: &dyn Fn() -> bool) -> Result<ExitStatus, String> {
        self.machine.init_runs_here();
        self.machine.cpu_begin(1);
        let result = self.process.run(&mut self.vcpu);
        self.machine.cpu_end(1);
        // Process 1's main thread stopped. With exit_group (or a fatal signal)
        // the process ends now; with a plain exit its other threads run on
        // until they finish.
        let result = result.map(|status| {
            let whole = self.process.group_exit || matches!(status, ExitStatus::Signaled { .. });
            self.process.thread_exit_cleanup();
            self.machine.exited(1, status, whole);
            self.machine.wait_ended(1, give_up).unwrap_or(status)
        });
        self.machine.shut_down();
        result.map_err(|e| format!("machine failed: {e}"))
    }

    /// Releases the machine's host resources; reports a kept writable layer.
    pub fn finish(self) -> Option<(String, bool)> {
        let Booted { process, vcpu, guards, .. } = self;
        drop(process);
        drop(vcpu);
        let Guards { _tmp, _shm, _volumes, layered } = guards;
        layered.and_then(|l| l.kept.clone())
    }
}

impl Spawner {
    /// Starts `argv` as a new process in the machine, outside any process
    /// tree of the guest (its parent is 0, as for `docker exec`), with `stdio`
    /// as its descriptors 0-2. Wait for it with `wait`.
    pub fn spawn(&self, argv: &[String], env: &[String], cwd: &str, stdio: [OwnedFd; 3]) -> Result<i32, BootError> {
        let t = self.template.lock().unwrap_or_else(|e| e.into_inner());
        let mut envp = t.env.clone();
        for kv in env {
            let (k, _) =
                kv.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| fail(format!("env {kv:?}")))?;
            if kv.contains('\0') {
                return Err(fail(format!("env {kv:?}: invalid variable")));
            }
            envp.retain(|e| !e.starts_with(format!("{k}=").as_bytes()));
            envp.push(kv.clone().into_bytes());
        }
        let (cwd, _) = wisp_kernel::vfs::normalize("/", cwd.as_bytes()).map_err(|e| fail(format!("cwd {cwd}: {e}")))?;
        let mm = t.mm.new_address_space().map_err(|e| fail(format!("out of memory: {e}")))?;
        let mut p = Process::new(mm, t.vfs.clone(), cwd.clone(), t.config.clone());
        p.clock = t.clock;
        p.machine = Some(self.machine.clone());
        drop(t);
        p.set_stdio(stdio).map_err(|e| fail(format!("cannot pass the standard streams: {e}")))?;
        load(&mut p, argv, &envp, &cwd)?;
        let pid = self.machine.alloc_outside().map_err(|_| fail("the machine has no process slot left"))?;
        p.pid = pid;
        p.tgid = pid;
        self.machine.adopt_signals(pid, p.interrupts.clone(), p.shared_signals.clone(), 0);
        let (comm, cmdline) = {
            let view = ProcViewRef(&p);
            (wisp_kernel::vfs::procfs::ProcView::comm(&view), wisp_kernel::vfs::procfs::ProcView::cmdline(&view))
        };
        self.machine.set_identity(pid, comm, cmdline);
        self.machine.start(p, FpuState::default()).map_err(|_| fail("cannot start a thread for the process"))?;
        Ok(pid)
    }

    /// Waits for a process started by `spawn` to end.
    pub fn wait(&self, pid: i32, give_up: &dyn Fn() -> bool) -> Option<ExitStatus> {
        let status = self.machine.wait_ended(pid, give_up);
        if status.is_some() {
            self.machine.release(pid);
        }
        status
    }

    /// Sends `sig` to every process of the machine (pid 1 included).
    pub fn signal_all(&self, sig: i32) {
        let _ = self.machine.kill(0, wisp_kernel::machine::Target::Pid(1), sig);
        let _ = self.machine.kill(0, wisp_kernel::machine::Target::All, sig);
    }
}

impl Spawner {
    /// CPU time of the machine's vCPU threads so far.
    pub fn cpu_ns(&self) -> u64 {
        self.machine.cpu_ns()
    }

    /// Bytes the machine received and sent on its network: (rx, tx).
    pub fn net_bytes(&self) -> (u64, u64) {
        self.machine.net().map(|n| n.bytes()).unwrap_or_default()
    }

    /// Guest memory in use (user pages of every process).
    pub fn resident_bytes(&self) -> u64 {
        self.template.lock().unwrap_or_else(|e| e.into_inner()).mm.user_bytes()
    }

    /// Opens `path` in the machine's tree as its processes see it (mounts,
    /// volumes and symlinks resolved inside the machine).
    fn open(&self, path: &str, flags: i32, mode: u32) -> Result<Box<dyn wisp_kernel::vfs::file::File>, String> {
        let (abs, _) = wisp_kernel::vfs::normalize("/", path.as_bytes()).map_err(|e| format!("{path}: {e}"))?;
        let t = self.template.lock().unwrap_or_else(|e| e.into_inner());
        let mm = t.mm.new_address_space().map_err(|e| format!("out of memory: {e}"))?;
        let viewer = Process::new(mm, t.vfs.clone(), "/".into(), t.config.clone());
        drop(t);
        match viewer.vfs.open(&ProcViewRef(&viewer), &abs, false, flags | libc::O_CLOEXEC, mode) {
            Ok(wisp_kernel::vfs::Opened::File(f)) => Ok(f),
            Ok(wisp_kernel::vfs::Opened::Fd(_)) => Err(format!("{path}: not a regular file")),
            Err(e) => Err(format!("{path}: {e}")),
        }
    }

    /// Reads a file of the machine, at most `limit` bytes.
    pub fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        read_all(&*self.open(path, libc::O_RDONLY | libc::O_NONBLOCK, 0)?, path, limit)
    }

    /// Creates or replaces a file of the machine, all or nothing.
    pub fn write_file(&self, path: &str, data: &[u8], mode: u32) -> Result<(), String> {
        let vfs = self.template.lock().unwrap_or_else(|e| e.into_inner()).vfs.clone();
        replace_file(&vfs, path, data, |tmp| self.open(tmp, NEW_FILE, mode & 0o7777))
    }
}

/// How an upload's temporary file is opened.
const NEW_FILE: i32 = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;

/// Writes `data` to a fresh temporary file beside `path` (opened by `open`)
/// and renames it over `path`: a failed or partial upload (a full volume,
/// say) leaves the old file as it was and no partial file behind.
fn replace_file(
    vfs: &Vfs,
    path: &str,
    data: &[u8],
    open: impl FnOnce(&str) -> Result<Box<dyn wisp_kernel::vfs::file::File>, String>,
) -> Result<(), String> {
    let (abs, _) = wisp_kernel::vfs::normalize("/", path.as_bytes()).map_err(|e| format!("{path}: {e}"))?;
    let (dir, base) = abs.rsplit_once('/').unwrap_or(("", &abs));
    if base.is_empty() {
        return Err(format!("{path}: is a directory"));
    }
    let tmp = format!("{dir}/.{base}.wisp-upload-{}", crate::state::random_hex(6));
    let written = open(&tmp).and_then(|f| write_all(&*f, path, data));
    let renamed = written.and_then(|_| vfs.rename(&tmp, &abs, 0).map_err(|e| format!("{path}: {e}")));
    if renamed.is_err() {
        let _ = vfs.unlink(&tmp, false);
    }
    renamed
}

/// The whole content of an open file, at most `limit` bytes.
pub fn read_all(f: &dyn wisp_kernel::vfs::file::File, path: &str, limit: u64) -> Result<Vec<u8>, String> {
    if f.stat().is_ok_and(|s| s.mode & libc::S_IFMT == libc::S_IFDIR) {
        return Err(format!("{path}: is a directory"));
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = f.read(&mut buf).map_err(|e| format!("{path}: {e}"))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() as u64 + n as u64 > limit {
            return Err(format!("{path}: larger than {limit} bytes"));
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Writes all of `data` to an open file.
pub fn write_all(f: &dyn wisp_kernel::vfs::file::File, path: &str, data: &[u8]) -> Result<(), String> {
    let mut done = 0;
    while done < data.len() {
        match f.write(&data[done..]) {
            Ok(0) => return Err(format!("{path}: short write")),
            Ok(n) => done += n,
            Err(e) => return Err(format!("{path}: {e}")),
        }
    }
    Ok(())
}

/// Reads (`data` None) or replaces a file of volume `name` of `state`,
/// resolved inside the volume as a machine mounting it would.
pub fn volume_file(
    state: &State,
    name: &str,
    path: &str,
    data: Option<(&[u8], u32)>,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let (abs, _) = wisp_kernel::vfs::normalize("/", path.as_bytes()).map_err(|e| format!("{path}: {e}"))?;
    let rel = abs.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    let a = crate::volume::attach(state, name)?;
    let mount = || HostFs::volume(&a.data, a.quota.clone()).map_err(|e| format!("volume {name}: {e}"));
    let fs = mount()?;
    match data {
        None => {
            let f =
                fs.open(rel, libc::O_RDONLY | libc::O_NONBLOCK, 0, abs.clone()).map_err(|e| format!("{path}: {e}"))?;
            read_all(&f, path, limit)
        }
        Some((bytes, mode)) => {
            let mut vfs = Vfs::new();
            vfs.mount("/", Fs::Host(mount()?));
            let open = |tmp: &str| {
                let rel = tmp.trim_start_matches('/');
                let f = fs.open(rel, NEW_FILE, mode & 0o7777, tmp.to_string()).map_err(|e| format!("{path}: {e}"))?;
                Ok(Box::new(f) as Box<dyn wisp_kernel::vfs::file::File>)
            };
            replace_file(&vfs, path, bytes, open).map(|_| Vec::new())
        }
    }
}

#[cfg(test)]
mod subnet_tests {
    use super::*;

    #[test]
    fn the_default_subnet_is_one_value() {
        assert_eq!(parse_subnet(DEFAULT_SUBNET), Some(default_subnet()));
        assert_eq!(parse_subnet("10.0.0.0"), None);
        assert_eq!(parse_subnet("10.0.0.0/x"), None);
        assert_eq!(parse_subnet("10.0.0.0/33"), None, "no panic in smoltcp for a prefix past 32");
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::*;

    #[test]
    fn scratch_made_ahead_is_used_once_for_its_purpose_and_place() {
        let base = std::env::temp_dir().join(format!("wisp-scratch-test-{}", std::process::id()));
        let other = base.join("other");
        std::fs::create_dir_all(&other).unwrap();
        let made = base.join("made-tmp");
        std::fs::create_dir(&made).unwrap();
        offer_scratch(vec![("tmp".into(), made.clone())]);
        // Not for another purpose, nor in another place.
        let shm = TmpDir::create("shm", Some(&base)).unwrap();
        assert_ne!(shm.0, made);
        let elsewhere = TmpDir::create("tmp", Some(&other)).unwrap();
        assert_ne!(elsewhere.0, made);
        let first = TmpDir::create("tmp", Some(&base)).unwrap();
        assert_eq!(first.0, made);
        let second = TmpDir::create("tmp", Some(&base)).unwrap();
        assert_ne!(second.0, made, "used once");
        assert!(second.0.is_dir());
        drop((shm, elsewhere, first, second));
        assert!(!made.exists(), "removed with its machine like any other");
        let _ = std::fs::remove_dir_all(&base);
    }
}
