//! Open files as the guest sees them.

use std::os::fd::BorrowedFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::errno::Errno;

/// `struct stat` as x86_64 Linux lays it out (144 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stat {
    pub fn from_host(s: &libc::stat) -> Stat {
        Stat {
            dev: s.st_dev,
            ino: s.st_ino,
            nlink: s.st_nlink,
            mode: s.st_mode,
            uid: s.st_uid,
            gid: s.st_gid,
            rdev: s.st_rdev,
            size: s.st_size,
            blksize: s.st_blksize,
            blocks: s.st_blocks,
            atime: (s.st_atime, s.st_atime_nsec),
            mtime: (s.st_mtime, s.st_mtime_nsec),
            ctime: (s.st_ctime, s.st_ctime_nsec),
        }
    }

    pub fn to_bytes(&self) -> [u8; 144] {
        let mut b = [0u8; 144];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(0, &self.dev.to_le_bytes());
        put(8, &self.ino.to_le_bytes());
        put(16, &self.nlink.to_le_bytes());
        put(24, &self.mode.to_le_bytes());
        put(28, &self.uid.to_le_bytes());
        put(32, &self.gid.to_le_bytes());
        put(40, &self.rdev.to_le_bytes());
        put(48, &self.size.to_le_bytes());
        put(56, &self.blksize.to_le_bytes());
        put(64, &self.blocks.to_le_bytes());
        put(72, &self.atime.0.to_le_bytes());
        put(80, &self.atime.1.to_le_bytes());
        put(88, &self.mtime.0.to_le_bytes());
        put(96, &self.mtime.1.to_le_bytes());
        put(104, &self.ctime.0.to_le_bytes());
        put(112, &self.ctime.1.to_le_bytes());
        b
    }

    /// `struct statx` (256 bytes) with the basic fields filled in.
    pub fn to_statx(&self) -> [u8; 256] {
        let mut b = [0u8; 256];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(0, &0x7ffu32.to_le_bytes()); // STATX_BASIC_STATS
        put(4, &(self.blksize as u32).to_le_bytes());
        put(16, &(self.nlink as u32).to_le_bytes());
        put(20, &self.uid.to_le_bytes());
        put(24, &self.gid.to_le_bytes());
        put(28, &(self.mode as u16).to_le_bytes());
        put(32, &self.ino.to_le_bytes());
        put(40, &(self.size as u64).to_le_bytes());
        put(48, &(self.blocks as u64).to_le_bytes());
        for (off, t) in [(64, self.atime), (96, self.ctime), (112, self.mtime)] {
            put(off, &t.0.to_le_bytes());
            put(off + 8, &(t.1 as u32).to_le_bytes());
        }
        put(128, &((self.rdev >> 8) as u32 & 0xfff).to_le_bytes());
        put(132, &(self.rdev as u32 & 0xff).to_le_bytes());
        put(136, &((self.dev >> 8) as u32 & 0xfff).to_le_bytes());
        put(140, &(self.dev as u32 & 0xff).to_le_bytes());
        b
    }

    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// One open file description's operations. Offsets live in the implementation.
