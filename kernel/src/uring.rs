//! Volume file I/O through io_uring.
//!
//! Each host thread that touches a volume gets its own small ring and uses it
//! synchronously: one request submitted, waited for and reaped per call, so a
//! guest syscall still maps to one host system call. Reads the page cache can
//! serve at once skip the ring (preadv2 with RWF_NOWAIT): a synchronous ring
//! round trip costs more than the copy, and io_uring would serve them inline
//! the same way. When io_uring is
//! unavailable (an old kernel, a seccomp filter, `WISP_NO_URING=1`) every call
//! falls back to the plain system call with the same result.
//!
//! This module and [`crate::host`] hold the personality's host-facing unsafe
//! code; each block says why it is sound.

#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use io_uring::{IoUring, opcode, squeue, types};

use crate::errno::Errno;
use crate::host;

/// Requests completed through io_uring (for stats and tests).
static COMPLETED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's ring: None until first use, Some(None) when unavailable.
    static RING: RefCell<Option<Option<IoUring>>> = const { RefCell::new(None) };
}

/// How many requests went through io_uring in this process.
pub fn completed() -> u64 {
    COMPLETED.load(Ordering::Relaxed)
}

fn disabled() -> bool {
    std::env::var_os("WISP_NO_URING").is_some_and(|v| v != "0")
}

/// Runs one request on this thread's ring; None when there is no ring.
///
/// # Safety
/// Every pointer in `sqe` must stay valid (and buffers unaliased) until this
/// returns, which it does only after the request completed.
unsafe fn run(sqe: squeue::Entry) -> Option<Result<i32, Errno>> {
    RING.with(|cell| {
        let mut slot = cell.borrow_mut();
        let ring = slot.get_or_insert_with(|| if disabled() { None } else { IoUring::new(8).ok() }).as_mut()?;
        // SAFETY: the caller keeps the request's memory valid until completion,
        // and we wait for that completion below before returning.
        if unsafe { ring.submission().push(&sqe.user_data(1)) }.is_err() {
            return Some(Err(Errno::EAGAIN));
        }
        loop {
            match ring.submit_and_wait(1) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Some(Err(Errno::from(e))),
            }
        }
        let cqe = ring.completion().next()?;
        COMPLETED.fetch_add(1, Ordering::Relaxed);
        let r = cqe.result();
        Some(if r < 0 { Err(Errno(-r)) } else { Ok(r) })
    })
}

/// Offset meaning "the file position" for read and write requests.
const AT_POSITION: u64 = u64::MAX;

fn len32(n: usize) -> u32 {
    n.min(i32::MAX as usize) as u32
}

/// Serves a read from the page cache without waiting when it can: a request
/// that would complete at once needs no ring round trip (the kernel tries the
/// same inside io_uring, but a synchronous caller still pays for the queue).
fn cached(fd: BorrowedFd<'_>, buf: &mut [u8], off: Option<u64>) -> Option<Result<usize, Errno>> {
    match host::pread_nowait(fd, buf, off) {
        Ok(n) if n == buf.len() || n > 0 => Some(Ok(n)),
        Ok(_) => None, // zero: end of file, or nothing cached; ask the ring
        Err(Errno::EAGAIN) | Err(Errno::EOPNOTSUPP) | Err(Errno::EINVAL) => None,
        Err(e) => Some(Err(e)),
    }
}

pub fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
    if let Some(r) = cached(fd, buf, Some(off)) {
        return r;
    }
    let sqe = opcode::Read::new(types::Fd(fd.as_raw_fd()), buf.as_mut_ptr(), len32(buf.len())).offset(off).build();
    // SAFETY: `buf` is borrowed mutably for the whole call.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|n| n as usize),
        None => host::pread(fd, buf, off),
    }
}

pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    if let Some(r) = cached(fd, buf, None) {
        return r;
    }
    let sqe =
        opcode::Read::new(types::Fd(fd.as_raw_fd()), buf.as_mut_ptr(), len32(buf.len())).offset(AT_POSITION).build();
    // SAFETY: `buf` is borrowed mutably for the whole call.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|n| n as usize),
        None => host::read(fd, buf),
    }
}

