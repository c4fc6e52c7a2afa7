//! Host system calls the personality makes on the guest's behalf.
//!
//! This is the personality's only unsafe module besides `mm::phys`. Every
//! function takes owned Rust buffers (never guest memory), and returns
//! `Result<_, Errno>` with the host errno already translated.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::errno::Errno;

fn check(r: i64) -> Result<u64, Errno> {
    if r < 0 { Err(Errno::last_host()) } else { Ok(r as u64) }
}

fn cstring(path: &[u8]) -> Result<CString, Errno> {
    CString::new(path).map_err(|_| Errno::EINVAL)
}

pub fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
    // SAFETY: `buf` is a valid writable buffer of the given length.
    let r = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), off as libc::off_t) };
    check(r as i64).map(|n| n as usize)
}

pub fn pwrite(fd: BorrowedFd<'_>, buf: &[u8], off: u64) -> Result<usize, Errno> {
    // SAFETY: `buf` is a valid readable buffer of the given length.
    let r = unsafe { libc::pwrite(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), off as libc::off_t) };
    check(r as i64).map(|n| n as usize)
}

/// preadv2(2) with RWF_NOWAIT: reads what the page cache holds now, or EAGAIN
/// when that would wait for the disk. `off` None reads at the file position.
pub fn pread_nowait(fd: BorrowedFd<'_>, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
    let iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let off = off.map_or(-1, |o| o.min(i64::MAX as u64) as libc::off_t);
    // SAFETY: one iovec covering `buf`, which is writable for its length.
    let r = unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, off, libc::RWF_NOWAIT) };
    check(r as i64).map(|n| n as usize)
}

pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is a valid writable buffer of the given length.
    let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    check(r as i64).map(|n| n as usize)
}

pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is a valid readable buffer of the given length.
    let r = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    check(r as i64).map(|n| n as usize)
}

pub fn lseek(fd: BorrowedFd<'_>, off: i64, whence: i32) -> Result<u64, Errno> {
    // SAFETY: plain syscall on a valid descriptor.
    let r = unsafe { libc::lseek(fd.as_raw_fd(), off, whence) };
    check(r)
}

/// `openat2(2)` with `resolve` flags, relative to `dir`.
pub fn openat2(dir: BorrowedFd<'_>, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Result<OwnedFd, Errno> {
    let c = cstring(path)?;
    // struct open_how { u64 flags; u64 mode; u64 resolve; }
    let how: [u64; 3] = [flags, mode, resolve];
    // SAFETY: `c` is NUL-terminated and `how` has the layout and size of open_how.
    let r = unsafe {
        libc::syscall(libc::SYS_openat2, dir.as_raw_fd(), c.as_ptr(), how.as_ptr(), std::mem::size_of_val(&how))
    };
    let fd = check(r)? as RawFd;
    // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens `path` (absolute on the host) as a directory handle, O_PATH.
pub fn open_dir_path(path: &std::path::Path) -> Result<OwnedFd, Errno> {
    use std::os::unix::ffi::OsStrExt;
    let c = cstring(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is NUL-terminated.
    let r = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    let fd = check(r as i64)? as RawFd;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Re-opens an O_PATH descriptor with real access flags, through /proc/self/fd.
pub fn reopen(fd: BorrowedFd<'_>, flags: i32) -> Result<OwnedFd, Errno> {
    let p = cstring(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())?;
    // SAFETY: `p` is NUL-terminated.
    let r = unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, 0) };
    let fd = check(r as i64)? as RawFd;
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn fstat(fd: BorrowedFd<'_>) -> Result<libc::stat, Errno> {
    // SAFETY: zeroed `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let empty = c"";
    // SAFETY: `st` is writable; AT_EMPTY_PATH makes this stat the descriptor itself,
    // which also works for O_PATH descriptors of symlinks.
    let r = unsafe { libc::fstatat(fd.as_raw_fd(), empty.as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    check(r as i64)?;
    Ok(st)
}

pub fn fstatfs_type(fd: BorrowedFd<'_>) -> Result<i64, Errno> {
    // SAFETY: zeroed statfs is a valid plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable.
    let r = unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) };
    check(r as i64)?;
    Ok(st.f_type)
}

pub fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 4096];
    let empty = c"";
    // SAFETY: `buf` is writable for its length; an empty path reads the link the
    // O_PATH descriptor refers to.
    let r = unsafe { libc::readlinkat(fd.as_raw_fd(), empty.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let n = check(r as i64)? as usize;
    buf.truncate(n);
    Ok(buf)
}

pub fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    let r = unsafe { libc::syscall(libc::SYS_getdents64, fd.as_raw_fd(), buf.as_mut_ptr(), buf.len()) };
    check(r).map(|n| n as usize)
}

/// Calls a `*at` operation that takes (dirfd, name) and extra integer arguments.
pub fn at_op(op: AtOp, dir: BorrowedFd<'_>, name: &[u8], arg: u32) -> Result<(), Errno> {
    let c = cstring(name)?;
    // SAFETY: `c` is NUL-terminated and `dir` is a valid descriptor.
    let r = unsafe {
        match op {
            AtOp::Mkdir => libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), arg as libc::mode_t),
            AtOp::Unlink => libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), arg as i32),
            AtOp::MakeSocket => libc::mknodat(dir.as_raw_fd(), c.as_ptr(), libc::S_IFSOCK | (arg & 0o7777), 0),
            AtOp::MakeCharDevice => {
                libc::mknodat(dir.as_raw_fd(), c.as_ptr(), libc::S_IFCHR | 0o600, arg as libc::dev_t)
            }
        }
    };
    check(r as i64).map(|_| ())
}

