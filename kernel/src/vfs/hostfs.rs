//! A host directory served as a guest filesystem.
//!
//! Every lookup is one `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` from
//! the directory's handle, so `..`, absolute symlinks and symlinks swapped in
//! mid-lookup all stay inside it: the host kernel does the confinement, not
//! string checks. Results that land on a host pseudo-filesystem (procfs, sysfs,
//! ...) or on a device, FIFO or socket are refused, so a root of `/` never
//! exposes the host's /proc or devices.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::file::{File, Stat};
use crate::errno::Errno;
use crate::host;

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;
const RESOLVE: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/// Filesystem types the guest must never reach on the host.
const REFUSED_FS: [i64; 9] = [
    0x9fa0,                // proc
    0x6265_6572,           // sysfs
    0x1cd1,                // devpts
    0x0027_e0eb,           // cgroup
    0x6367_7270,           // cgroup2
    0x6462_6720,           // debugfs
    0x7363_6673,           // securityfs
    0xcafe_4a11u32 as i64, // bpf
    0x7472_6163,           // tracefs
];

/// A byte limit on a writable host mount (a volume's `--size`). File growth
/// through write, truncate and fallocate is charged by logical size (holes
/// count); shrinking and unlinking the last link refund. Past the limit the
/// guest gets a short write, then ENOSPC, and the host disk never fills.
pub struct Quota {
    limit: u64,
    used: Used,
}

/// Where a quota counts: in this process, or in a counter shared by every
/// machine that has the volume mounted.
enum Used {
    Local(AtomicU64),
    Shared(host::SharedCounter),
}

impl Quota {
    pub fn new(limit: u64, used: u64) -> Arc<Quota> {
        Arc::new(Quota { limit, used: Used::Local(AtomicU64::new(used)) })
    }

    /// A quota counted in `counter`, which other processes share.
    pub fn shared(limit: u64, counter: host::SharedCounter) -> Arc<Quota> {
        Arc::new(Quota { limit, used: Used::Shared(counter) })
    }

    fn cell(&self) -> &AtomicU64 {
        match &self.used {
            Used::Local(a) => a,
            Used::Shared(c) => c.get(),
        }
    }

    /// Bytes charged so far.
    pub fn used(&self) -> u64 {
        self.cell().load(Ordering::SeqCst)
    }

    /// Takes up to `want` bytes; returns how many it got.
    fn reserve(&self, want: u64) -> u64 {
        let mut got = 0;
        let _ = self.cell().fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
            got = want.min(self.limit.saturating_sub(u));
            Some(u + got)
        });
        got
    }

    /// Gives back `n` bytes.
    pub fn release(&self, n: u64) {
        let _ = self.cell().fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| Some(u.saturating_sub(n)));
    }
}

pub struct HostFs {
    root: OwnedFd,
    writable: bool,
    quota: Option<Arc<Quota>>,
    /// File I/O goes through io_uring (volumes).
    uring: bool,
}

impl HostFs {
    pub fn new(dir: &std::path::Path, writable: bool) -> Result<HostFs, Errno> {
        Ok(HostFs { root: host::open_dir_path(dir)?, writable, quota: None, uring: false })
    }

    /// A volume: a writable mount whose files may grow to `quota` bytes in
    /// all, with opens and file I/O through io_uring.
    pub fn volume(dir: &std::path::Path, quota: Arc<Quota>) -> Result<HostFs, Errno> {
        Ok(HostFs { root: host::open_dir_path(dir)?, writable: true, quota: Some(quota), uring: true })
    }

    /// A read-only volume (I/O through io_uring).
    pub fn volume_read_only(dir: &std::path::Path) -> Result<HostFs, Errno> {
        Ok(HostFs { root: host::open_dir_path(dir)?, writable: false, quota: None, uring: true })
    }

    /// The same mount, its files' growth charged to `quota` (a machine's
    /// disk limit over its writable layer, /tmp and /dev/shm).
    pub fn with_quota(mut self, quota: Arc<Quota>) -> HostFs {
        self.quota = Some(quota);
        self
    }

    pub fn quota(&self) -> Option<&Arc<Quota>> {
        self.quota.as_ref()
    }

    pub fn writable(&self) -> bool {
        self.writable
    }