/// Reads into the memory `iov` describes, at `off` (None: the file
/// position): what the page cache holds at once through preadv2(RWF_NOWAIT),
/// otherwise one io_uring readv.
///
/// # Safety
/// Every iovec must describe writable memory that nothing else references as
/// Rust data and that stays mapped until this returns.
pub unsafe fn readv(fd: BorrowedFd<'_>, iov: &[libc::iovec], off: Option<u64>) -> Result<usize, Errno> {
    let pos = off.map_or(-1, |o| o.min(i64::MAX as u64) as libc::off_t);
    // SAFETY: the caller vouches for the iovecs.
    let r = unsafe { libc::preadv2(fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32, pos, libc::RWF_NOWAIT) };
    let want: usize = iov.iter().map(|v| v.iov_len).sum();
    let got = if r > 0 { r as usize } else { 0 };
    if got == want {
        return Ok(got);
    }
    // The rest (all of it when nothing was cached) waits in the ring.
    let mut rest = Vec::with_capacity(iov.len());
    let mut skip = got;
    for v in iov {
        if skip >= v.iov_len {
            skip -= v.iov_len;
            continue;
        }
        rest.push(libc::iovec {
            iov_base: v.iov_base.cast::<u8>().wrapping_add(skip).cast(),
            iov_len: v.iov_len - skip,
        });
        skip = 0;
    }
    let at = off.map_or(AT_POSITION, |o| o + got as u64);
    let sqe = opcode::Readv::new(types::Fd(fd.as_raw_fd()), rest.as_ptr().cast(), rest.len() as u32).offset(at).build();
    // SAFETY: `rest` lives on this frame and the memory it names stays valid
    // (the caller's promise) until the request completes.
    let more = match unsafe { run(sqe) } {
        Some(r) => r.map(|n| n as usize),
        None => {
            let p = off.map_or(-1, |o| (o + got as u64).min(i64::MAX as u64) as libc::off_t);
            // SAFETY: as above.
            let r = unsafe { libc::preadv2(fd.as_raw_fd(), rest.as_ptr(), rest.len() as i32, p, 0) };
            if r < 0 { Err(Errno::last_host()) } else { Ok(r as usize) }
        }
    };
    match more {
        Ok(n) => Ok(got + n),
        Err(_) if got > 0 => Ok(got),
        Err(e) => Err(e),
    }
}

pub fn pwrite(fd: BorrowedFd<'_>, buf: &[u8], off: u64) -> Result<usize, Errno> {
    let sqe = opcode::Write::new(types::Fd(fd.as_raw_fd()), buf.as_ptr(), len32(buf.len())).offset(off).build();
    // SAFETY: `buf` is borrowed for the whole call and only read.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|n| n as usize),
        None => host::pwrite(fd, buf, off),
    }
}

pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    let sqe = opcode::Write::new(types::Fd(fd.as_raw_fd()), buf.as_ptr(), len32(buf.len())).offset(AT_POSITION).build();
    // SAFETY: `buf` is borrowed for the whole call and only read.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|n| n as usize),
        None => host::write(fd, buf),
    }
}

pub fn fsync(fd: BorrowedFd<'_>, data_only: bool) -> Result<(), Errno> {
    let flags = if data_only { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() };
    let sqe = opcode::Fsync::new(types::Fd(fd.as_raw_fd())).flags(flags).build();
    // SAFETY: the request holds no pointers.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|_| ()),
        None => host::fsync(fd, data_only),
    }
}

/// openat2(2) relative to `dir` with `resolve` flags.
pub fn openat2(dir: BorrowedFd<'_>, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Result<OwnedFd, Errno> {
    let c = CString::new(path).map_err(|_| Errno::EINVAL)?;
    let how = types::OpenHow::new().flags(flags).mode(mode).resolve(resolve);
    let sqe = opcode::OpenAt2::new(types::Fd(dir.as_raw_fd()), c.as_ptr(), &how).build();
    // SAFETY: `c` and `how` live on this frame until the request completed.
    match unsafe { run(sqe) } {
        Some(r) => host::own_fd(r?),
        None => host::openat2(dir, path, flags, mode, resolve),
    }
}

