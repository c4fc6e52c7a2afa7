//! The synthetic /dev.

use super::file::{File, Stat, SynthDir};
use super::{Node, synth_stat};
use crate::errno::Errno;
use crate::host;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevKind {
    Null,
    Zero,
    Full,
    Random,
}

struct DevFile {
    kind: DevKind,
    name: &'static str,
    rdev: u64,
}

const DEVICES: [(&str, DevKind, u64); 5] = [
    ("null", DevKind::Null, (1 << 8) | 3),
    ("zero", DevKind::Zero, (1 << 8) | 5),
    ("full", DevKind::Full, (1 << 8) | 7),
    ("random", DevKind::Random, (1 << 8) | 8),
    ("urandom", DevKind::Random, (1 << 8) | 9),
];

const LINKS: [(&str, &str); 4] = [
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("fd", "/proc/self/fd"),
];

impl File for DevFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self.kind {
            DevKind::Null => Ok(0),
            DevKind::Zero | DevKind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            DevKind::Random => host::getrandom(buf),
        }
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        match self.kind {
            DevKind::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn pread(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        self.read(buf)
    }
    fn pwrite(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        self.write(buf)
    }
    fn seek(&self, _off: i64, _whence: i32) -> Result<u64, Errno> {
        Ok(0)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = synth_stat(&format!("/dev/{}", self.name), libc::S_IFCHR | 0o666);
        s.rdev = self.rdev;
        Ok(s)
    }
    fn path(&self) -> String {
        format!("/dev/{}", self.name)
    }
}

/// Looks up `rel` (relative to /dev).
pub fn lookup(rel: &str) -> Result<Node, Errno> {
    if rel == "." {
        let mut entries: Vec<(Vec<u8>, u8, u64)> =
            DEVICES.iter().map(|(n, _, r)| (n.as_bytes().to_vec(), libc::DT_CHR, *r)).collect();
        entries.extend(LINKS.iter().map(|(n, _)| (n.as_bytes().to_vec(), libc::DT_LNK, 0)));
        // /dev/shm is its own mount; list it here.
        entries.push((b"shm".to_vec(), libc::DT_DIR, 0));
        let st = synth_stat("/dev", libc::S_IFDIR | 0o755);
        return Ok(Node::File(Box::new(SynthDir::new("/dev".into(), entries, st))));
    }
    let (first, rest) = rel.split_once('/').unwrap_or((rel, ""));
    if let Some((_, target)) = LINKS.iter().find(|(n, _)| *n == first) {
        return Ok(Node::Link(target.to_string(), rest.to_string()));
    }
    if first == "tty" && rest.is_empty() {
        // A machine's processes have no controlling terminal.
        return Err(Errno::ENXIO);
    }
    if let Some((name, kind, rdev)) = DEVICES.iter().find(|(n, _, _)| *n == first) {
        if !rest.is_empty() {
            return Err(Errno::ENOTDIR);
        }
        return Ok(Node::File(Box::new(DevFile { kind: *kind, name, rdev: *rdev })));
    }
    Err(Errno::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(rel: &str) -> Box<dyn File> {
        match lookup(rel).unwrap() {
            Node::File(f) => f,
            _ => panic!("not a file"),
        }
    }

    #[test]
    fn devices_behave() {
        let mut b = [9u8; 16];
        assert_eq!(open("null").read(&mut b), Ok(0));
        assert_eq!(open("zero").read(&mut b), Ok(16));
        assert_eq!(b, [0; 16]);
        assert_eq!(open("full").write(b"x"), Err(Errno::ENOSPC));
        assert_eq!(open("urandom").read(&mut b), Ok(16));
        assert!(matches!(lookup("stdout"), Ok(Node::Link(t, _)) if t == "/proc/self/fd/1"));
        assert!(matches!(lookup("nope"), Err(Errno::ENOENT)));
        assert!(matches!(lookup("null/x"), Err(Errno::ENOTDIR)));
    }
}