    fn check(&self, fd: &OwnedFd) -> Result<libc::stat, Errno> {
        let fs = host::fstatfs_type(fd.as_fd())?;
        if REFUSED_FS.contains(&fs) {
            return Err(Errno::EACCES);
        }
        let st = host::fstat(fd.as_fd())?;
        match st.st_mode & libc::S_IFMT {
            // Socket files name guest AF_UNIX sockets (opening one fails, as on Linux).
            libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK | libc::S_IFSOCK => Ok(st),
            _ => Err(Errno::EACCES),
        }
    }

    /// An O_PATH handle for `rel`; with `nofollow` a final symlink is not followed.
    pub fn lookup(&self, rel: &str, nofollow: bool) -> Result<(OwnedFd, libc::stat), Errno> {
        let mut flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
        if nofollow {
            flags |= libc::O_NOFOLLOW as u64;
        }
        let fd = host::openat2(self.root.as_fd(), rel.as_bytes(), flags, 0, RESOLVE)?;
        let st = self.check(&fd)?;
        Ok((fd, st))
    }

    pub fn stat(&self, rel: &str, nofollow: bool) -> Result<Stat, Errno> {
        self.lookup(rel, nofollow).map(|(_, st)| Stat::from_host(&st))
    }

    pub fn readlink(&self, rel: &str) -> Result<Vec<u8>, Errno> {
        let (fd, st) = self.lookup(rel, true)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            return Err(Errno::EINVAL);
        }
        host::readlink_fd(fd.as_fd())
    }

    pub fn access(&self, rel: &str, mode: i32) -> Result<(), Errno> {
        let (fd, _) = self.lookup(rel, false)?;
        if mode & libc::W_OK != 0 && !self.writable {
            return Err(Errno::EROFS);
        }
        host::faccess(fd.as_fd(), mode)
    }

    /// Sets access and modification times (None: now) of `rel`.
    pub fn utimes(&self, rel: &str, times: Option<&[libc::timespec; 2]>, nofollow: bool) -> Result<(), Errno> {
        let (fd, st) = self.lookup(rel, nofollow)?;
        if !self.writable {
            return Err(Errno::EROFS);
        }
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            // The link itself: through its directory, never following it (a
            // /proc/self/fd path would follow it on the host).
            let (dir, name) = self.parent(rel)?;
            return host::utimens_nofollow_at(dir.as_fd(), name.as_bytes(), times);
        }
        // The descriptor names a non-link, so its /proc link follows nothing more.
        host::utimens_path_fd(fd.as_fd(), times)
    }

    /// chmod, following a final symlink inside the mount. Set-user-ID (and
    /// set-group-ID on non-directories) is dropped: a guest must not leave
    /// set-id programs in host directories.
    pub fn chmod(&self, rel: &str, mode: u32) -> Result<(), Errno> {
        let (fd, st) = self.lookup(rel, false)?;
        if !self.writable {
            return Err(Errno::EROFS);
        }
        host::chmod_path_fd(fd.as_fd(), strip_setid(mode, st.st_mode))
    }

    /// A hard link at `to` (in this mount) to what `from` names after
    /// following a final symlink inside the mount (linkat AT_SYMLINK_FOLLOW).
    pub fn link_following(&self, from: &str, to: &str) -> Result<(), Errno> {
        let (fd, st) = self.lookup(from, false)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            return Err(Errno::EPERM);
        }
        let (dir, name) = self.parent(to)?;
        host::link_path_fd(fd.as_fd(), dir.as_fd(), name.as_bytes())
    }

    /// chown (of a symlink itself with `nofollow`).
    pub fn chown(&self, rel: &str, uid: u32, gid: u32, nofollow: bool) -> Result<(), Errno> {
        let (fd, _) = self.lookup(rel, nofollow)?;
        if !self.writable {
            return Err(Errno::EROFS);
        }
        host::chown_path_fd(fd.as_fd(), uid, gid)
    }

    /// Opens `rel` with the guest's `flags`; `path` is the guest path for /proc.
    pub fn open(&self, rel: &str, flags: i32, mode: u32, path: String) -> Result<HostFile, Errno> {
        let wants_write = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        let open_flags = if flags & libc::O_PATH != 0 {
            // openat2 refuses O_PATH with anything but these (open ignores the rest).
            flags & (libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW) | libc::O_CLOEXEC
        } else {
            flags & !(libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_ASYNC) | libc::O_CLOEXEC | libc::O_NOCTTY
        };
        if self.writable {
            let (f, m) = (open_flags as u64, strip_setid(mode, libc::S_IFREG) as u64);
            let fd = if self.uring {
                crate::uring::openat2(self.root.as_fd(), rel.as_bytes(), f, m, RESOLVE)?
            } else {
                host::openat2(self.root.as_fd(), rel.as_bytes(), f, m, RESOLVE)?
            };
            let st = self.check(&fd)?;
            let (dir, regular) = kinds(st.st_mode);
            return Ok(HostFile {
                fd: Arc::new(fd),
                path,
                quota: self.quota.clone(),
                uring: self.uring,
                dir,
                regular,
                mount: Some(true),
            });
        }
        if wants_write {
            return Err(Errno::EROFS);
        }
        let (opath, st) = match self.lookup(rel, flags & libc::O_NOFOLLOW != 0) {
            Ok(r) => r,
            Err(Errno::ENOENT) if flags & libc::O_CREAT != 0 => return Err(Errno::EROFS),
            Err(e) => return Err(e),
        };
        if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
            return Err(Errno::EEXIST);
        }
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFLNK {
            return Err(Errno::ELOOP);
        }
        if flags & libc::O_DIRECTORY != 0 && kind != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        if flags & libc::O_PATH != 0 {
            // O_PATH descriptors cannot be read.
            let dir = kind == libc::S_IFDIR;
            return Ok(HostFile {
                fd: Arc::new(opath),
                path,
                quota: None,
                uring: false,
                dir,
                regular: false,
                mount: Some(false),
            });
        }
        let fd = host::reopen(opath.as_fd(), open_flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW))?;
        let (dir, regular) = kinds(st.st_mode);
        Ok(HostFile { fd: Arc::new(fd), path, quota: None, uring: self.uring, dir, regular, mount: Some(false) })
    }

    /// Resolves the parent of `rel` and returns it with the last component,
    /// refusing on a read-only mount.
    pub fn parent(&self, rel: &str) -> Result<(OwnedFd, String), Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        let (dir, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (if d.is_empty() { "." } else { d }, n),
            None => (".", rel),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(Errno::EINVAL);
        }
        let flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
        let fd = host::openat2(self.root.as_fd(), dir.as_bytes(), flags, 0, RESOLVE)?;
        self.check(&fd)?;
        Ok((fd, name.to_string()))
    }
}