#[derive(Clone, Copy)]
pub enum AtOp {
    Mkdir,
    Unlink,
    /// A socket file (mknodat S_IFSOCK) for a named AF_UNIX socket.
    MakeSocket,
    /// A character device node numbered `arg` (the confinement probe tries it).
    MakeCharDevice,
}

pub fn symlinkat(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> Result<(), Errno> {
    let (t, n) = (cstring(target)?, cstring(name)?);
    // SAFETY: both strings are NUL-terminated; `dir` is valid.
    let r = unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) };
    check(r as i64).map(|_| ())
}

pub fn renameat(od: BorrowedFd<'_>, on: &[u8], nd: BorrowedFd<'_>, nn: &[u8], flags: u32) -> Result<(), Errno> {
    let (a, b) = (cstring(on)?, cstring(nn)?);
    // SAFETY: both strings are NUL-terminated; both descriptors are valid.
    let r =
        unsafe { libc::syscall(libc::SYS_renameat2, od.as_raw_fd(), a.as_ptr(), nd.as_raw_fd(), b.as_ptr(), flags) };
    check(r).map(|_| ())
}

pub fn linkat(od: BorrowedFd<'_>, on: &[u8], nd: BorrowedFd<'_>, nn: &[u8]) -> Result<(), Errno> {
    let (a, b) = (cstring(on)?, cstring(nn)?);
    // SAFETY: both strings are NUL-terminated; both descriptors are valid.
    let r = unsafe { libc::linkat(od.as_raw_fd(), a.as_ptr(), nd.as_raw_fd(), b.as_ptr(), 0) };
    check(r as i64).map(|_| ())
}

/// Links the object an O_PATH descriptor names (resolved with follow) as
/// `nn` in `nd`, through its /proc/self/fd link.
pub fn link_path_fd(fd: BorrowedFd<'_>, nd: BorrowedFd<'_>, nn: &[u8]) -> Result<(), Errno> {
    let (a, b) = (cstring(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())?, cstring(nn)?);
    // SAFETY: both strings are NUL-terminated; both descriptors are valid.
    let r = unsafe { libc::linkat(libc::AT_FDCWD, a.as_ptr(), nd.as_raw_fd(), b.as_ptr(), libc::AT_SYMLINK_FOLLOW) };
    check(r as i64).map(|_| ())
}

/// flock(2) on a host descriptor, blocking or not as `op` says.
pub fn flock_op(fd: BorrowedFd<'_>, op: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::flock(fd.as_raw_fd(), op) } as i64).map(|_| ())
}

/// fcntl(2) record-lock commands with `struct flock` as its 32 bytes.
pub fn fcntl_lock(fd: BorrowedFd<'_>, cmd: i32, fl: &mut [u8; 32]) -> Result<(), Errno> {
    // SAFETY: `fl` has the size and layout of struct flock on x86_64.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), cmd, fl.as_mut_ptr()) };
    check(r as i64).map(|_| ())
}

pub fn ftruncate(fd: BorrowedFd<'_>, len: u64) -> Result<(), Errno> {
    // SAFETY: plain syscall on a valid descriptor.
    let r = unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) };
    check(r as i64).map(|_| ())
}

pub fn fallocate(fd: BorrowedFd<'_>, mode: i32, off: u64, len: u64) -> Result<(), Errno> {
    if off > i64::MAX as u64 || len > i64::MAX as u64 {
        return Err(Errno::EFBIG);
    }
    // SAFETY: plain syscall with integer arguments.
    let r = unsafe { libc::fallocate(fd.as_raw_fd(), mode, off as libc::off_t, len as libc::off_t) };
    check(r as i64).map(|_| ())
}

pub fn fsync(fd: BorrowedFd<'_>, data_only: bool) -> Result<(), Errno> {
    // SAFETY: plain syscall on a valid descriptor.
    let r = unsafe { if data_only { libc::fdatasync(fd.as_raw_fd()) } else { libc::fsync(fd.as_raw_fd()) } };
    check(r as i64).map(|_| ())
}

