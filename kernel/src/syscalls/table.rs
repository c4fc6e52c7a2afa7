//! The syscall table: data, not code. Every entry names its handler, how fully
//! it is supported, and what is missing. docs/syscalls.md is rendered from here
//! (and a test fails when it is stale).

use super::{Args, events, fs, futex, mm, proc, process, rw, signal, socket, sys_enosys, time, timers};
use crate::errno::SysResult;
use crate::task::Process;

pub type Handler = fn(&mut Process, &Args) -> SysResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Linux semantics for everything a single-process machine can express.
    Full,
    /// Works for common use; the note says what is missing.
    Partial(&'static str),
    /// Returns ENOSYS (and is counted); the note says why or which issue adds it.
    Missing(&'static str),
}

pub struct Entry {
    pub nr: u16,
    pub name: &'static str,
    pub nargs: u8,
    pub handler: Handler,
    pub support: Support,
}

const fn full(nr: u16, name: &'static str, nargs: u8, handler: Handler) -> Entry {
    Entry { nr, name, nargs, handler, support: Support::Full }
}

const fn part(nr: u16, name: &'static str, nargs: u8, handler: Handler, note: &'static str) -> Entry {
    Entry { nr, name, nargs, handler, support: Support::Partial(note) }
}

const fn none(nr: u16, name: &'static str, nargs: u8, note: &'static str) -> Entry {
    Entry { nr, name, nargs, handler: sys_enosys, support: Support::Missing(note) }
}

const PROCS: &str = "needs processes (issue 4)";

pub static TABLE: &[Entry] = &[
    full(0, "read", 3, rw::sys_read),
    full(1, "write", 3, rw::sys_write),
    full(2, "open", 3, fs::sys_open),
    full(3, "close", 1, fs::sys_close),
    full(4, "stat", 2, fs::sys_stat),
    full(5, "fstat", 2, fs::sys_fstat),
    full(6, "lstat", 2, fs::sys_lstat),
    full(7, "poll", 3, rw::sys_poll),
    full(8, "lseek", 3, rw::sys_lseek),
    part(9, "mmap", 6, mm::sys_mmap, "MAP_HUGETLB refused; pages are populated at map time and charged to --mem"),
    full(10, "mprotect", 3, mm::sys_mprotect),
    full(11, "munmap", 2, mm::sys_munmap),
    full(12, "brk", 1, mm::sys_brk),
    full(13, "rt_sigaction", 4, signal::sys_rt_sigaction),
    full(14, "rt_sigprocmask", 4, signal::sys_rt_sigprocmask),
    full(15, "rt_sigreturn", 0, signal::sys_rt_sigreturn),
    part(
        16,
        "ioctl",
        3,
        fs::sys_ioctl,
        "TCGETS, TIOCGWINSZ, TIOCGPGRP on host terminals; FIONBIO, FIOCLEX, FIONCLEX; others ENOTTY",
    ),
    full(17, "pread64", 4, rw::sys_pread64),
    full(18, "pwrite64", 4, rw::sys_pwrite64),
    full(19, "readv", 3, rw::sys_readv),
    full(20, "writev", 3, rw::sys_writev),
    full(21, "access", 2, fs::sys_access),
    part(22, "pipe", 1, fs::sys_pipe, "a host pipe; SIGPIPE on a closed reader comes with processes (issue 4)"),
    full(23, "select", 5, rw::sys_select),
    part(24, "sched_yield", 0, proc::sys_ok, "one vCPU: returns at once"),
    full(25, "mremap", 5, mm::sys_mremap),
    part(26, "msync", 3, mm::sys_msync, "shared file mappings write through, so there is nothing to flush"),
    part(27, "mincore", 3, mm::sys_mincore, "every mapped page reports resident"),
    part(28, "madvise", 3, mm::sys_madvise, "MADV_DONTNEED zeroes private anonymous pages; other advice ignored"),
    none(29, "shmget", 3, PROCS),
    none(30, "shmat", 3, PROCS),
    none(31, "shmctl", 3, PROCS),
    full(32, "dup", 1, fs::sys_dup),
    full(33, "dup2", 2, fs::sys_dup2),
    full(34, "pause", 0, signal::sys_pause),
    full(35, "nanosleep", 2, time::sys_nanosleep),
    part(36, "getitimer", 2, timers::sys_getitimer, "ITIMER_REAL only"),
    full(37, "alarm", 1, timers::sys_alarm),
    part(38, "setitimer", 3, timers::sys_setitimer, "ITIMER_REAL only; ITIMER_VIRTUAL and ITIMER_PROF return EINVAL"),
    full(39, "getpid", 0, process::sys_getpid),
    part(40, "sendfile", 4, rw::sys_sendfile, "copies through the host, at most 1 MiB per call"),
    part(
        41,
        "socket",
        3,
        socket::sys_socket,
        "TCP and UDP over AF_INET and dual-stack AF_INET6 on the cloud network; AF_UNIX stream, seqpacket and datagram (SOCK_RAW taken as datagram, as Linux)",
    ),
    part(
        42,
        "connect",
        3,
        socket::sys_connect,
        "TCP, UDP and AF_UNIX datagram (AF_UNSPEC dissolves the peer), AF_UNIX stream and seqpacket by path or abstract name (a blocking connect waits for room in a full queue)",
    ),
    part(43, "accept", 3, socket::sys_accept, "TCP and AF_UNIX stream and seqpacket"),
    part(
        44,
        "sendto",
        6,
        socket::sys_sendto,
        "a destination on UDP and AF_UNIX datagram sockets (socketpair ends included); AF_UNIX stream refuses one",
    ),
    part(
        45,
        "recvfrom",
        6,
        socket::sys_recvfrom,
        "UDP and AF_UNIX datagram sources; TCP and AF_UNIX stream give none, as Linux",
    ),
    part(46, "sendmsg", 3, socket::sys_sendmsg, "no ancillary data (SCM_RIGHTS) yet"),
    part(47, "recvmsg", 3, socket::sys_recvmsg, "no ancillary data yet"),
    full(48, "shutdown", 2, socket::sys_shutdown),
    part(
        49,
        "bind",
        3,
        socket::sys_bind,
        "TCP, UDP, AF_UNIX paths (a socket file), abstract names and autobind; not socketpair ends",
    ),
    part(50, "listen", 2, socket::sys_listen, "TCP and AF_UNIX stream and seqpacket"),
    part(51, "getsockname", 3, socket::sys_getsockname, "TCP, UDP and AF_UNIX"),
    part(52, "getpeername", 3, socket::sys_getpeername, "TCP, UDP and AF_UNIX"),
    full(53, "socketpair", 4, socket::sys_socketpair),
    part(54, "setsockopt", 5, socket::sys_setsockopt, "SO_SNDBUF and SO_RCVBUF"),
    part(
        55,
        "getsockopt",
        5,
        socket::sys_getsockopt,
        "SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_DOMAIN, SO_ACCEPTCONN",
    ),
    part(
        56,
        "clone",
        5,
        process::sys_clone,
        "processes and threads; threads copy the working directory instead of sharing it",
    ),
    full(57, "fork", 0, process::sys_fork),
    full(58, "vfork", 0, process::sys_vfork),
    full(59, "execve", 3, process::sys_execve),
    full(60, "exit", 1, proc::sys_exit),
    part(
        61,
        "wait4",
        4,
        process::sys_wait4,
        "exited children; stopped/continued ones are not modelled; rusage is zero",
    ),
    part(62, "kill", 2, process::sys_kill, "within the machine; siginfo carries no sender pid for other processes"),
    full(63, "uname", 1, proc::sys_uname),
    part(
        72,
        "fcntl",
        3,
        fs::sys_fcntl,
        "record locks: F_GETLK reports l_pid -1 for another process's lock; no F_SETOWN/F_NOTIFY/leases",
    ),
    full(73, "flock", 2, fs::sys_flock),
    full(74, "fsync", 1, fs::sys_fsync),
    full(75, "fdatasync", 1, fs::sys_fsync),
    full(76, "truncate", 2, fs::sys_truncate),
    full(77, "ftruncate", 2, fs::sys_ftruncate),
    none(78, "getdents", 3, "obsolete; libc uses getdents64"),
    full(79, "getcwd", 2, fs::sys_getcwd),
    full(80, "chdir", 1, fs::sys_chdir),
    full(81, "fchdir", 1, fs::sys_fchdir),
    full(82, "rename", 2, fs::sys_rename),
    full(83, "mkdir", 2, fs::sys_mkdir),
    full(84, "rmdir", 1, fs::sys_rmdir),
    full(85, "creat", 2, fs::sys_creat),
    full(86, "link", 2, fs::sys_link),
    full(87, "unlink", 1, fs::sys_unlink),
    full(88, "symlink", 2, fs::sys_symlink),
    full(89, "readlink", 3, fs::sys_readlink),
    full(90, "chmod", 2, fs::sys_chmod),
    full(91, "fchmod", 2, fs::sys_fchmod),
    full(92, "chown", 3, fs::sys_chown),
    full(93, "fchown", 3, fs::sys_fchown),
    full(94, "lchown", 3, fs::sys_lchown),
    full(95, "umask", 1, fs::sys_umask),
    full(96, "gettimeofday", 2, time::sys_gettimeofday),
    full(97, "getrlimit", 2, proc::sys_getrlimit),
    part(98, "getrusage", 2, time::sys_getrusage, "CPU times are the host process's"),
    full(99, "sysinfo", 1, proc::sys_sysinfo),
    full(100, "times", 1, time::sys_times),
    none(101, "ptrace", 4, "not supported inside machines"),
    full(102, "getuid", 0, proc::sys_getuid),
    full(104, "getgid", 0, proc::sys_getgid),
    part(105, "setuid", 1, proc::sys_setid, "only the current identity"),
    part(106, "setgid", 1, proc::sys_setid, "only the current identity"),
    full(107, "geteuid", 0, proc::sys_getuid),
    full(108, "getegid", 0, proc::sys_getgid),
    full(109, "setpgid", 2, process::sys_setpgid),
    full(110, "getppid", 0, process::sys_getppid),
    full(111, "getpgrp", 0, process::sys_getpgrp),
    full(112, "setsid", 0, process::sys_setsid),
    part(113, "setreuid", 2, proc::sys_setid, "only the current identity"),
    part(114, "setregid", 2, proc::sys_setid, "only the current identity"),
    full(115, "getgroups", 2, proc::sys_getgroups),
    part(116, "setgroups", 2, proc::sys_eperm, "EPERM"),
    part(117, "setresuid", 3, proc::sys_setid, "only the current identity"),
    full(118, "getresuid", 3, proc::sys_getresuid),
    part(119, "setresgid", 3, proc::sys_setid, "only the current identity"),
    full(120, "getresgid", 3, proc::sys_getresgid),
    full(121, "getpgid", 1, process::sys_getpgid),
    full(124, "getsid", 1, process::sys_getsid),
    part(125, "capget", 2, proc::sys_capget, "no capabilities"),
    full(127, "rt_sigpending", 2, signal::sys_rt_sigpending),
    full(128, "rt_sigtimedwait", 4, signal::sys_rt_sigtimedwait),
    full(129, "rt_sigqueueinfo", 3, signal::sys_rt_sigqueueinfo),
    full(130, "rt_sigsuspend", 2, signal::sys_rt_sigsuspend),
    full(131, "sigaltstack", 2, signal::sys_sigaltstack),
    full(132, "utime", 2, fs::sys_utime),
    part(135, "personality", 1, proc::sys_personality, "PER_LINUX only"),
    part(137, "statfs", 2, fs::sys_statfs, "fixed ext4-like answer"),
    part(138, "fstatfs", 2, fs::sys_statfs, "fixed ext4-like answer"),
    full(140, "getpriority", 2, proc::sys_getpriority),
    part(141, "setpriority", 3, proc::sys_ok, "accepted, no effect"),
    part(142, "sched_setparam", 2, proc::sys_ok, "accepted, no effect"),
    part(144, "sched_setscheduler", 3, proc::sys_ok, "accepted, no effect"),
    part(145, "sched_getscheduler", 1, proc::sys_ok, "always SCHED_OTHER"),
    part(149, "mlock", 2, mm::sys_mlock, "memory is never swapped: no-op"),
    part(150, "munlock", 2, mm::sys_mlock, "no-op"),
    part(151, "mlockall", 1, mm::sys_mlock, "no-op"),
    part(152, "munlockall", 0, mm::sys_mlock, "no-op"),
    part(157, "prctl", 5, proc::sys_prctl, "PR_SET/GET_NAME, dumpable, no_new_privs, PR_SET_VMA; others EINVAL"),
    part(158, "arch_prctl", 2, proc::sys_arch_prctl, "FS and GS bases; CPUID faulting is not offered"),
    full(160, "setrlimit", 2, proc::sys_setrlimit),
    part(161, "chroot", 1, proc::sys_eperm, "EPERM"),
    part(162, "sync", 0, proc::sys_ok, "no-op: the root is read-only and /tmp is memory"),
    part(165, "mount", 5, proc::sys_eperm, "EPERM"),
    part(166, "umount2", 2, proc::sys_eperm, "EPERM"),
    part(169, "reboot", 4, proc::sys_eperm, "EPERM"),
    part(170, "sethostname", 2, proc::sys_eperm, "EPERM"),
    full(186, "gettid", 0, process::sys_gettid),
    part(191, "getxattr", 4, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    part(192, "lgetxattr", 4, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    part(193, "fgetxattr", 4, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    part(194, "listxattr", 3, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    part(195, "llistxattr", 3, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    part(196, "flistxattr", 3, fs::sys_xattr, "no extended attributes: EOPNOTSUPP"),
    full(200, "tkill", 2, process::sys_tkill),
    full(201, "time", 1, time::sys_time),
    part(
        202,
        "futex",
        6,
        futex::sys_futex,
        "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE; no PI or WAKE_OP",
    ),
    part(203, "sched_setaffinity", 3, proc::sys_ok, "accepted, no effect"),
    full(204, "sched_getaffinity", 3, proc::sys_sched_getaffinity),
    full(213, "epoll_create", 1, events::sys_epoll_create),
    full(217, "getdents64", 3, fs::sys_getdents64),
    full(218, "set_tid_address", 1, proc::sys_set_tid_address),
    part(221, "fadvise64", 4, fs::sys_fadvise, "advice ignored"),
    part(
        222,
        "timer_create",
        3,
        timers::sys_timer_create,
        "wall and monotonic clocks; CPU-time clocks return EOPNOTSUPP",
    ),
    full(223, "timer_settime", 4, timers::sys_timer_settime),
    full(224, "timer_gettime", 2, timers::sys_timer_gettime),
    part(
        225,
        "timer_getoverrun",
        1,
        timers::sys_timer_getoverrun,
        "counts expirations missed by a late timer thread, not those merged into a still-pending signal",
    ),
    full(226, "timer_delete", 1, timers::sys_timer_delete),
    full(228, "clock_gettime", 2, time::sys_clock_gettime),
    full(229, "clock_getres", 2, time::sys_clock_getres),
    full(230, "clock_nanosleep", 4, time::sys_clock_nanosleep),
    full(231, "exit_group", 1, proc::sys_exit_group),
    full(232, "epoll_wait", 4, events::sys_epoll_wait),
    full(233, "epoll_ctl", 4, events::sys_epoll_ctl),
    full(234, "tgkill", 3, process::sys_tgkill),
    full(235, "utimes", 2, fs::sys_utimes),
    part(247, "waitid", 5, process::sys_waitid, "exited children; stopped/continued ones are not modelled"),
    none(253, "inotify_init", 0, "not supported yet"),
    full(257, "openat", 4, fs::sys_openat),
    full(258, "mkdirat", 3, fs::sys_mkdirat),
    full(260, "fchownat", 5, fs::sys_fchownat),
    full(262, "newfstatat", 4, fs::sys_newfstatat),
    full(263, "unlinkat", 3, fs::sys_unlinkat),
    full(264, "renameat", 4, fs::sys_renameat),
    part(265, "linkat", 5, fs::sys_linkat, "AT_EMPTY_PATH is not supported"),
    full(266, "symlinkat", 3, fs::sys_symlinkat),
    full(267, "readlinkat", 4, fs::sys_readlinkat),
    full(268, "fchmodat", 3, fs::sys_fchmodat),
    full(269, "faccessat", 3, fs::sys_faccessat),
    full(270, "pselect6", 6, rw::sys_pselect6),
    full(271, "ppoll", 5, rw::sys_ppoll),
    full(273, "set_robust_list", 2, proc::sys_set_robust_list),
    part(
        274,
        "get_robust_list",
        3,
        proc::sys_get_robust_list,
        "only the caller's own list; another thread's gives EPERM",
    ),
    none(275, "splice", 6, PROCS),
    full(280, "utimensat", 4, fs::sys_utimensat),
    full(281, "epoll_pwait", 6, events::sys_epoll_pwait),
    full(283, "timerfd_create", 2, events::sys_timerfd_create),
    full(284, "eventfd", 1, events::sys_eventfd),
    full(285, "fallocate", 4, fs::sys_fallocate),
    full(286, "timerfd_settime", 4, events::sys_timerfd_settime),
    full(287, "timerfd_gettime", 2, events::sys_timerfd_gettime),
    part(288, "accept4", 4, socket::sys_accept4, "TCP and AF_UNIX stream and seqpacket"),
    full(290, "eventfd2", 2, events::sys_eventfd2),
    full(291, "epoll_create1", 1, events::sys_epoll_create1),
    full(292, "dup3", 3, fs::sys_dup3),
    part(293, "pipe2", 2, fs::sys_pipe2, "a host pipe; SIGPIPE on a closed reader comes with processes (issue 4)"),
    none(294, "inotify_init1", 1, "not supported yet"),
    full(295, "preadv", 4, rw::sys_preadv),
    full(296, "pwritev", 4, rw::sys_pwritev),
    full(297, "rt_tgsigqueueinfo", 4, signal::sys_rt_tgsigqueueinfo),
    part(299, "recvmmsg", 5, socket::sys_recvmmsg, "a loop of recvmsg; the timeout is not applied"),
    full(302, "prlimit64", 4, proc::sys_prlimit64),
    full(307, "sendmmsg", 4, socket::sys_sendmmsg),
    full(309, "getcpu", 3, proc::sys_getcpu),
    full(316, "renameat2", 5, fs::sys_renameat2),
    none(317, "seccomp", 3, "not supported inside machines"),
    full(318, "getrandom", 3, proc::sys_getrandom),
    none(319, "memfd_create", 2, "storage (issue 3)"),
    none(326, "copy_file_range", 6, "libc falls back to read/write"),
    part(332, "statx", 5, fs::sys_statx, "basic fields; no birth time or attributes"),
    none(334, "rseq", 4, "glibc runs without it"),
    none(424, "pidfd_send_signal", 4, PROCS),
    none(425, "io_uring_setup", 2, "not offered to guests"),
    none(434, "pidfd_open", 2, PROCS),
    none(435, "clone3", 2, "libc falls back to clone"),
    full(436, "close_range", 3, fs::sys_close_range),
    part(437, "openat2", 4, fs::sys_openat2, "RESOLVE_* flags are refused with EINVAL"),
    full(439, "faccessat2", 4, fs::sys_faccessat2),
];

/// docs/syscalls.md.
pub fn render_doc() -> String {
    let mut entries: Vec<&Entry> = TABLE.iter().collect();
    entries.sort_by_key(|e| e.nr);
    let (mut full, mut partial, mut missing) = (0, 0, 0);
    let mut rows = String::new();
    for e in &entries {
        let (level, note) = match e.support {
            Support::Full => {
                full += 1;
                ("full", "")
            }
            Support::Partial(n) => {
                partial += 1;
                ("partial", n)
            }
            Support::Missing(n) => {
                missing += 1;
                ("ENOSYS", n)
            }
        };
        rows.push_str(&format!("| {} | `{}` | {level} | {note} |\n", e.nr, e.name));
    }
    format!(
        "# Syscalls\n\nGenerated from `kernel/src/syscalls/table.rs` by \
         `WISP_BLESS=1 cargo test -p wisp-kernel syscall_doc`; do not edit by hand.\n\n\
         {full} full, {partial} partial, {missing} returning ENOSYS. Any number not listed returns \
         ENOSYS too. Every ENOSYS is counted and shows in `--strace` and in the `WISP_STATS=1` line.\n\n\
         | nr | name | support | note |\n| --- | --- | --- | --- |\n{rows}"
    )
}