/// fstat(2) through statx on the descriptor itself.
pub fn fstat(fd: BorrowedFd<'_>) -> Result<libc::stat, Errno> {
    // SAFETY: statx is plain old data; zero is a valid value.
    let mut sx: libc::statx = unsafe { std::mem::zeroed() };
    let sqe = opcode::Statx::new(types::Fd(fd.as_raw_fd()), c"".as_ptr(), (&mut sx as *mut libc::statx).cast())
        .flags(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW)
        .mask(libc::STATX_BASIC_STATS)
        .build();
    // SAFETY: `sx` and the empty path live on this frame until completion.
    match unsafe { run(sqe) } {
        Some(r) => r.map(|_| stat_of(&sx)),
        None => host::fstat(fd),
    }
}

fn stat_of(sx: &libc::statx) -> libc::stat {
    // SAFETY: stat is plain old data; zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_dev = libc::makedev(sx.stx_dev_major, sx.stx_dev_minor);
    st.st_ino = sx.stx_ino;
    st.st_nlink = sx.stx_nlink as _;
    st.st_mode = sx.stx_mode as _;
    st.st_uid = sx.stx_uid;
    st.st_gid = sx.stx_gid;
    st.st_rdev = libc::makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
    st.st_size = sx.stx_size as _;
    st.st_blksize = sx.stx_blksize as _;
    st.st_blocks = sx.stx_blocks as _;
    st.st_atime = sx.stx_atime.tv_sec;
    st.st_atime_nsec = sx.stx_atime.tv_nsec as _;
    st.st_mtime = sx.stx_mtime.tv_sec;
    st.st_mtime_nsec = sx.stx_mtime.tv_nsec as _;
    st.st_ctime = sx.stx_ctime.tv_sec;
    st.st_ctime_nsec = sx.stx_ctime.tv_nsec as _;
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn file_io_through_the_ring_matches_plain_calls() {
        let dir = std::env::temp_dir().join(format!("wisp-uring-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = host::open_dir_path(&dir).unwrap();
        let flags = (libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC) as u64;
        let f = openat2(root.as_fd(), b"f", flags, 0o644, 0x10).unwrap();
        let before = completed();
        assert_eq!(write(f.as_fd(), b"hello "), Ok(6));
        assert_eq!(write(f.as_fd(), b"world"), Ok(5), "advances the file position");
        assert_eq!(pwrite(f.as_fd(), b"W", 6), Ok(1));
        let mut buf = [0u8; 16];
        assert_eq!(pread(f.as_fd(), &mut buf, 0), Ok(11));
        assert_eq!(&buf[..11], b"hello World");
        assert_eq!(fsync(f.as_fd(), true), Ok(()));
        let st = fstat(f.as_fd()).unwrap();
        let plain = host::fstat(f.as_fd()).unwrap();
        assert_eq!((st.st_size, st.st_ino, st.st_mode, st.st_nlink), (11, plain.st_ino, plain.st_mode, plain.st_nlink));
        assert_eq!(openat2(root.as_fd(), b"../escape", flags, 0o644, 0x10).map(|_| ()), Ok(()), "stays inside");
        assert!(!dir.parent().unwrap().join("escape").exists());
        assert_eq!(pread(f.as_fd(), &mut buf, 100), Ok(0));
        let mut other = [0u8; 16];
        assert!(read(root.as_fd(), &mut buf).is_err(), "errors come back as errno");
        assert_eq!(read(root.as_fd(), &mut buf), host::read(root.as_fd(), &mut other), "as the plain call");
        if IoUring::new(2).is_ok() {
            assert!(completed() >= before + 5, "the ring was used (writes, fsync, statx, openat2)");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
