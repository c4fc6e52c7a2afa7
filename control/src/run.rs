//! `wisp run`: configure, build, run one machine, report its exit status.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use wisp_kernel::loader::{ExecArgs, search_path};
use wisp_kernel::machine::Machine;
use wisp_kernel::mm::MemoryManager;
use wisp_kernel::mm::phys::PhysMem;
use wisp_kernel::task::ProcViewRef;
use wisp_kernel::vfs::hostfs::HostFs;
use wisp_kernel::vfs::{Fs, Vfs};
use wisp_kernel::{Process, ProcessConfig, signal};
use wisp_vmm::{Kicker, KvmHost, KvmVm, VmmError};

use crate::units::{parse_duration, parse_size};

/// Status for failures of wisp itself (as container runtimes use 125).
const EXIT_WISP: i32 = 125;
/// Status when --timeout ends the program (as timeout(1) uses 124).
const EXIT_TIMEOUT: i32 = 124;
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Host directory to use as the machine's read-only root filesystem.
    #[arg(long, default_value = "/", value_name = "DIR", conflicts_with = "image")]
    root: PathBuf,
    /// Run from image NAME (see `wisp image`): its layers under a writable
    /// layer of this machine's own, kept afterwards unless --rm.
    #[arg(long, value_name = "NAME")]
    image: Option<String>,
    /// With --image: discard the writable layer when the machine ends.
    #[arg(long, requires = "image")]
    rm: bool,
    /// With --image: the writable layer's name; a later run with the same
    /// name continues from it [default: IMAGE-<random>]. Also the hostname.
    #[arg(long, value_name = "NAME", requires = "image", conflicts_with = "rm")]
    name: Option<String>,
    /// Memory limit of the machine (e.g. 256M, 1G); past it the guest gets ENOMEM.
    #[arg(long, default_value = "512M", value_name = "SIZE", value_parser = parse_size)]
    mem: u64,
    /// Set an environment variable in the machine (repeatable).
    #[arg(long = "env", short = 'e', value_name = "K=V")]
    env: Vec<String>,
    /// Working directory inside the machine.
    #[arg(long, default_value = "/", value_name = "DIR")]
    cwd: String,
    /// Kill the program after this long (e.g. 10s, 500ms, 2m); exits with 124.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Most processes and threads the machine may hold at once (1-64, one vCPU
    /// each); past it fork and clone fail with EAGAIN.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pids: u16,
    /// Back the machine's /tmp with this host directory (shared, kept) instead
    /// of a private in-memory one.
    #[arg(long, value_name = "DIR")]
    tmp: Option<PathBuf>,
    /// Mount volume NAME at PATH inside the machine (repeatable); add `:ro`
    /// for read-only. Create volumes with `wisp volume create`.
    #[arg(long = "volume", short = 'v', value_name = "NAME:PATH[:ro]")]
    volumes: Vec<String>,
    /// Print every syscall the program makes to stderr.
    #[arg(long)]
    strace: bool,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM")]
    program: Vec<String>,
}

/// A private host directory behind the machine's /tmp, removed on drop.
struct TmpDir(PathBuf);

impl TmpDir {
    fn create(purpose: &str) -> std::io::Result<TmpDir> {
        let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let mut rnd = [0u8; 8];
        let _ = getrandom(&mut rnd);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("wisp-{purpose}-{}-{:016x}{nanos:08x}", std::process::id(), u64::from_le_bytes(rnd));
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

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("wisp: {msg}");
    EXIT_WISP
}

fn build_env(args: &RunArgs) -> Result<Vec<Vec<u8>>, String> {
    let mut env: Vec<(String, String)> =
        vec![("PATH".into(), DEFAULT_PATH.into()), ("HOME".into(), "/".into()), ("HOSTNAME".into(), "wisp".into())];
    if let Ok(term) = std::env::var("TERM") {
        env.push(("TERM".into(), term));
    }
    for kv in &args.env {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("--env {kv:?}: expected KEY=VALUE"))?;
        if k.is_empty() || k.contains('\0') || v.contains('\0') {
            return Err(format!("--env {kv:?}: invalid variable"));
        }
        env.retain(|(ek, _)| ek != k);
        env.push((k.into(), v.into()));
    }
    Ok(env.into_iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect())
}

pub fn main(args: RunArgs, state: Option<&Path>) -> i32 {
    match run(args, state) {
        Ok(code) => code,
        Err(code) => code,
    }
}

/// A `-v NAME:PATH[:ro]` argument.
struct VolumeSpec {
    name: String,
    path: String,
    read_only: bool,
}

fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    let bad = || format!("-v {spec:?}: expected NAME:PATH or NAME:PATH:ro with an absolute PATH");
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
        return Err(format!("-v {spec:?}: cannot mount over {path}"));
    }
    Ok(VolumeSpec { name: name.to_string(), path, read_only })
}