pub fn fcntl_getfl(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    // SAFETY: plain syscall on a valid descriptor.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    check(r as i64).map(|v| v as i32)
}

pub fn fcntl_setfl(fd: BorrowedFd<'_>, flags: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall on a valid descriptor.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) };
    check(r as i64).map(|_| ())
}

pub fn faccess(fd: BorrowedFd<'_>, mode: i32) -> Result<(), Errno> {
    let empty = c"";
    // SAFETY: empty NUL-terminated path with AT_EMPTY_PATH checks the descriptor itself.
    let r = unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            fd.as_raw_fd(),
            empty.as_ptr(),
            mode,
            libc::AT_EMPTY_PATH | libc::AT_EACCESS,
        )
    };
    check(r).map(|_| ())
}

/// Terminal ioctls with fixed-size arguments, passed through for the standard streams.
pub fn tty_ioctl(fd: BorrowedFd<'_>, req: u64, arg: &mut [u8]) -> Result<u64, Errno> {
    // SAFETY: callers pass only requests whose argument is exactly `arg.len()`
    // bytes (TCGETS: termios, TIOCGWINSZ: winsize, TIOCGPGRP: pid_t).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg.as_mut_ptr()) };
    check(r as i64)
}

pub fn clock_gettime(clock: i32) -> Result<libc::timespec, Errno> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is writable.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    check(r as i64)?;
    Ok(ts)
}

pub fn clock_getres(clock: i32) -> Result<libc::timespec, Errno> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is writable.
    let r = unsafe { libc::clock_getres(clock, &mut ts) };
    check(r as i64)?;
    Ok(ts)
}

/// Sleeps on the host; an interruption returns EINTR with the time left.
pub fn clock_nanosleep(clock: i32, abs: bool, req: &libc::timespec) -> Result<(), (Errno, libc::timespec)> {
    let mut rem = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let flags = if abs { libc::TIMER_ABSTIME } else { 0 };
    // SAFETY: `req` and `rem` are valid timespecs.
    let r = unsafe { libc::clock_nanosleep(clock, flags, req, &mut rem) };
    if r == 0 { Ok(()) } else { Err((Errno(r), rem)) }
}

pub fn getrandom(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    let r = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    check(r as i64).map(|n| n as usize)
}

pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize, Errno> {
    // SAFETY: `fds` is a valid array of pollfd of the given length.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    check(r as i64).map(|n| n as usize)
}

/// Which of `events` (poll(2) bits) descriptor `fd` has right now, without
/// waiting.
pub fn poll_now(fd: BorrowedFd<'_>, events: i16) -> Result<i16, Errno> {
    let mut p = [libc::pollfd { fd: fd.as_raw_fd(), events, revents: 0 }];
    poll(&mut p, 0).map(|_| p[0].revents)
}

/// A u64 in a small file mapped shared: every process that maps the same
/// file sees and updates one value (a volume's bytes in use, across the
/// machines using it at once).
pub struct SharedCounter {
    ptr: *mut std::sync::atomic::AtomicU64,
}

// SAFETY: the pointer is to a shared mapping accessed only atomically.
unsafe impl Send for SharedCounter {}
// SAFETY: as above.
unsafe impl Sync for SharedCounter {}

impl SharedCounter {
    /// Maps (creating if needed) the counter file at `path`.
    pub fn open(path: &std::path::Path) -> std::io::Result<SharedCounter> {
        use std::os::unix::fs::OpenOptionsExt;
        let f =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)?;
        if f.metadata()?.len() < 8 {
            f.set_len(8)?;
        }
        // SAFETY: a fresh shared mapping of 8 bytes of a file we just sized;
        // the kernel picks the (page-aligned) address.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), 8, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, f.as_raw_fd(), 0)
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(SharedCounter { ptr: p.cast() })
    }

    pub fn get(&self) -> &std::sync::atomic::AtomicU64 {
        // SAFETY: the mapping is page-aligned, 8 bytes long and lives as long
        // as `self`; other processes touch it only through atomics too.
        unsafe { &*self.ptr }
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `open`; no reference to it
        // outlives `self`.
        unsafe { libc::munmap(self.ptr.cast(), 8) };
    }
}

