//! The virtual filesystem: a mount table over host directories and synthetic
//! filesystems.
//!
//! A guest path is made absolute against the working directory (or a directory
//! descriptor), normalized lexically, and dispatched to the mount with the
//! longest matching prefix. Host mounts resolve the rest with
//! RESOLVE_IN_ROOT (see [`hostfs`]); /proc and /dev are synthetic and may answer
//! with a symlink, which is followed here against the guest's own mount table,
//! never the host's. See docs/vfs.md.

pub mod devfs;
pub mod file;
pub mod hostfs;
pub mod path;
pub mod procfs;

use std::os::fd::AsFd;

use file::{File, Stat};
use hostfs::HostFs;
pub use path::normalize;
use procfs::ProcView;

use crate::errno::Errno;
use crate::host;

/// Symlinks followed in one lookup before ELOOP, as on Linux.
const MAX_LINKS: usize = 40;

/// The result of a synthetic lookup.
pub enum Node {
    File(Box<dyn File>),
    /// A symlink: target, and the remaining path below it.
    Link(String, String),
    /// /proc/self/fd/N: the guest descriptor and its path.
    Fd(i32, String),
}

pub enum Fs {
    Host(HostFs),
    Proc,
    Dev,
    /// One read-only file at the mount point (a machine's /etc/hostname).
    File(Vec<u8>),
    /// One read-only file whose content is made at each open (a machine's
    /// /etc/hosts, listing the machines of its cloud as they come and go).
    Generated(std::sync::Arc<dyn Fn() -> Vec<u8> + Send + Sync>),
}

struct Mount {
    point: String,
    fs: Fs,
}

/// What an open resolved to.
pub enum Opened {
    File(Box<dyn File>),
    /// Re-open of an existing guest descriptor (/proc/self/fd/N, /dev/stdout).
    Fd(i32),
}

/// Stable fake inode numbers for synthetic files.
pub fn synth_stat(path: &str, mode: u32) -> Stat {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let (uid, gid) = host::ids();
    Stat { dev: 0x16, ino: h & 0xffff_ffff, nlink: 1, mode, uid, gid, blksize: 4096, ..Stat::default() }
}

pub struct Vfs {
    mounts: Vec<Mount>,
}

impl Vfs {
    pub fn new() -> Vfs {
        Vfs { mounts: Vec::new() }
    }

    /// Adds a mount; later lookups pick the longest matching mount point.
    pub fn mount(&mut self, point: &str, fs: Fs) {
        self.mounts.push(Mount { point: point.to_string(), fs });
        self.mounts.sort_by_key(|m| std::cmp::Reverse(m.point.len()));
    }

    pub fn mount_table(&self) -> String {
        let mut out = String::new();
        for m in self.mounts.iter().rev() {
            let (dev, ty, opt) = match &m.fs {
                Fs::Host(h) if m.point == "/" => ("rootfs", "rootfs", if h.writable() { "rw" } else { "ro" }),
                Fs::Host(h) => ("tmpfs", "tmpfs", if h.writable() { "rw" } else { "ro" }),
                Fs::Proc => ("proc", "proc", "rw"),
                Fs::Dev => ("devtmpfs", "devtmpfs", "rw"),
                Fs::File(_) | Fs::Generated(_) => ("wisp", "tmpfs", "ro"),
            };
            out.push_str(&format!("{dev} {} {ty} {opt} 0 0\n", m.point));
        }
        out
    }

    fn find(&self, abs: &str) -> Result<(&Mount, String), Errno> {
        for m in &self.mounts {
            if let Some(rel) = path::strip_mount(abs, &m.point) {
                return Ok((m, rel.to_string()));
            }
        }
        Err(Errno::ENOENT)
    }

    fn synthetic(&self, view: &dyn ProcView, fs: &Fs, rel: &str) -> Result<Node, Errno> {
        match fs {
            Fs::Proc => procfs::lookup(view, rel),
            Fs::Dev => devfs::lookup(rel),
            Fs::File(_) | Fs::Generated(_) if rel == "." => {
                let data = match fs {
                    Fs::Generated(make) => make(),
                    Fs::File(data) => data.clone(),
                    _ => Vec::new(),
                };
                let path =
                    self.mounts.iter().find(|m| std::ptr::eq(&m.fs, fs)).map(|m| m.point.clone()).unwrap_or_default();
                let mut st = synth_stat(&path, libc::S_IFREG | 0o644);
                st.size = data.len() as i64;
                Ok(Node::File(Box::new(file::SynthFile::new(path, data, st))))
            }
            Fs::File(_) | Fs::Generated(_) => Err(Errno::ENOTDIR),
            Fs::Host(_) => Err(Errno::EINVAL),
        }
    }

    /// Follows a synthetic symlink met while looking up `abs`, with `rest` the
    /// part of `abs` below the link: the new absolute path to look up.
    fn follow(abs: &str, target: &str, rest: &str) -> Result<String, Errno> {
        let link =
            if rest.is_empty() { abs } else { abs.strip_suffix(rest).map(|l| l.trim_end_matches('/')).unwrap_or(abs) };
        let joined = if rest.is_empty() { target.to_string() } else { format!("{target}/{rest}") };
        normalize(path::dirname(link), joined.as_bytes()).map(|(p, _)| p)
    }