/// `mode` without set-user-ID, and without set-group-ID unless `kind` is a
/// directory (where it only makes new entries inherit the group).
pub fn strip_setid(mode: u32, kind: u32) -> u32 {
    let dir = kind & libc::S_IFMT == libc::S_IFDIR;
    mode & 0o7777 & !libc::S_ISUID & if dir { !0 } else { !libc::S_ISGID }
}

/// (directory, regular file) for a host st_mode.
fn kinds(mode: u32) -> (bool, bool) {
    (mode & libc::S_IFMT == libc::S_IFDIR, mode & libc::S_IFMT == libc::S_IFREG)
}

/// A host file opened for the guest.
pub struct HostFile {
    pub fd: Arc<OwnedFd>,
    path: String,
    /// The mount's byte limit, charged as the file grows.
    quota: Option<Arc<Quota>>,
    /// I/O through io_uring (volume files).
    uring: bool,
    /// A directory (the type of an open file never changes).
    dir: bool,
    /// A regular file.
    regular: bool,
    /// Opened from a mount: Some(writable); None for descriptors wisp was
    /// handed (the standard streams, pipes, eventfds).
    mount: Option<bool>,
}

impl HostFile {
    /// Wraps an already-open host descriptor (the standard streams).
    pub fn from_fd(fd: OwnedFd, path: String) -> HostFile {
        let (dir, regular) = host::fstat(fd.as_fd()).map(|s| kinds(s.st_mode)).unwrap_or((false, false));
        HostFile { fd: Arc::new(fd), path, quota: None, uring: false, dir, regular, mount: None }
    }