/// flock(2) without blocking: true when taken, false when someone else
/// holds a conflicting lock.
pub fn flock(f: &impl AsRawFd, exclusive: bool) -> Result<bool, Errno> {
    let op = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH } | libc::LOCK_NB;
    // SAFETY: plain syscall on a descriptor the caller owns.
    let r = unsafe { libc::flock(f.as_raw_fd(), op) };
    match check(r as i64) {
        Ok(_) => Ok(true),
        Err(Errno::EAGAIN) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves the calling (still single-threaded) process into a private mount
/// namespace, so mounts it makes (a machine's layered root) are invisible to
/// the host and vanish when it exits. As root that is CLONE_NEWNS alone;
/// otherwise a user namespace mapping our own uid and gid comes first.
pub fn enter_mount_namespace() -> Result<(), Errno> {
    let (uid, gid) = ids();
    // SAFETY: plain syscalls with integer arguments.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        // SAFETY: as above.
        check(unsafe { libc::unshare(libc::CLONE_NEWNS) } as i64)?;
    } else {
        // SAFETY: as above.
        check(unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } as i64)?;
        std::fs::write("/proc/self/setgroups", "deny")?;
        std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
        std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    }
    // Nothing we mount may propagate back to the host's namespace.
    // SAFETY: NUL-terminated literals; no data argument.
    let r = unsafe {
        libc::mount(
            c"none".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    check(r as i64).map(|_| ())
}

/// Mounts an overlay at `target`: `lower` layers (top first), read-only, under
/// the writable `upper` (with its `work` directory on the same filesystem).
pub fn mount_overlay(
    lower: &[&std::path::Path],
    upper: &std::path::Path,
    work: &std::path::Path,
    target: &std::path::Path,
) -> Result<(), Errno> {
    let path = |p: &std::path::Path| -> Result<String, Errno> {
        let s = p.to_str().ok_or(Errno::EINVAL)?;
        // Separators of the option string cannot be escaped reliably.
        if s.contains([',', ':', '\\', '\0']) { Err(Errno::EINVAL) } else { Ok(s.to_string()) }
    };
    let lowers = lower.iter().map(|p| path(p)).collect::<Result<Vec<_>, _>>()?.join(":");
    let base = format!("lowerdir={lowers},upperdir={},workdir={}", path(upper)?, path(work)?);
    let target = CString::new(path(target)?).map_err(|_| Errno::EINVAL)?;
    // Unprivileged overlays keep their metadata in user.* xattrs.
    let mut last = Errno::EINVAL;
    for opts in [base.clone(), format!("{base},userxattr")] {
        let data = CString::new(opts).map_err(|_| Errno::EINVAL)?;
        // SAFETY: all pointers are NUL-terminated strings that outlive the call.
        let r = unsafe {
            libc::mount(c"wisp-root".as_ptr(), target.as_ptr(), c"overlay".as_ptr(), 0, data.as_ptr().cast())
        };
        match check(r as i64) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Detaches the mount at `target` (lazily: it goes once nothing uses it).
pub fn umount(target: &std::path::Path) -> Result<(), Errno> {
    let t = CString::new(target.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `t` is a NUL-terminated string that outlives the call.
    check(unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) } as i64).map(|_| ())
}

/// An anonymous host memory file of `size` bytes, close-on-exec.
pub fn memfd(name: &std::ffi::CStr, size: u64) -> Result<OwnedFd, Errno> {
    // SAFETY: `name` is a valid NUL-terminated string.
    let r = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    let fd = own_fd(check(r as i64)? as i32)?;
    ftruncate(fd.as_fd(), size)?;
    Ok(fd)
}

/// A host epoll instance, close-on-exec.
pub fn epoll_create() -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with an integer argument.
    let r = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    own_fd(check(r as i64)? as i32)
}

/// epoll_ctl on a host instance; `token` comes back with each event.
pub fn epoll_ctl(ep: BorrowedFd<'_>, op: i32, fd: BorrowedFd<'_>, events: u32, token: u64) -> Result<(), Errno> {
    let mut ev = libc::epoll_event { events, u64: token };
    // SAFETY: `ev` is a valid epoll_event that lives across the call.
    let r = unsafe { libc::epoll_ctl(ep.as_raw_fd(), op, fd.as_raw_fd(), &mut ev) };
    check(r as i64).map(|_| ())
}

/// epoll_wait on a host instance: (events, token) pairs.
pub fn epoll_wait(ep: BorrowedFd<'_>, max: usize, timeout_ms: i32) -> Result<Vec<(u32, u64)>, Errno> {
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max.max(1)];
    // SAFETY: `evs` has room for `max` events.
    let r = unsafe { libc::epoll_wait(ep.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, timeout_ms) };
    let n = check(r as i64)? as usize;
    Ok(evs[..n].iter().map(|e| (e.events, e.u64)).collect())
}

/// A host pipe: (read end, write end), close-on-exec.
pub fn pipe(flags: i32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), flags | libc::O_CLOEXEC) };
    check(r as i64)?;
    // SAFETY: the kernel just returned both descriptors to us.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn dup(fd: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    fd.try_clone_to_owned().map_err(Errno::from)
}

pub fn rusage_self() -> libc::rusage {
    // SAFETY: zeroed rusage is a valid plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is writable.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru
}

pub fn ids() -> (u32, u32) {
    // SAFETY: getuid/getgid cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

pub fn uname() -> libc::utsname {
    // SAFETY: zeroed utsname is a valid plain C struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is writable.
    unsafe { libc::uname(&mut u) };
    u
}

/// The host's time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64 user mode (CR4.TSD is clear
    // on Linux hosts).
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}