fn run(args: RunArgs, state_dir: Option<&Path>) -> Result<i32, i32> {
    let t0 = Instant::now();
    let env = build_env(&args).map_err(fail)?;
    if !args.root.is_dir() {
        return Err(fail(format!("--root {}: not a directory", args.root.display())));
    }
    if args.mem < (4 << 20) {
        return Err(fail("--mem must be at least 4M"));
    }
    let tmp = match &args.tmp {
        Some(_) => None,
        None => Some(TmpDir::create("tmp").map_err(|e| fail(format!("cannot create the machine's /tmp: {e}")))?),
    };
    let tmp_dir = args.tmp.clone().or_else(|| tmp.as_ref().map(|t| t.0.clone())).unwrap_or_default();
    let state = match (&args.image, args.volumes.is_empty()) {
        (None, true) => None,
        _ => Some(crate::state::State::open(state_dir).map_err(fail)?),
    };
    let layered = match (&args.image, &state) {
        (Some(img), Some(st)) => {
            let root = crate::rootfs::prepare(st, img, args.rm, args.name.as_deref()).map_err(fail)?;
            root.synthesize_etc(args.name.as_deref().unwrap_or("wisp")).map_err(fail)?;
            Some(root)
        }
        _ => None,
    };
    let mut vfs = Vfs::new();
    let root_fs = match &layered {
        Some(l) => HostFs::new(&l.merged, true).map_err(|e| fail(format!("the image root: {e}")))?,
        None => HostFs::new(&args.root, false).map_err(|e| fail(format!("--root {}: {e}", args.root.display())))?,
    };
    vfs.mount("/", Fs::Host(root_fs));
    let tmp_fs = HostFs::new(&tmp_dir, true).map_err(|e| fail(format!("--tmp {}: {e}", tmp_dir.display())))?;
    vfs.mount("/tmp", Fs::Host(tmp_fs));
    vfs.mount("/proc", Fs::Proc);
    vfs.mount("/dev", Fs::Dev);
    if layered.is_none() {
        // The host root is read-only: the machine's own copies are mounted over
        // the files the root has (a root without them keeps not having them).
        for (path, text) in crate::rootfs::etc_files(args.name.as_deref().unwrap_or("wisp")) {
            if args.root.join("etc").join(path).symlink_metadata().is_ok() {
                vfs.mount(&format!("/etc/{path}"), Fs::File(text.into_bytes()));
            }
        }
    }
    let specs = args.volumes.iter().map(|v| parse_volume(v)).collect::<Result<Vec<_>, _>>().map_err(fail)?;
    let mut attached = Vec::new();
    if let Some(state) = &state {
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
    let shm = TmpDir::create("shm").map_err(|e| fail(format!("cannot create the machine's /dev/shm: {e}")))?;
    vfs.mount("/dev/shm", Fs::Host(HostFs::new(&shm.0, true).map_err(|e| fail(format!("/dev/shm: {e}")))?));

    // Physical memory covers the user limit plus page tables and the system area.
    let phys_size = args.mem + args.mem / 256 + (8 << 20);
    let phys = PhysMem::new(phys_size).map_err(|e| fail(format!("cannot reserve guest memory: {e}")))?;
    let mut mm = MemoryManager::new(phys, wisp_vmm::FIRST_FRAME, args.mem)
        .map_err(|e| fail(format!("cannot set up guest memory: {e}")))?;
    let machine_err = |e: VmmError| match e {
        VmmError::NoKvm | VmmError::KvmPermission => fail(e),
        e => fail(format!("cannot create the machine: {e}")),
    };
    let vm = KvmVm::new(&mut mm).map_err(machine_err)?;
    let mut vcpu = vm.vcpu().map_err(machine_err)?;
    // The vDSO needs a guest TSC we can convert; without one, clocks are syscalls.
    let clock = wisp_kernel::Platform::tsc(&mut vcpu)
        .and_then(|(off, khz)| wisp_kernel::vdso::Clock::new(off, khz))
        .filter(|_| std::env::var_os("WISP_NO_VDSO").is_none());
    if let Some(c) = &clock {
        mm.phys.write(wisp_vmm::VVAR, &c.vvar()).map_err(|e| fail(format!("vDSO data page: {e}")))?;
    }
    let config = ProcessConfig {
        strace: args.strace,
        patch_syscalls: std::env::var_os("WISP_NO_PATCH").is_none(),
        cpuinfo: vm.cpuinfo(),
        hostname: args.name.clone().unwrap_or_else(|| "wisp".into()),
        hwcap: vm.hwcap(),
        vdso: clock.map(|_| (wisp_vmm::vdso_image(), wisp_vmm::VVAR)),
    };
    let (cwd, _) =
        wisp_kernel::vfs::normalize("/", args.cwd.as_bytes()).map_err(|e| fail(format!("--cwd {}: {e}", args.cwd)))?;
    let machine = Machine::new(Arc::new(KvmHost::new(vm.clone())), args.pids as usize);
    let mut process = Process::new(mm, Arc::new(vfs), cwd.clone(), Arc::new(config));
    process.clock = clock;
    process.machine = Some(machine.clone());
    let cwd_ok = process.vfs.stat(&ProcViewRef(&process), &cwd, false).map(|s| s.is_dir());
    if cwd_ok != Ok(true) {
        return Err(fail(format!("--cwd {}: not a directory inside the machine", args.cwd)));
    }
    process.inherit_stdio().map_err(|e| fail(format!("cannot pass the standard streams: {e}")))?;

    let path_env = env
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let name = &args.program[0];
    let Some(program) = search_path(&process.vfs, &ProcViewRef(&process), name, &path_env) else {
        eprintln!("wisp: {name}: command not found");
        return Err(127);
    };
    let mut random = [0u8; 16];
    let _ = getrandom(&mut random);
    let exec_args = ExecArgs {
        path: program.as_bytes(),
        argv: args.program.iter().map(|a| a.clone().into_bytes()).collect(),
        envp: env,
        cwd: &cwd,
        random,
        hwcap: process.config.hwcap,
    };
    if let Err(e) = process.exec(exec_args) {
        eprintln!("wisp: {e}");
        return Err(e.status());
    }

    // The guest's umask is applied by wisp; the host's must not strip more.
    wisp_kernel::host::set_umask(0);
    wisp_vmm::sys::install_kick_handler().map_err(fail)?;
    wisp_vmm::sys::forward_host_signals(machine.host_signals.clone()).map_err(fail)?;
    let (comm, cmdline) = {
        let view = ProcViewRef(&process);
        (wisp_kernel::vfs::procfs::ProcView::comm(&view), wisp_kernel::vfs::procfs::ProcView::cmdline(&view))
    };
    machine.register_init(process.interrupts.clone(), process.shared_signals.clone(), comm, cmdline);
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = match args.timeout {
        Some(limit) => Some(
            spawn_watchdog(limit, Kicker::current(), process.interrupts.clone(), done.clone(), timed_out.clone())
                .map_err(|e| fail(format!("cannot start the timeout thread: {e}")))?,
        ),
        None => None,
    };
    let setup = t0.elapsed();

    let result = process.run(&mut vcpu);
    // Process 1's main thread stopped. With exit_group (or a fatal signal) the
    // process ends now; with a plain exit its other threads run on until they
    // finish. The machine ends with its first process, as a PID namespace does.
    let result = result.map(|status| {
        let whole = process.group_exit || matches!(status, wisp_kernel::ExitStatus::Signaled { .. });
        process.thread_exit_cleanup();
        machine.exited(1, status, whole);
        machine.wait_ended(1, &|| timed_out.load(Ordering::SeqCst)).unwrap_or(status)
    });
    machine.shut_down();
    done.store(true, Ordering::SeqCst);
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    if std::env::var_os("WISP_STATS").is_some() {
        eprintln!(
            "wisp: stats: setup={:.3}ms total={:.3}ms syscall_cpl={:?} mem_used={}KiB tables={}KiB uring_ops={} {}",
            setup.as_secs_f64() * 1e3,
            t0.elapsed().as_secs_f64() * 1e3,
            vcpu.syscall_cpl,
            process.mm.user_bytes() / 1024,
            process.mm.table_bytes() / 1024,
            wisp_kernel::uring::completed(),
            process.stats.summary()
        );
    }
    drop(tmp);
    drop(shm);
    drop(attached);
    if let Some(l) = layered {
        if let Some((name, true)) = &l.kept {
            eprintln!("wisp: writable layer kept as {name} (continue with --name {name}, or use --rm)");
        }
        drop(l);
    }
    match result {
        Err(e) => Err(fail(format!("machine failed: {e}"))),
        Ok(_) if timed_out.load(Ordering::SeqCst) => {
            eprintln!("wisp: timed out after {:?}; machine killed", args.timeout.unwrap_or_default());
            Ok(EXIT_TIMEOUT)
        }
        Ok(status) => Ok(status.shell_status()),
    }
}

/// Kills the machine when `limit` passes: raises SIGKILL and kicks the vCPU
/// until the run loop notices.
fn spawn_watchdog(
    limit: Duration,
    kicker: Kicker,
    interrupts: wisp_kernel::Interrupts,
    done: Arc<AtomicBool>,
    timed_out: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        wisp_vmm::sys::block_all_signals();
        let deadline = Instant::now() + limit;
        while !done.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                timed_out.store(true, Ordering::SeqCst);
                interrupts.raise(signal::SIGKILL);
                kicker.kick();
                std::thread::sleep(Duration::from_millis(5));
            } else {
                std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
            }
        }
    })
}