    /// Opens an absolute guest path.
    pub fn open(&self, view: &dyn ProcView, abs: &str, must_dir: bool, flags: i32, mode: u32) -> Result<Opened, Errno> {
        let mut abs = abs.to_string();
        let flags = if must_dir { flags | libc::O_DIRECTORY } else { flags };
        for _ in 0..MAX_LINKS {
            let (m, rel) = self.find(&abs)?;
            let node = match &m.fs {
                Fs::Host(h) => return Ok(Opened::File(Box::new(h.open(&rel, flags, mode, abs.clone())?))),
                fs => self.synthetic(view, fs, &rel)?,
            };
            if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            match node {
                Node::File(f) => {
                    if flags & libc::O_DIRECTORY != 0 && !f.is_dir() {
                        return Err(Errno::ENOTDIR);
                    }
                    if flags & libc::O_ACCMODE != libc::O_RDONLY && f.is_dir() {
                        return Err(Errno::EISDIR);
                    }
                    return Ok(Opened::File(f));
                }
                Node::Fd(fd, _) => return Ok(Opened::Fd(fd)),
                Node::Link(target, rest) => {
                    if rest.is_empty() && flags & libc::O_NOFOLLOW != 0 {
                        return Err(Errno::ELOOP);
                    }
                    abs = Self::follow(&abs, &target, &rest)?;
                }
            }
        }
        Err(Errno::ELOOP)
    }

    /// `stat`/`lstat` of an absolute guest path.
    pub fn stat(&self, view: &dyn ProcView, abs: &str, nofollow: bool) -> Result<Stat, Errno> {
        let mut abs = abs.to_string();
        for _ in 0..MAX_LINKS {
            let (m, rel) = self.find(&abs)?;
            let node = match &m.fs {
                Fs::Host(h) => return h.stat(&rel, nofollow),
                fs => self.synthetic(view, fs, &rel)?,
            };
            match node {
                Node::File(f) => return f.stat(),
                Node::Fd(fd, _) if !nofollow => return view.fd_stat(fd),
                Node::Link(target, rest) if !(nofollow && rest.is_empty()) => abs = Self::follow(&abs, &target, &rest)?,
                Node::Fd(..) | Node::Link(..) => {
                    let mut s = synth_stat(&abs, libc::S_IFLNK | 0o777);
                    s.size = self.readlink(view, &abs).map(|t| t.len() as i64).unwrap_or(0);
                    return Ok(s);
                }
            }
        }
        Err(Errno::ELOOP)
    }

    /// `readlink` of an absolute guest path.
    pub fn readlink(&self, view: &dyn ProcView, abs: &str) -> Result<Vec<u8>, Errno> {
        let (m, rel) = self.find(abs)?;
        match &m.fs {
            Fs::Host(h) => h.readlink(&rel),
            fs => match self.synthetic(view, fs, &rel)? {
                Node::Link(target, rest) if rest.is_empty() => Ok(target.into_bytes()),
                Node::Link(target, rest) => self.readlink(view, &Self::follow(abs, &target, &rest)?),
                Node::Fd(_, path) => Ok(path.into_bytes()),
                Node::File(_) => Err(Errno::EINVAL),
            },
        }
    }

    /// `access`/`faccessat` of an absolute guest path.
    pub fn access(&self, view: &dyn ProcView, abs: &str, mode: i32) -> Result<(), Errno> {
        let (m, rel) = self.find(abs)?;
        match &m.fs {
            Fs::Host(h) => h.access(&rel, mode),
            _ => {
                let st = self.stat(view, abs, false)?;
                if mode & libc::W_OK != 0 && st.mode & 0o222 == 0 || mode & libc::X_OK != 0 && st.mode & 0o111 == 0 {
                    return Err(Errno::EACCES);
                }
                Ok(())
            }
        }
    }

    fn host_parent(&self, abs: &str) -> Result<(std::os::fd::OwnedFd, String), Errno> {
        match self.find(abs)? {
            (Mount { fs: Fs::Host(h), .. }, rel) => h.parent(&rel),
            (Mount { point, .. }, _) if point == abs => Err(Errno::EBUSY),
            _ => Err(Errno::EACCES),
        }
    }

    /// Mount point index of a path, to detect cross-mount renames and links.
    fn mount_of(&self, abs: &str) -> Result<usize, Errno> {
        let (m, _) = self.find(abs)?;
        Ok(self.mounts.iter().position(|x| std::ptr::eq(x, m)).unwrap_or(0))
    }