/// Takes ownership of a descriptor a host call just returned.
pub fn own_fd(fd: i32) -> Result<OwnedFd, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: callers pass a descriptor the host kernel just returned to this
    // process and that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A host eventfd; returns the raw descriptor (or -1).
pub fn eventfd(initval: u32, flags: i32) -> i64 {
    // SAFETY: plain syscall with integer arguments.
    unsafe { libc::eventfd(initval, flags) as i64 }
}

/// A wake fd: a non-blocking eventfd that a readiness change is signalled
/// on (`wake`) and that a waiter drains before it looks again (`drain`).
pub fn wake_fd() -> Result<OwnedFd, Errno> {
    let fd = eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC);
    if fd < 0 {
        return Err(Errno::ENFILE);
    }
    own_fd(fd as i32)
}

/// Signals wake fd `fd` (a full counter is as good as a signal).
pub fn wake(fd: BorrowedFd<'_>) {
    let _ = write(fd, &1u64.to_ne_bytes());
}

/// Clears wake fd `fd`.
pub fn drain(fd: BorrowedFd<'_>) {
    let _ = read(fd, &mut [0u8; 8]);
}

/// A host timerfd; returns the raw descriptor (or -1).
pub fn timerfd_create(clock: i32, flags: i32) -> i64 {
    // SAFETY: plain syscall with integer arguments.
    unsafe { libc::timerfd_create(clock, flags) as i64 }
}

/// timerfd_settime with `struct itimerspec` passed as its 32 bytes.
pub fn timerfd_settime(fd: i32, flags: i32, new: &[u8; 32], old: &mut [u8; 32]) -> Result<(), Errno> {
    // SAFETY: both buffers have the size and layout of struct itimerspec on x86_64.
    let r = unsafe { libc::syscall(libc::SYS_timerfd_settime, fd, flags, new.as_ptr(), old.as_mut_ptr()) };
    check(r).map(|_| ())
}

/// timerfd_gettime into the 32 bytes of a `struct itimerspec`.
pub fn timerfd_gettime(fd: i32, cur: &mut [u8; 32]) -> Result<(), Errno> {
    // SAFETY: the buffer has the size and layout of struct itimerspec on x86_64.
    let r = unsafe { libc::syscall(libc::SYS_timerfd_gettime, fd, cur.as_mut_ptr()) };
    check(r).map(|_| ())
}

/// A host AF_UNIX socketpair of `ty` (SOCK_* type and flags), close-on-exec.
pub fn socketpair(ty: i32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    check(r as i64)?;
    Ok((own_fd(fds[0])?, own_fd(fds[1])?))
}

pub fn send(fd: i32, buf: &[u8], flags: i32) -> Result<usize, Errno> {
    // SAFETY: `buf` is readable for its length.
    let r = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), flags) };
    check(r as i64).map(|n| n as usize)
}

pub fn recv(fd: i32, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    let r = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) };
    check(r as i64).map(|n| n as usize)
}

/// Sends `data` with descriptor `fd` attached (SCM_RIGHTS) on Unix socket `sock`.
pub fn send_fd(sock: BorrowedFd<'_>, data: &[u8], fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let raw = fd.as_raw_fd();
    // SAFETY: CMSG_SPACE of a constant is pure arithmetic.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    // SAFETY: an all-zero msghdr is a valid empty one; the fields set below
    // point at `iov` and `control`, which outlive the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: `control` has room for one cmsg carrying one int (CMSG_SPACE),
    // so CMSG_FIRSTHDR is non-null and CMSG_DATA has room for the fd.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as usize;
        std::ptr::copy_nonoverlapping((&raw as *const i32).cast::<u8>(), libc::CMSG_DATA(c), 4);
    }
    loop {
        // SAFETY: `msg` is fully initialised and its buffers are live.
        let r = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        match check(r as i64) {
            Err(Errno::EINTR) => continue,
            r => return r.map(|_| ()),
        }
    }
}

/// Receives into `buf` on Unix socket `sock`, with the descriptor attached
/// (SCM_RIGHTS), if any: (bytes, descriptor). Extra descriptors are closed.
pub fn recv_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<(usize, Option<OwnedFd>), Errno> {
    const MAX_FDS: usize = 4;
    // SAFETY: CMSG_SPACE of a constant is pure arithmetic.
    let space = unsafe { libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<i32>()) as u32) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: as in send_fd; the buffers outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    let n = loop {
        // SAFETY: `msg` points at live buffers of the sizes it states.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        match check(r as i64) {
            Err(Errno::EINTR) => continue,
            r => break r? as usize,
        }
    };
    let mut got = None;
    // SAFETY: the kernel filled `control` up to msg_controllen; the CMSG
    // macros walk it within those bounds, and SCM_RIGHTS data is ints.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                for i in 0..count {
                    let mut fd = 0i32;
                    std::ptr::copy_nonoverlapping(libc::CMSG_DATA(c).add(i * 4), (&mut fd as *mut i32).cast::<u8>(), 4);
                    let owned = OwnedFd::from_raw_fd(fd);
                    if got.is_none() {
                        got = Some(owned);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n, got))
}