pub trait File: Send + Sync {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno>;
    fn write(&self, buf: &[u8]) -> Result<usize, Errno>;
    fn pread(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::ESPIPE)
    }
    fn pwrite(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::ESPIPE)
    }
    fn seek(&self, _off: i64, _whence: i32) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }
    fn stat(&self) -> Result<Stat, Errno>;
    /// Fills `buf` with linux_dirent64 records.
    fn getdents(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// `arg` is exactly the size the request's argument has.
    fn ioctl(&self, _req: u64, _arg: &mut [u8]) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// fchmod on the open file itself; None when the file has no such notion
    /// here (the caller then acts on its path).
    fn set_mode(&self, _mode: u32) -> Option<Result<(), Errno>> {
        None
    }
    /// fchown on the open file itself; None as for `set_mode`.
    fn set_owner(&self, _uid: u32, _gid: u32) -> Option<Result<(), Errno>> {
        None
    }
    /// fallocate(2) on the file; only host files support it.
    fn allocate(&self, _mode: i32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
    fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }
    /// A regular host file that reads may fill guest memory from directly,
    /// and whether its I/O goes through io_uring (volumes).
    fn regular_host_fd(&self) -> Option<(BorrowedFd<'_>, bool)> {
        None
    }
    /// The host descriptor behind this file, for mmap and poll.
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    /// The guest path, for /proc/self/fd and /proc/self/maps.
    fn path(&self) -> String;
    /// True for the guest's view of a directory.
    fn is_dir(&self) -> bool {
        false
    }
    /// For files with no host descriptor to poll (guest network sockets):
    /// their readiness now (POLL* bits) and a host descriptor that becomes
    /// readable when it may have changed.
    fn readiness(&self) -> Option<(u32, BorrowedFd<'_>)> {
        None
    }
    /// For files that syscalls must recognise (epoll instances).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// An open file description: the file plus its status flags.
pub struct OpenFile {
    pub file: Box<dyn File>,
    flags: AtomicU32,
}

/// Status flags that F_SETFL may change.
pub const SETFL_MASK: u32 =
    (libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME) as u32;

impl OpenFile {
    pub fn new(file: Box<dyn File>, flags: u32) -> OpenFile {
        OpenFile {
            file,
            flags: AtomicU32::new(
                flags & !((libc::O_CLOEXEC | libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC | libc::O_NOCTTY) as u32),
            ),
        }
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_flags(&self, new: u32) {
        let old = self.flags();
        self.flags.store((old & !SETFL_MASK) | (new & SETFL_MASK), Ordering::Relaxed);
    }

    fn accmode(&self) -> u32 {
        self.flags() & libc::O_ACCMODE as u32
    }

    pub fn readable(&self) -> bool {
        self.accmode() != libc::O_WRONLY as u32 && self.flags() & libc::O_PATH as u32 == 0
    }

    pub fn writable(&self) -> bool {
        self.accmode() != libc::O_RDONLY as u32 && self.flags() & libc::O_PATH as u32 == 0
    }
}

/// linux_dirent64 encoding.
pub fn put_dirent(buf: &mut [u8], at: usize, ino: u64, off: i64, dtype: u8, name: &[u8]) -> Option<usize> {
    let reclen = (19 + name.len() + 1).div_ceil(8) * 8;
    if at + reclen > buf.len() {
        return None;
    }
    let r = &mut buf[at..at + reclen];
    r.fill(0);
    r[0..8].copy_from_slice(&ino.to_le_bytes());
    r[8..16].copy_from_slice(&off.to_le_bytes());
    r[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
    r[18] = dtype;
    r[19..19 + name.len()].copy_from_slice(name);
    Some(reclen)
}

/// A file whose whole content is produced when it is opened (procfs-style).
pub struct SynthFile {
    data: Vec<u8>,
    pos: Mutex<u64>,
    stat: Stat,
    path: String,
}

impl SynthFile {
    pub fn new(path: String, data: Vec<u8>, stat: Stat) -> SynthFile {
        SynthFile { data, pos: Mutex::new(0), stat, path }
    }
}

impl File for SynthFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock().map_err(|_| Errno::EIO)?;
        let n = self.pread(buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn write(&self, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }
    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let start = (off as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }
    fn seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock().map_err(|_| Errno::EIO)?;
        *pos = seek_to(*pos, self.data.len() as u64, off, whence)?;
        Ok(*pos)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn path(&self) -> String {
        self.path.clone()
    }
}

/// Computes a new offset for lseek on an in-memory file.
pub fn seek_to(pos: u64, size: u64, off: i64, whence: i32) -> Result<u64, Errno> {
    let base = match whence {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => pos as i64,
        libc::SEEK_END => size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(off).ok_or(Errno::EOVERFLOW)?;
    if new < 0 { Err(Errno::EINVAL) } else { Ok(new as u64) }
}

/// A directory whose entries are fixed when it is opened.
pub struct SynthDir {
    entries: Vec<(Vec<u8>, u8, u64)>,
    pos: Mutex<usize>,
    stat: Stat,
    path: String,
}

impl SynthDir {
    /// `entries` are (name, DT_* type, inode); "." and ".." are added. An inode
    /// of 0 gets a stable made-up one: glibc's readdir skips d_ino == 0.
    pub fn new(path: String, mut entries: Vec<(Vec<u8>, u8, u64)>, stat: Stat) -> SynthDir {
        entries.insert(0, (b"..".to_vec(), libc::DT_DIR, 1));
        entries.insert(0, (b".".to_vec(), libc::DT_DIR, stat.ino));
        for (name, _, ino) in entries.iter_mut().filter(|e| e.2 == 0) {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in path.bytes().chain([b'/']).chain(name.iter().copied()) {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
            *ino = (h & 0xffff_ffff) | 1;
        }
        SynthDir { entries, pos: Mutex::new(0), stat, path }
    }
}

impl File for SynthDir {
    fn read(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock().map_err(|_| Errno::EIO)?;
        *pos = seek_to(*pos as u64, self.entries.len() as u64, off, whence)? as usize;
        Ok(*pos as u64)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn getdents(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock().map_err(|_| Errno::EIO)?;
        let mut at = 0;
        while let Some((name, t, ino)) = self.entries.get(*pos) {
            match put_dirent(buf, at, *ino, *pos as i64 + 1, *t, name) {
                Some(n) => at += n,
                None if at == 0 => return Err(Errno::EINVAL),
                None => break,
            }
            *pos += 1;
        }
        Ok(at)
    }
    fn path(&self) -> String {
        self.path.clone()
    }
    fn is_dir(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_layout_matches_libc() {
        let s = Stat {
            dev: 1,
            ino: 2,
            nlink: 3,
            mode: 0o100644,
            uid: 5,
            gid: 6,
            rdev: 7,
            size: 8,
            blksize: 9,
            blocks: 10,
            atime: (11, 12),
            mtime: (13, 14),
            ctime: (15, 16),
        };
        let b = s.to_bytes();
        assert_eq!(std::mem::size_of::<libc::stat>(), 144);
        assert_eq!(&b[48..56], &8i64.to_le_bytes());
        assert_eq!(&b[88..96], &13i64.to_le_bytes());
    }

    #[test]
    fn synth_dir_paginates() {
        let d = SynthDir::new(
            "/x".into(),
            (0..50).map(|i| (format!("entry{i}").into_bytes(), libc::DT_REG, i)).collect(),
            Stat::default(),
        );
        let mut total = 0;
        let mut buf = [0u8; 200];
        loop {
            let n = d.getdents(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at < n {
                total += 1;
                at += u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
            }
        }
        assert_eq!(total, 52);
        let named = SynthDir::new("/p".into(), vec![(b"a".to_vec(), libc::DT_REG, 0)], Stat::default());
        let n = named.getdents(&mut buf).unwrap();
        let mut at = 0;
        while at < n {
            assert_ne!(u64::from_le_bytes(buf[at..at + 8].try_into().unwrap()), 0, "glibc skips inode 0");
            at += u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        }
        assert_eq!(d.getdents(&mut [0u8; 8]), Ok(0));
    }

    #[test]
    fn seek_rules() {
        assert_eq!(seek_to(5, 10, -2, libc::SEEK_END), Ok(8));
        assert_eq!(seek_to(5, 10, -6, libc::SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(seek_to(5, 10, 0, 99), Err(Errno::EINVAL));
        assert_eq!(seek_to(5, 10, i64::MAX, libc::SEEK_END), Err(Errno::EOVERFLOW));
    }
}