    fn io_read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        let fd = self.fd.as_fd();
        match (self.uring, off) {
            (true, Some(o)) => crate::uring::pread(fd, buf, o),
            (true, None) => crate::uring::read(fd, buf),
            (false, Some(o)) => host::pread(fd, buf, o),
            (false, None) => host::read(fd, buf),
        }
    }

    fn io_write(&self, buf: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        let fd = self.fd.as_fd();
        match (self.uring, off) {
            (true, Some(o)) => crate::uring::pwrite(fd, buf, o),
            (true, None) => crate::uring::write(fd, buf),
            (false, Some(o)) => host::pwrite(fd, buf, o),
            (false, None) => host::write(fd, buf),
        }
    }

    fn io_stat(&self) -> Result<libc::stat, Errno> {
        if self.uring { crate::uring::fstat(self.fd.as_fd()) } else { host::fstat(self.fd.as_fd()) }
    }

    /// A write at `off` (None: the file offset) charged to `q`: it is cut
    /// short where the quota ends, and fails with ENOSPC when nothing fits.
    fn charged_write(&self, q: &Quota, buf: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        let fd = self.fd.as_fd();
        let st = self.io_stat()?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return self.io_write(buf, off);
        }
        let size = st.st_size.max(0) as u64;
        let pos = match off {
            Some(o) => o,
            None if host::fcntl_getfl(fd)? & libc::O_APPEND != 0 => size,
            None => host::lseek(fd, 0, libc::SEEK_CUR)?,
        };
        let len = buf.len() as u64;
        let growth = pos.saturating_add(len).saturating_sub(size);
        let got = q.reserve(growth);
        let fits = len.saturating_sub(growth - got) as usize;
        if fits == 0 && !buf.is_empty() {
            q.release(got);
            return Err(Errno::ENOSPC);
        }
        let r = self.io_write(&buf[..fits], off);
        let grew = match r {
            Ok(n) => pos.saturating_add(n as u64).saturating_sub(size),
            Err(_) => 0,
        };
        q.release(got.saturating_sub(grew));
        r
    }

    /// Charges growing the file to `len` bytes (or refunds shrinking it).
    fn charge_resize(&self, q: &Quota, len: u64, op: impl FnOnce() -> Result<(), Errno>) -> Result<(), Errno> {
        let size = self.io_stat()?.st_size.max(0) as u64;
        let growth = len.saturating_sub(size);
        let got = q.reserve(growth);
        if got < growth {
            q.release(got);
            return Err(Errno::ENOSPC);
        }
        match op() {
            Ok(()) => {
                q.release(size.saturating_sub(len));
                Ok(())
            }
            Err(e) => {
                q.release(got);
                Err(e)
            }
        }
    }
}

/// Terminal ioctls passed through to a host tty, with their argument sizes.
pub fn tty_ioctl_size(req: u64) -> Option<usize> {
    match req {
        0x5401 => Some(60), // TCGETS: struct termios
        0x5413 => Some(8),  // TIOCGWINSZ: struct winsize
        0x540f => Some(4),  // TIOCGPGRP: pid_t
        _ => None,
    }
}