/// sendmsg(2) gathering `bufs`, with no address or ancillary data.
pub fn sendmsg(fd: i32, bufs: &[std::io::IoSlice<'_>], flags: i32) -> Result<usize, Errno> {
    // SAFETY: an all-zero msghdr is valid (no name, no control data).
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice is laid out as a struct iovec; the kernel only reads through it.
    m.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    m.msg_iovlen = bufs.len();
    // SAFETY: `m` points at `bufs.len()` iovecs, each readable for its length.
    let r = unsafe { libc::sendmsg(fd, &m, flags) };
    check(r as i64).map(|n| n as usize)
}

/// recvmsg(2) scattering into `bufs`, with no address or ancillary data:
/// the count (the whole datagram's length with MSG_TRUNC) and msg_flags.
pub fn recvmsg(fd: i32, bufs: &mut [std::io::IoSliceMut<'_>], flags: i32) -> Result<(usize, i32), Errno> {
    // SAFETY: an all-zero msghdr is valid (no name, no control data).
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSliceMut is laid out as a struct iovec.
    m.msg_iov = bufs.as_mut_ptr().cast();
    m.msg_iovlen = bufs.len();
    // SAFETY: `m` points at `bufs.len()` iovecs, each writable for its length.
    let r = unsafe { libc::recvmsg(fd, &mut m, flags) };
    check(r as i64).map(|n| (n as usize, m.msg_flags))
}

pub fn shutdown(fd: i32, how: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    let r = unsafe { libc::shutdown(fd, how) };
    check(r as i64).map(|_| ())
}

pub fn getsockopt_int(fd: i32, level: i32, opt: i32) -> Result<i32, Errno> {
    let mut v: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `v` and `len` are valid for an int-sized option.
    let r = unsafe { libc::getsockopt(fd, level, opt, (&mut v as *mut i32).cast(), &mut len) };
    check(r as i64)?;
    Ok(v)
}

pub fn setsockopt_int(fd: i32, level: i32, opt: i32, v: i32) -> Result<(), Errno> {
    // SAFETY: `v` is a valid int-sized option value.
    let r = unsafe {
        libc::setsockopt(fd, level, opt, (&v as *const i32).cast(), std::mem::size_of::<i32>() as libc::socklen_t)
    };
    check(r as i64).map(|_| ())
}

fn times_ptr(times: Option<&[libc::timespec; 2]>) -> *const libc::timespec {
    times.map(|t| t.as_ptr()).unwrap_or(std::ptr::null())
}

/// futimens on an open descriptor.
pub fn futimens(fd: BorrowedFd<'_>, times: Option<&[libc::timespec; 2]>) -> Result<(), Errno> {
    // SAFETY: `times` is null or points at two timespecs.
    let r = unsafe { libc::futimens(fd.as_raw_fd(), times_ptr(times)) };
    check(r as i64).map(|_| ())
}

/// utimensat on what an O_PATH descriptor names (a symlink itself, if that is
/// what it was opened on), through its /proc/self/fd entry.
/// chmod of the file an O_PATH descriptor names (never a symlink: callers
/// resolve with follow), through fchmodat2(AT_EMPTY_PATH) or, on kernels
/// without it, the descriptor's /proc/self/fd link.
pub fn chmod_path_fd(fd: BorrowedFd<'_>, mode: u32) -> Result<(), Errno> {
    const SYS_FCHMODAT2: libc::c_long = 452;
    // SAFETY: an empty NUL-terminated path and integer arguments.
    let r = unsafe { libc::syscall(SYS_FCHMODAT2, fd.as_raw_fd(), c"".as_ptr(), mode, libc::AT_EMPTY_PATH) };
    match check(r as i64) {
        Err(Errno::ENOSYS) => {
            let p = cstring(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())?;
            // SAFETY: `p` is NUL-terminated.
            check(unsafe { libc::chmod(p.as_ptr(), mode as libc::mode_t) } as i64).map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

/// Sets this process's umask (wisp applies the guest's own before the host's).
pub fn set_umask(mask: u32) {
    // SAFETY: plain syscall with an integer argument.
    unsafe { libc::umask(mask as libc::mode_t) };
}

/// fchmod(2) on an open descriptor.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } as i64).map(|_| ())
}

/// fchown(2) on an open descriptor.
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) } as i64).map(|_| ())
}

/// fchownat on exactly the object an O_PATH descriptor names (a symlink
/// itself when it is one; nothing is followed).
pub fn chown_path_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: an empty NUL-terminated path and integer arguments.
    let r = unsafe { libc::fchownat(fd.as_raw_fd(), c"".as_ptr(), uid, gid, libc::AT_EMPTY_PATH) };
    check(r as i64).map(|_| ())
}