    /// Linux reports EEXIST before EROFS or EACCES when the name is taken.
    fn must_not_exist(&self, abs: &str) -> Result<(), Errno> {
        match self.find(abs)? {
            (_, rel) if rel == "." => Err(Errno::EEXIST),
            (Mount { fs: Fs::Host(h), .. }, rel) => match h.stat(&rel, true) {
                Ok(_) => Err(Errno::EEXIST),
                Err(_) => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Makes the socket file a named AF_UNIX socket is bound to (EADDRINUSE
    /// when the name exists).
    pub fn make_socket(&self, abs: &str, mode: u32) -> Result<(), Errno> {
        self.must_not_exist(abs).map_err(|e| if e == Errno::EEXIST { Errno::EADDRINUSE } else { e })?;
        let (dir, name) = self.host_parent(abs)?;
        host::at_op(host::AtOp::MakeSocket, dir.as_fd(), name.as_bytes(), mode & 0o7777)
    }

    pub fn mkdir(&self, abs: &str, mode: u32) -> Result<(), Errno> {
        self.must_not_exist(abs)?;
        let (dir, name) = self.host_parent(abs)?;
        host::at_op(host::AtOp::Mkdir, dir.as_fd(), name.as_bytes(), mode & 0o7777)
    }

    /// The quota refund due when `abs` loses a name: a regular file's bytes
    /// when this is its last link.
    fn last_link_refund(&self, abs: &str) -> Option<(std::sync::Arc<hostfs::Quota>, u64)> {
        match self.find(abs).ok()? {
            (Mount { fs: Fs::Host(h), .. }, rel) => h.quota().and_then(|q| {
                let (_, st) = h.lookup(&rel, true).ok()?;
                let last = st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_nlink == 1;
                last.then(|| (q.clone(), st.st_size.max(0) as u64))
            }),
            _ => None,
        }
    }

    pub fn unlink(&self, abs: &str, rmdir: bool) -> Result<(), Errno> {
        // Removing a file's last link gives its bytes back to the mount's quota.
        let refund = if rmdir { None } else { self.last_link_refund(abs) };
        let (dir, name) = self.host_parent(abs)?;
        host::at_op(
            host::AtOp::Unlink,
            dir.as_fd(),
            name.as_bytes(),
            if rmdir { libc::AT_REMOVEDIR as u32 } else { 0 },
        )?;
        if let Some((q, n)) = refund {
            q.release(n);
        }
        Ok(())
    }

    pub fn chmod(&self, abs: &str, mode: u32) -> Result<(), Errno> {
        match self.find(abs)? {
            (Mount { fs: Fs::Host(h), .. }, rel) => h.chmod(&rel, mode),
            _ => Err(Errno::EPERM),
        }
    }

    pub fn chown(&self, abs: &str, uid: u32, gid: u32, nofollow: bool) -> Result<(), Errno> {
        match self.find(abs)? {
            (Mount { fs: Fs::Host(h), .. }, rel) => h.chown(&rel, uid, gid, nofollow),
            _ => Err(Errno::EPERM),
        }
    }

    /// utimensat on a path: the root is read-only, synthetic files refuse.
    pub fn utimes(&self, abs: &str, times: Option<&[libc::timespec; 2]>, nofollow: bool) -> Result<(), Errno> {
        match self.find(abs)? {
            (Mount { fs: Fs::Host(h), .. }, rel) => h.utimes(&rel, times, nofollow),
            _ => Err(Errno::EPERM),
        }
    }

    pub fn symlink(&self, target: &[u8], abs: &str) -> Result<(), Errno> {
        self.must_not_exist(abs)?;
        let (dir, name) = self.host_parent(abs)?;
        host::symlinkat(target, dir.as_fd(), name.as_bytes())
    }

    pub fn rename(&self, from: &str, to: &str, flags: u32) -> Result<(), Errno> {
        if self.mount_of(from)? != self.mount_of(to)? {
            return Err(Errno::EXDEV);
        }
        let (fd, fname) = self.host_parent(from)?;
        let (td, tname) = self.host_parent(to)?;
        // A file replaced by the rename gives its bytes back (not on exchange).
        let refund = if flags & libc::RENAME_EXCHANGE != 0 || from == to { None } else { self.last_link_refund(to) };
        host::renameat(fd.as_fd(), fname.as_bytes(), td.as_fd(), tname.as_bytes(), flags)?;
        if let Some((q, n)) = refund {
            q.release(n);
        }
        Ok(())
    }

    pub fn link(&self, from: &str, to: &str, follow: bool) -> Result<(), Errno> {
        if self.mount_of(from)? != self.mount_of(to)? {
            return Err(Errno::EXDEV);
        }
        if follow {
            self.must_not_exist(to)?;
            return match (self.find(from)?, self.find(to)?) {
                ((Mount { fs: Fs::Host(h), .. }, f), (_, t)) => h.link_following(&f, &t),
                _ => Err(Errno::EPERM),
            };
        }
        let (fd, fname) = self.host_parent(from)?;
        let (td, tname) = self.host_parent(to)?;
        host::linkat(fd.as_fd(), fname.as_bytes(), td.as_fd(), tname.as_bytes())
    }
}

impl Default for Vfs {
    fn default() -> Self {
        Vfs::new()
    }
}
