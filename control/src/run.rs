//! `wisp run`: configure, build, run one machine, report its exit status.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use wisp_kernel::signal;
use wisp_vmm::Kicker;

use crate::machine::{EXIT_WISP, Spec, boot};

use crate::units::{parse_duration, parse_size};

/// Status when --timeout ends the program (as timeout(1) uses 124).
const EXIT_TIMEOUT: i32 = 124;

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

pub fn main(args: RunArgs, state: Option<&Path>) -> i32 {
    match run(args, state) {
        Ok(code) => code,
        Err(code) => code,
    }
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("wisp: {msg}");
    EXIT_WISP
}

fn run(args: RunArgs, state_dir: Option<&Path>) -> Result<i32, i32> {
    let t0 = Instant::now();
    let hostname = args.name.clone().unwrap_or_else(|| "wisp".into());
    // Flag-level checks first, so errors name the flag.
    crate::machine::build_env(&args.env, &hostname, false).map_err(|e| fail(format!("--{e}")))?;
    if args.image.is_none() && !args.root.is_dir() {
        return Err(fail(format!("--root {}: not a directory", args.root.display())));
    }
    if args.mem < (4 << 20) {
        return Err(fail("--mem must be at least 4M"));
    }
    for v in &args.volumes {
        crate::machine::parse_volume(v).map_err(|e| fail(format!("-v: {e}")))?;
    }
    let state = match (&args.image, args.volumes.is_empty()) {
        (None, true) => None,
        _ => Some(crate::state::State::open(state_dir).map_err(fail)?),
    };
    let spec = Spec {
        root: args.root.clone(),
        image: args.image.clone().map(|i| (i, args.rm, args.name.clone())),
        hostname,
        mem: args.mem,
        env: args.env.clone(),
        cwd: args.cwd.clone(),
        pids: args.pids,
        tmp: args.tmp.clone(),
        scratch: None,
        disk: None,
        net: Some(wisp_kernel::net::CloudNet::new(crate::machine::default_subnet()).map_err(fail)?),
        net_limits: Default::default(),
        volumes: args.volumes.clone(),
        strace: args.strace,
        program: args.program.clone(),
    };
    let mut booted = boot(&spec, state.as_ref(), None).map_err(|e| {
        eprintln!("wisp: {}", e.message);
        e.status
    })?;

    // The guest's umask is applied by wisp; the host's must not strip more.
    wisp_kernel::host::set_umask(0);
    wisp_vmm::sys::install_kick_handler().map_err(fail)?;
    wisp_vmm::sys::forward_host_signals(booted.machine.host_signals.clone()).map_err(fail)?;
    // From here on wisp needs only the calls a cloud host needs (plus
    // unmounting an image root at the end); the suites run under the same
    // filter the daemon's hosts do.
    let unmount: &[i64] = if args.image.is_some() { &[libc::SYS_umount2] } else { &[] };
    crate::sandbox::restrict_syscalls(unmount).map_err(fail)?;
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = match args.timeout {
        Some(limit) => Some(
            spawn_watchdog(
                limit,
                Kicker::current(),
                booted.process.interrupts.clone(),
                done.clone(),
                timed_out.clone(),
            )
            .map_err(|e| fail(format!("cannot start the timeout thread: {e}")))?,
        ),
        None => None,
    };
    let setup = t0.elapsed();
    let result = booted.run(&|| timed_out.load(Ordering::SeqCst));
    done.store(true, Ordering::SeqCst);
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    if std::env::var_os("WISP_STATS").is_some() {
        let p = &booted.process;
        eprintln!(
            "wisp: stats: setup={:.3}ms total={:.3}ms syscall_cpl={:?} mem_used={}KiB tables={}KiB uring_ops={} {}",
            setup.as_secs_f64() * 1e3,
            t0.elapsed().as_secs_f64() * 1e3,
            booted.vcpu.syscall_cpl,
            p.mm.user_bytes() / 1024,
            p.mm.table_bytes() / 1024,
            wisp_kernel::uring::completed(),
            p.stats.summary()
        );
    }
    if let Some((name, true)) = booted.finish() {
        eprintln!("wisp: writable layer kept as {name} (continue with --name {name}, or use --rm)");
    }
    match result {
        Err(e) => Err(fail(e)),
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