/// utimensat on entry `name` of directory `dir` without following a symlink.
pub fn utimens_nofollow_at(dir: BorrowedFd<'_>, name: &[u8], times: Option<&[libc::timespec; 2]>) -> Result<(), Errno> {
    let c = cstring(name)?;
    // SAFETY: `c` is NUL-terminated and `times` is null or two timespecs.
    let r = unsafe { libc::utimensat(dir.as_raw_fd(), c.as_ptr(), times_ptr(times), libc::AT_SYMLINK_NOFOLLOW) };
    check(r as i64).map(|_| ())
}

pub fn utimens_path_fd(fd: BorrowedFd<'_>, times: Option<&[libc::timespec; 2]>) -> Result<(), Errno> {
    let p = cstring(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())?;
    // SAFETY: `p` is NUL-terminated and `times` is null or two timespecs.
    let r = unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), times_ptr(times), 0) };
    check(r as i64).map(|_| ())
}

/// The CPU-time clock of the calling thread, readable from other threads
/// with `clock_ns` while this thread lives.
pub fn thread_cpu_clock() -> Option<libc::clockid_t> {
    let mut id: libc::clockid_t = 0;
    // SAFETY: pthread_self is always valid for the calling thread, and `id`
    // is a valid out pointer.
    let r = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
    (r == 0).then_some(id)
}

/// Reads a clock in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    clock_gettime(clock).ok().map(|t| t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64)
}

/// Sets a resource limit (soft and hard).
pub fn set_rlimit(resource: libc::__rlimit_resource_t, limit: u64) -> Result<(), Errno> {
    let r = libc::rlimit { rlim_cur: limit, rlim_max: limit };
    // SAFETY: `r` is a valid rlimit for the call's duration.
    check(unsafe { libc::setrlimit(resource, &r) } as i64).map(|_| ())
}

/// prctl with integer arguments (PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG...).
pub fn prctl(option: i32, arg: u64) -> Result<(), Errno> {
    // SAFETY: the options wisp uses take plain integers, no pointers.
    check(unsafe { libc::prctl(option, arg, 0u64, 0u64, 0u64) } as i64).map(|_| ())
}

/// Sends `sig` to host process `pid`.
pub fn kill_process(pid: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill takes plain integers.
    check(unsafe { libc::kill(pid, sig) } as i64).map(|_| ())
}

/// Landlock filesystem rights (ABI 1-5), as `landlock.h` numbers them.
pub mod landlock {
    pub const EXECUTE: u64 = 1 << 0;
    pub const WRITE_FILE: u64 = 1 << 1;
    pub const READ_FILE: u64 = 1 << 2;
    pub const READ_DIR: u64 = 1 << 3;
    pub const TRUNCATE: u64 = 1 << 14;
    pub const IOCTL_DEV: u64 = 1 << 15;
    pub const MAKE_CHAR: u64 = 1 << 6;
    pub const MAKE_BLOCK: u64 = 1 << 11;
    /// Rights that make sense on a file (not a directory) rule.
    pub const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;
    pub const READ: u64 = EXECUTE | READ_FILE | READ_DIR;
    /// Every right of ABI `abi` (1-5).
    pub fn all(abi: i64) -> u64 {
        match abi {
            ..=0 => 0,
            1 => (1 << 13) - 1,
            2 => (1 << 14) - 1,
            3 | 4 => (1 << 15) - 1,
            _ => (1 << 16) - 1,
        }
    }
}

/// The Landlock ABI the kernel offers (0: none).
pub fn landlock_abi() -> i64 {
    // SAFETY: with the VERSION flag (1) the call takes no pointer.
    let r = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, 1u32) };
    r.max(0)
}

/// Confines the calling thread (and threads and processes it starts later)
/// to `rules`: (path, rights) pairs; every right of the kernel's ABI not
/// granted by a rule is denied. Paths that do not exist are skipped.
pub fn landlock_restrict(rules: &[(&std::path::Path, u64)]) -> Result<(), Errno> {
    let abi = landlock_abi().min(5);
    if abi == 0 {
        return Err(Errno::ENOSYS);
    }
    let handled = landlock::all(abi);
    let attr: u64 = handled;
    // SAFETY: `attr` is a valid landlock_ruleset_attr prefix (handled_access_fs
    // only) of the size passed.
    let rs = check(unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, &attr as *const u64, 8usize, 0u32) })?;
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    let ruleset = unsafe { OwnedFd::from_raw_fd(rs as i32) };
    for (path, rights) in rules {
        let Ok(dir) = open_dir_path(path).or_else(|_| open_path(path)) else { continue };
        let is_dir = fstat(dir.as_fd()).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR);
        let rights = rights & handled & if is_dir { u64::MAX } else { landlock::FILE_RIGHTS };
        #[repr(C, packed)]
        struct PathBeneath {
            allowed: u64,
            parent_fd: i32,
        }
        let rule = PathBeneath { allowed: rights, parent_fd: dir.as_raw_fd() };
        // SAFETY: `rule` is a valid landlock_path_beneath_attr for the call's
        // duration; rule type 1 is LANDLOCK_RULE_PATH_BENEATH.
        check(unsafe {
            libc::syscall(libc::SYS_landlock_add_rule, ruleset.as_raw_fd(), 1u32, &rule as *const PathBeneath, 0u32)
        })?;
    }
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    // SAFETY: plain integers.
    check(unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32) }).map(|_| ())
}

