//! The confinement of a cloud host process, set up before it reads its first
//! request: whatever a guest manages to do to this process, it reaches only
//! its own cloud's files and no host network.
//!
//! - Landlock: the system directories a machine's root needs (read and
//!   execute), the host-wide image layers (read), `/dev/kvm`, and the cloud's
//!   own state directory (everything). Other clouds' volumes and layers, the
//!   daemon's database and token file are out of reach.
//! - Namespaces: a PID namespace of its own (it is process 1 there, with a
//!   /proc of its own), a private mount namespace (for overlay roots), fresh IPC and
//!   UTS namespaces, and a network namespace with no interfaces but loopback
//!   (shared by the hosts of one daemon when it could make one, else the
//!   host's own).
//! - No new privileges, no core dumps, and death with the daemon.
//! - Image roots are mounted by a helper process started just before the
//!   confinement (mounter.rs), which mounts only image layers under
//!   directories of this cloud.

use std::path::Path;

use wisp_kernel::host::{self, landlock};

use crate::state::State;

/// Directories a machine rooted at the host's `/` reads programs from.
const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc"];
/// Devices a cloud host opens for reading and writing.
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"];

/// The part of the confinement that does not depend on the cloud (done
/// ahead of time by warm hosts): parent-death signal, no core dumps,
/// namespaces, and the mount helper.
pub fn prepare(state_dir: &Path) -> Result<(), String> {
    // The daemon starts cloud hosts from one long-lived thread, so this fires
    // only when the daemon itself is gone.
    host::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64).map_err(|e| format!("PR_SET_PDEATHSIG: {e}"))?;
    host::set_rlimit(libc::RLIMIT_CORE, 0).map_err(|e| format!("RLIMIT_CORE: {e}"))?;
    // A PID namespace of its own (where the host allows): this process stays
    // outside as a waiter, its child goes on as process 1 of the namespace.
    let own_pids = host::unshare(libc::CLONE_NEWPID).is_ok() && enter_pid_namespace()?;
    host::enter_mount_namespace().map_err(|e| format!("mount namespace: {e}"))?;
    if own_pids {
        // /proc then shows the namespace's processes, not the host's.
        host::mount_proc().map_err(|e| format!("/proc: {e}"))?;
    }
    // No host network for a compromised host either (best effort; seccomp
    // refuses new sockets regardless). The daemon's spawner thread usually
    // made one empty network namespace that all hosts share: a namespace per
    // host costs about 0.6 ms of create-machine latency and slow teardowns.
    let net = if std::env::var_os("WISP_SHARED_NETNS").is_some() { 0 } else { libc::CLONE_NEWNET };
    let _ = host::unshare(net | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS);
    // Image roots are mounted by a helper outside the confinement.
    crate::mounter::start_helper(state_dir)
}

/// After unshare(CLONE_NEWPID): forks the namespace's first process, which
/// returns true and carries on; this one waits for it and exits with its
/// status, so the daemon's handle on it stays good (its death takes the
/// child along: parent-death signal).
fn enter_pid_namespace() -> Result<bool, String> {
    match host::fork_single_threaded().map_err(|e| format!("PID namespace: {e}"))? {
        None => {
            host::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64).map_err(|e| format!("PR_SET_PDEATHSIG: {e}"))?;
            Ok(true)
        }
        Some(child) => {
            // The control socket is the child's alone.
            release_control_socket();
            let code = host::wait_child(child).unwrap_or(1);
            std::process::exit(code);
        }
    }
}

/// Points descriptor 0 (a cloud host's control socket) at /dev/null in a
/// forked process that is not the host: the daemon must see the socket close
/// when the host dies, whoever else is still alive.
pub fn release_control_socket() {
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = host::dup_onto(std::os::fd::AsFd::as_fd(&null), 0);
    }
}

/// Confines this process to cloud `cloud` (after `prepare`).
pub fn confine(state: &State, cloud: &str) -> Result<(), String> {
    crate::mounter::bind(cloud)?;
    // Everything in its own dir but device nodes (mknodat is allowed for
    // AF_UNIX socket files; a root host must not make a disk's node).
    let rw = landlock::all(5) & !(landlock::MAKE_CHAR | landlock::MAKE_BLOCK);
    let mut rules: Vec<(&Path, u64)> = SYSTEM_DIRS.iter().map(|d| (Path::new(*d), landlock::READ)).collect();
    let (images, layers) = (state.images(), state.layers());
    rules.push((&images, landlock::READ));
    rules.push((&layers, landlock::READ));
    rules.push((state.root(), rw));
    rules.push((Path::new("/dev/kvm"), landlock::READ_FILE | landlock::WRITE_FILE | landlock::IOCTL_DEV));
    for d in DEVICES {
        rules.push((Path::new(d), landlock::READ_FILE | landlock::WRITE_FILE));
    }
    match host::landlock_restrict(&rules) {
        Ok(()) => Ok(()),
        Err(wisp_kernel::Errno::ENOSYS) if std::env::var_os("WISP_ALLOW_NO_LANDLOCK").is_some() => {
            eprintln!("wisp cloud-host: warning: no Landlock on this kernel; clouds are not confined");
            Ok(())
        }
        Err(e) => Err(format!("Landlock: {e} (set WISP_ALLOW_NO_LANDLOCK=1 to run unconfined)")),
    }
}