impl File for HostFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.io_read(buf, None)
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        match &self.quota {
            Some(q) => self.charged_write(q, buf, None),
            None => self.io_write(buf, None),
        }
    }
    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.io_read(buf, Some(off))
    }
    fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        match &self.quota {
            Some(q) => self.charged_write(q, buf, Some(off)),
            None => self.io_write(buf, Some(off)),
        }
    }
    fn seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        host::lseek(self.fd.as_fd(), off, whence)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.io_stat().map(|s| Stat::from_host(&s))
    }
    fn getdents(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        host::getdents64(self.fd.as_fd(), buf)
    }
    fn ioctl(&self, req: u64, arg: &mut [u8]) -> Result<u64, Errno> {
        match tty_ioctl_size(req) {
            Some(n) if n == arg.len() => host::tty_ioctl(self.fd.as_fd(), req, arg),
            _ => Err(Errno::ENOTTY),
        }
    }
    fn truncate(&self, len: u64) -> Result<(), Errno> {
        match &self.quota {
            Some(q) => self.charge_resize(q, len, || host::ftruncate(self.fd.as_fd(), len)),
            None => host::ftruncate(self.fd.as_fd(), len),
        }
    }
    fn allocate(&self, mode: i32, off: u64, len: u64) -> Result<(), Errno> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        let alloc = || host::fallocate(self.fd.as_fd(), mode, off, len);
        match &self.quota {
            // Only a size change is charged; KEEP_SIZE and hole punching are not.
            Some(q) if mode & libc::FALLOC_FL_KEEP_SIZE == 0 => {
                let size = host::fstat(self.fd.as_fd())?.st_size.max(0) as u64;
                self.charge_resize(q, end.max(size), alloc)
            }
            _ => alloc(),
        }
    }
    fn sync(&self) -> Result<(), Errno> {
        if self.uring { crate::uring::fsync(self.fd.as_fd(), false) } else { host::fsync(self.fd.as_fd(), false) }
    }
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.fd.as_fd())
    }
    fn path(&self) -> String {
        self.path.clone()
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
    fn set_mode(&self, mode: u32) -> Option<Result<(), Errno>> {
        let kind = if self.dir { libc::S_IFDIR } else { libc::S_IFREG };
        Some(match self.mount? {
            false => Err(Errno::EROFS),
            // An O_PATH descriptor cannot fchmod; through AT_EMPTY_PATH it can.
            true => host::fchmod(self.fd.as_fd(), strip_setid(mode, kind))
                .or_else(|_| host::chmod_path_fd(self.fd.as_fd(), strip_setid(mode, kind))),
        })
    }
    fn set_owner(&self, uid: u32, gid: u32) -> Option<Result<(), Errno>> {
        Some(match self.mount? {
            false => Err(Errno::EROFS),
            true => host::chown_path_fd(self.fd.as_fd(), uid, gid),
        })
    }
    fn regular_host_fd(&self) -> Option<(BorrowedFd<'_>, bool)> {
        self.regular.then(|| (self.fd.as_fd(), self.uring))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("wisp-hostfs-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("etc")).unwrap();
        std::fs::write(d.join("etc/hostname"), "inside\n").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../../../etc/hostname", d.join("rel")).unwrap();
        d
    }

    fn read_all(f: &HostFile) -> String {
        let mut b = vec![0u8; 100];
        let n = f.read(&mut b).unwrap();
        String::from_utf8_lossy(&b[..n]).into_owned()
    }

    #[test]
    fn symlinks_and_dotdot_stay_inside() {
        let d = tree();
        let fs = HostFs::new(&d, false).unwrap();
        for p in ["abs", "rel", "../../../etc/hostname", "etc/../../etc/hostname"] {
            let f = fs.open(p, libc::O_RDONLY, 0, p.into()).unwrap();
            assert_eq!(read_all(&f), "inside\n", "{p}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn read_only_refuses_writes_and_host_proc_is_refused() {
        let d = tree();
        let fs = HostFs::new(&d, false).unwrap();
        assert_eq!(fs.open("etc/hostname", libc::O_WRONLY, 0, String::new()).err(), Some(Errno::EROFS));
        assert_eq!(fs.open("new", libc::O_CREAT | libc::O_WRONLY, 0o644, String::new()).err(), Some(Errno::EROFS));
        assert_eq!(fs.parent("etc/x").err(), Some(Errno::EROFS));
        let host_root = HostFs::new(std::path::Path::new("/"), false).unwrap();
        assert_eq!(host_root.open("proc/self/status", libc::O_RDONLY, 0, String::new()).err(), Some(Errno::EACCES));
        assert_eq!(host_root.open("dev/null", libc::O_RDONLY, 0, String::new()).err(), Some(Errno::EACCES));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn writable_mount_creates_inside() {
        let d = tree();
        let fs = HostFs::new(&d, true).unwrap();
        let f = fs.open("/new", libc::O_CREAT | libc::O_RDWR, 0o600, "/new".into()).unwrap();
        f.write(b"data").unwrap();
        assert_eq!(std::fs::read(d.join("new")).unwrap(), b"data");
        let (parent, name) = fs.parent("etc/sub").unwrap();
        assert_eq!(name, "sub");
        host::at_op(host::AtOp::Mkdir, parent.as_fd(), name.as_bytes(), 0o755).unwrap();
        assert!(d.join("etc/sub").is_dir());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