/// An O_PATH descriptor of any file.
fn open_path(path: &std::path::Path) -> Result<OwnedFd, Errno> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(path)
        .map(OwnedFd::from)
        .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// Moves the calling process into new namespaces (CLONE_NEW* flags).
pub fn unshare(flags: i32) -> Result<(), Errno> {
    // SAFETY: plain integer flags.
    check(unsafe { libc::unshare(flags) } as i64).map(|_| ())
}

/// Installs a seccomp filter on every thread of this process: the x86_64
/// system calls in `allowed` pass, any other fails with `errno`, and calls
/// of another ABI (x32, i386) kill the process.
pub fn seccomp_allowlist(allowed: &[i64], errno: i32) -> Result<(), Errno> {
    #[repr(C)]
    struct Prog {
        len: u16,
        filter: *const crate::seccomp::Insn,
    }
    let f = crate::seccomp::allowlist(allowed, errno).ok_or(Errno::EINVAL)?;
    let prog = Prog { len: f.len() as u16, filter: f.as_ptr() };
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    // SAFETY: `prog` points at `f`, which outlives the call; the kernel copies
    // the filter. SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_TSYNC = 1.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, 1u32, 1u32, &prog as *const Prog) };
    match check(r) {
        Ok(0) => Ok(()),
        // A positive answer is the id of a thread that could not be synced.
        Ok(_) => Err(Errno::EBUSY),
        Err(e) => Err(e),
    }
}

/// Makes descriptor `target` a copy of `fd` (dup2).
pub fn dup_onto(fd: BorrowedFd<'_>, target: RawFd) -> Result<(), Errno> {
    // SAFETY: dup2 takes plain descriptors; `target` is replaced atomically.
    check(unsafe { libc::dup2(fd.as_raw_fd(), target) } as i64).map(|_| ())
}

/// Restricts the calling thread to the host CPUs in `cpus`.
pub fn set_thread_affinity(cpus: &[usize]) -> Result<(), Errno> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus.iter().filter(|c| **c < libc::CPU_SETSIZE as usize) {
        // SAFETY: `c` is below CPU_SETSIZE, so the write stays inside `set`.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed; 0 is this thread.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    check(r as i64).map(|_| ())
}

/// The host CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: as in set_thread_affinity; the kernel fills `set`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and of the size passed; 0 is this thread.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return Vec::new();
    }
    // SAFETY: every index is below CPU_SETSIZE, inside `set`.
    (0..libc::CPU_SETSIZE as usize).filter(|c| unsafe { libc::CPU_ISSET(*c, &set) }).collect()
}

/// Forks the calling process: Some(child pid) in the parent, None in the
/// child. Only for a process that has started no threads (the child would
/// otherwise inherit locks held by threads that do not exist in it).
pub fn fork_single_threaded() -> Result<Option<i32>, Errno> {
    let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0);
    if threads != 1 {
        return Err(Errno::EBUSY);
    }
    // SAFETY: the process has one thread (checked above), so the child's
    // copy of every lock and allocator state is consistent.
    let pid = check(unsafe { libc::fork() } as i64)? as i32;
    Ok((pid != 0).then_some(pid))
}

/// Waits for child `pid` to end; its shell-style status (128+N for signal N).
pub fn wait_child(pid: i32) -> Result<i32, Errno> {
    let mut status = 0i32;
    loop {
        // SAFETY: `status` is a valid out pointer for the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        match check(r as i64) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) })
}

/// Mounts a fresh procfs on /proc (in this process's own mount namespace),
/// showing its own PID namespace.
pub fn mount_proc() -> Result<(), Errno> {
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    // SAFETY: NUL-terminated literals; no data argument.
    let r = unsafe { libc::mount(c"proc".as_ptr(), c"/proc".as_ptr(), c"proc".as_ptr(), flags, std::ptr::null()) };
    check(r as i64).map(|_| ())
}

/// Sets the nice value of thread `tid` (0: the calling thread); threads and
/// processes it starts later inherit it.
pub fn set_nice(tid: i32, nice: i32) -> Result<(), Errno> {
    // SAFETY: plain integers.
    check(unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } as i64).map(|_| ())
}