/// The host system calls a process running machines makes, and why. Any
/// other fails with EPERM once `restrict_syscalls` has run; notably absent:
/// execve, mount, unshare, setns, ptrace, socket, connect, bind, bpf and
/// the module, key and namespace calls.
const ALLOWED: &[(i64, &str)] = &[
    // Guest file I/O, served on host files (HostFs, volumes, pipes).
    (libc::SYS_read, "guest and control-socket reads"),
    (libc::SYS_write, "guest writes, logs, control-socket writes"),
    (libc::SYS_readv, "vectored guest I/O"),
    (libc::SYS_writev, "vectored guest I/O"),
    (libc::SYS_pread64, "positioned guest reads, ELF loading"),
    (libc::SYS_pwrite64, "positioned guest writes"),
    (libc::SYS_preadv, "positioned vectored reads"),
    (libc::SYS_pwritev, "positioned vectored writes"),
    (libc::SYS_preadv2, "non-blocking reads of pipes and FIFOs"),
    (libc::SYS_pwritev2, "positioned vectored writes with flags"),
    (libc::SYS_lseek, "guest lseek"),
    (libc::SYS_openat, "opening the machine's files below its root"),
    (libc::SYS_openat2, "every guest path lookup (RESOLVE_IN_ROOT)"),
    (libc::SYS_close, "closing descriptors"),
    (libc::SYS_close_range, "closing descriptors"),
    (libc::SYS_fstat, "guest fstat"),
    (libc::SYS_newfstatat, "guest stat family"),
    (libc::SYS_statx, "guest statx, std metadata"),
    (libc::SYS_fstatfs, "guest statfs, filesystem checks"),
    (libc::SYS_statfs, "guest statfs"),
    (libc::SYS_readlinkat, "guest readlink"),
    (libc::SYS_readlink, "std path handling"),
    (libc::SYS_getdents64, "guest directory listing"),
    (libc::SYS_mkdirat, "guest mkdir"),
    (libc::SYS_mknodat, "the socket file of a guest's named AF_UNIX socket (S_IFSOCK only)"),
    (libc::SYS_mkdir, "machine scratch directories"),
    (libc::SYS_unlinkat, "guest unlink and rmdir"),
    (libc::SYS_unlink, "removing scratch files"),
    (libc::SYS_rmdir, "removing scratch directories"),
    (libc::SYS_renameat2, "guest rename"),
    (libc::SYS_rename, "atomic replacement of wisp's own files"),
    (libc::SYS_linkat, "guest link"),
    (libc::SYS_symlinkat, "guest symlink"),
    (libc::SYS_fchmod, "guest fchmod"),
    (libc::SYS_fchmodat, "guest chmod"),
    (libc::SYS_fchmodat2, "guest chmod (newer libc)"),
    (libc::SYS_chmod, "guest chmod through /proc/self/fd"),
    (libc::SYS_fchown, "guest fchown"),
    (libc::SYS_fchownat, "guest chown"),
    (libc::SYS_utimensat, "guest utimes"),
    (libc::SYS_ftruncate, "guest truncate, guest memory files"),
    (libc::SYS_fallocate, "guest fallocate, freeing guest memory"),
    (libc::SYS_fsync, "guest fsync"),
    (libc::SYS_fdatasync, "guest fdatasync"),
    (libc::SYS_flock, "guest flock, volume and layer locks"),
    (libc::SYS_fcntl, "guest fcntl and record locks, descriptor flags"),
    (libc::SYS_faccessat, "guest access"),
    (libc::SYS_faccessat2, "guest access with flags"),
    (libc::SYS_access, "std and loader checks"),
    (libc::SYS_dup, "duplicating descriptors"),
    (libc::SYS_dup2, "duplicating descriptors"),
    (libc::SYS_dup3, "duplicating descriptors"),
    (libc::SYS_pipe2, "guest pipes, exec stdio"),
    (libc::SYS_ioctl, "KVM (vCPU runs, memory slots) and guest terminal ioctls"),
    (libc::SYS_umask, "host umask 0 so the guest umask rules"),
    // Guest memory and wisp's own.
    (libc::SYS_mmap, "guest memory, allocator"),
    (libc::SYS_munmap, "guest memory, allocator"),
    (libc::SYS_mprotect, "allocator, thread stacks"),
    (libc::SYS_madvise, "releasing guest memory"),
    (libc::SYS_mremap, "allocator"),
    (libc::SYS_mincore, "guest mincore"),
    (libc::SYS_brk, "allocator"),
    (libc::SYS_memfd_create, "guest memory backing, shared mappings"),
    // One host thread per guest thread.
    (libc::SYS_clone3, "starting host threads"),
    (libc::SYS_clone, "starting host threads (older libc)"),
    (libc::SYS_futex, "locks, condition variables, guest futexes"),
    (libc::SYS_set_robust_list, "thread start"),
    (libc::SYS_set_tid_address, "thread start"),
    (libc::SYS_rseq, "thread start"),
    (libc::SYS_gettid, "thread ids"),
    (libc::SYS_getpid, "process id"),
    (libc::SYS_sched_yield, "guest sched_yield"),
    (libc::SYS_sched_getaffinity, "CPU counts"),
    (libc::SYS_sched_setaffinity, "keeping a machine's threads on its vCPUs"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "process exit"),
    (libc::SYS_tgkill, "kicking vCPU threads out of KVM_RUN"),
    (libc::SYS_tkill, "kicking vCPU threads"),
    (libc::SYS_rt_sigaction, "kick and forwarding handlers"),
    (libc::SYS_rt_sigprocmask, "per-thread signal masks"),
    (libc::SYS_rt_sigreturn, "returning from the kick handler"),
    (libc::SYS_sigaltstack, "thread start and exit"),
    (libc::SYS_prctl, "thread names"),
    (libc::SYS_arch_prctl, "thread start"),
    // Time, timers and readiness.
    (libc::SYS_clock_gettime, "guest clocks, metering"),
    (libc::SYS_clock_getres, "guest clock_getres"),
    (libc::SYS_clock_nanosleep, "guest sleeps"),
    (libc::SYS_nanosleep, "sleeps"),
    (libc::SYS_timerfd_create, "guest timerfd"),
    (libc::SYS_timerfd_settime, "guest timerfd"),
    (libc::SYS_timerfd_gettime, "guest timerfd"),
    (libc::SYS_epoll_create1, "guest epoll"),
    (libc::SYS_epoll_ctl, "guest epoll"),
    (libc::SYS_epoll_wait, "guest epoll"),
    (libc::SYS_epoll_pwait, "guest epoll"),
    (libc::SYS_eventfd2, "guest eventfd"),
    (libc::SYS_poll, "guest poll, blocking waits"),
    (libc::SYS_ppoll, "guest ppoll"),
    // Volume I/O.
    (libc::SYS_io_uring_setup, "volume I/O rings"),
    (libc::SYS_io_uring_enter, "volume I/O"),
    (libc::SYS_io_uring_register, "volume I/O buffers"),
    // The already-connected control socket and guest socketpairs; no new
    // sockets and no connects.
    (libc::SYS_socketpair, "guest socketpair"),
    (libc::SYS_sendto, "control socket and guest sockets"),
    (libc::SYS_recvfrom, "control socket and guest sockets"),
    (libc::SYS_sendmsg, "guest sockets"),
    (libc::SYS_recvmsg, "guest sockets"),
    (libc::SYS_shutdown, "guest shutdown"),
    (libc::SYS_getsockopt, "guest getsockopt"),
    (libc::SYS_setsockopt, "guest setsockopt"),
    // Identity and limits.
    (libc::SYS_getrandom, "guest AT_RANDOM and getrandom, hash seeds"),
    (libc::SYS_uname, "guest uname"),
    (libc::SYS_getuid, "identity"),
    (libc::SYS_geteuid, "identity"),
    (libc::SYS_getgid, "identity"),
    (libc::SYS_getegid, "identity"),
    (libc::SYS_prlimit64, "stack size of new threads"),
    (libc::SYS_getrusage, "guest getrusage"),
    (libc::SYS_getcwd, "std path handling"),
];

/// Confines the calling process's system calls to `ALLOWED` plus `extra`.
/// `WISP_NO_SECCOMP=1` skips it (for debugging a missing entry).
pub fn restrict_syscalls(extra: &[i64]) -> Result<(), String> {
    if std::env::var_os("WISP_NO_SECCOMP").is_some() {
        return Ok(());
    }
    let mut nrs: Vec<i64> = ALLOWED.iter().map(|(nr, _)| *nr).chain(extra.iter().copied()).collect();
    nrs.sort_unstable();
    nrs.dedup();
    host::seccomp_allowlist(&nrs, libc::EPERM).map_err(|e| format!("seccomp: {e}"))
}
