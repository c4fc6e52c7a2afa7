//! The syscall layer: argument decoding, the table, and dispatch.
//!
//! Handlers are thin: decode and validate arguments, copy through checked
//! guest memory, and delegate to mm/vfs/task. One file per family.

mod events;
mod fs;
mod futex;
mod mm;
mod proc;
mod process;
mod rw;
mod signal;
mod socket;
pub mod table;
mod time;
mod timers;
mod unixsock;

use crate::errno::{Errno, SysResult};
use crate::task::Process;
use crate::vfs::normalize;
use crate::vfs::path::PATH_MAX;
pub use proc::default_rlimits;
pub use table::{Entry, Support, TABLE};
pub use timers::{PosixTimers, RealTimer};

/// The six raw syscall arguments.
#[derive(Clone, Copy, Debug)]
pub struct Args(pub [u64; 6]);

impl Args {
    pub fn u(&self, i: usize) -> u64 {
        self.0[i]
    }
    /// An int argument (the upper half of the register is ignored, as Linux does).
    pub fn i(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
}

/// Index from syscall number to table entry.
fn index() -> &'static [Option<u16>; 512] {
    static INDEX: std::sync::OnceLock<[Option<u16>; 512]> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx = [None; 512];
        for (i, e) in TABLE.iter().enumerate() {
            idx[e.nr as usize] = Some(i as u16);
        }
        idx
    })
}

pub fn entry(nr: u64) -> Option<&'static Entry> {
    let i = (*index().get(usize::try_from(nr).ok()?)?)?;
    TABLE.get(i as usize)
}

/// The syscall's name, or `syscall_N`.
pub fn name(nr: u64) -> String {
    entry(nr).map(|e| e.name.to_string()).unwrap_or_else(|| format!("syscall_{nr}"))
}

/// Runs syscall `nr`. Unknown numbers and unsupported calls return ENOSYS and
/// are counted.
pub fn dispatch(p: &mut Process, nr: u64, args: &Args) -> SysResult {
    match entry(nr) {
        Some(e) => {
            if let Support::Missing(_) = e.support {
                *p.stats.unknown.entry(nr).or_default() += 1;
            }
            (e.handler)(p, args)
        }
        None => {
            *p.stats.unknown.entry(nr).or_default() += 1;
            Err(Errno::ENOSYS)
        }
    }
}

/// Syscalls Linux restarts after a handler with SA_RESTART (the rest, such as
/// nanosleep, poll and sigsuspend, report EINTR).
pub fn restartable(nr: u64) -> bool {
    matches!(
        name(nr).as_str(),
        "read"
            | "write"
            | "readv"
            | "writev"
            | "pread64"
            | "pwrite64"
            | "wait4"
            | "waitid"
            | "futex"
            | "ioctl"
            | "open"
            | "openat"
            | "flock"
            | "fcntl"
            | "sendfile"
    )
}

/// For `Support::Missing` entries.
pub fn sys_enosys(_p: &mut Process, _a: &Args) -> SysResult {
    Err(Errno::ENOSYS)
}

/// One --strace line.
pub fn strace_line(nr: u64, args: &Args, result: &SysResult) -> String {
    let n = entry(nr).map(|e| e.nargs as usize).unwrap_or(6);
    let shown: Vec<String> =
        args.0[..n].iter().map(|a| if *a > 0xffff { format!("{a:#x}") } else { a.to_string() }).collect();
    let r = match result {
        Ok(v) if *v > 0xffff => format!("{v:#x}"),
        Ok(v) => v.to_string(),
        Err(e) => format!("-1 {} ({})", e.name(), std::io::Error::from_raw_os_error(e.0)),
    };
    format!("{}({}) = {r}", name(nr), shown.join(", "))
}

// ---- helpers shared by the handlers ----

/// Reads a path argument.
pub fn read_path(p: &Process, ptr: u64) -> Result<Vec<u8>, Errno> {
    p.mm.read_cstr(ptr, PATH_MAX - 1)
}

pub const AT_FDCWD: i32 = -100;

/// Makes `path` absolute against `dirfd` (or the working directory).
pub fn resolve_at(p: &Process, dirfd: i32, path: &[u8]) -> Result<(String, bool), Errno> {
    if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        return normalize(&p.fs.cwd(), path);
    }
    let f = p.fds.get(dirfd)?;
    if !f.file.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    normalize(&f.file.path(), path)
}

/// Reads a path argument and resolves it against `dirfd`.
pub fn path_at(p: &Process, dirfd: i32, ptr: u64) -> Result<(String, bool), Errno> {
    let path = read_path(p, ptr)?;
    resolve_at(p, dirfd, &path)
}

/// Writes a plain-old-data value to the guest.
pub fn put(p: &mut Process, ptr: u64, bytes: &[u8]) -> SysResult {
    p.mm.copy_out(ptr, bytes)?;
    Ok(0)
}

pub fn timespec_bytes(sec: i64, nsec: i64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&sec.to_le_bytes());
    b[8..].copy_from_slice(&nsec.to_le_bytes());
    b
}

pub fn read_timespec(p: &Process, ptr: u64) -> Result<libc::timespec, Errno> {
    let mut b = [0u8; 16];
    p.mm.copy_in(ptr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(libc::timespec { tv_sec: sec, tv_nsec: nsec })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_named() {
        let mut last = None;
        for e in TABLE {
            assert!(last.is_none_or(|l| l < e.nr), "{} out of order", e.name);
            last = Some(e.nr);
            assert!(!e.name.is_empty());
            assert!((e.nr as usize) < 512);
            if let Support::Missing(why) | Support::Partial(why) = e.support {
                assert!(!why.is_empty(), "{} needs a reason", e.name);
            }
        }
        assert_eq!(name(0), "read");
        assert_eq!(name(9999), "syscall_9999");
    }

    #[test]
    fn syscall_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/syscalls.md");
        let want = table::render_doc();
        if std::env::var_os("WISP_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(have == want, "docs/syscalls.md is stale: run `WISP_BLESS=1 cargo test -p wisp-kernel syscall_doc`");
    }
}
