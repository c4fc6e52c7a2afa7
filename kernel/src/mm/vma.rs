//! Virtual memory areas: the Linux view of an address space.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;

/// What backs an area's pages.
#[derive(Clone)]
pub enum Backing {
    Anon,
    /// Anonymous memory shared with children after fork (MAP_SHARED|MAP_ANONYMOUS).
    SharedAnon,
    File(FileBacking),
}

/// A host file mapped into the guest.
#[derive(Clone)]
pub struct FileBacking {
    pub fd: Arc<OwnedFd>,
    /// File offset of the area's start.
    pub offset: u64,
    pub size: u64,
    pub shared: bool,
    /// Load a private copy instead of sharing the host page cache (the guest
    /// will write these pages, e.g. .bss tails).
    pub copy: bool,
    pub path: String,
    pub dev: u64,
    pub ino: u64,
}

#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    /// PROT_* bits.
    pub prot: u32,
    pub backing: Backing,
    /// `[heap]`, `[stack]`, `[vdso]`... for /proc/self/maps.
    pub name: Option<&'static str>,
}

impl Vma {
    /// The part of this area in `start..end`, with the file offset adjusted.
    pub fn slice(&self, start: u64, end: u64) -> Vma {
        let mut v = self.clone();
        let (s, e) = (start.max(self.start), end.min(self.end));
        if let Backing::File(f) = &mut v.backing {
            f.offset += s - self.start;
        }
        v.start = s;
        v.end = e;
        v
    }

    pub fn file(&self) -> Option<&FileBacking> {
        match &self.backing {
            Backing::File(f) => Some(f),
            Backing::Anon | Backing::SharedAnon => None,
        }
    }

    /// Writes are seen by every address space mapping it (no copy-on-write).
    pub fn is_shared(&self) -> bool {
        match &self.backing {
            Backing::SharedAnon => true,
            Backing::File(f) => f.shared,
            Backing::Anon => false,
        }
    }

    /// One /proc/self/maps line.
    pub fn maps_line(&self) -> String {
        let p = |bit: i32, c: char| if self.prot & bit as u32 != 0 { c } else { '-' };
        let shared = if self.is_shared() { 's' } else { 'p' };
        let (off, dev, ino, path) = match self.file() {
            Some(f) => (f.offset, f.dev, f.ino, f.path.as_str()),
            None => (0, 0, 0, self.name.unwrap_or("")),
        };
        let head = format!(
            "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {}",
            self.start,
            self.end,
            p(libc::PROT_READ, 'r'),
            p(libc::PROT_WRITE, 'w'),
            p(libc::PROT_EXEC, 'x'),
            shared,
            off,
            (dev >> 8) & 0xfff,
            dev & 0xff,
            ino
        );
        if path.is_empty() { format!("{head}\n") } else { format!("{head:<73}{path}\n") }
    }
}

/// The set of areas, keyed by start address; areas never overlap.
#[derive(Clone, Default)]
pub struct VmaSet {
    map: BTreeMap<u64, Vma>,
}

impl VmaSet {
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.map.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.map.values()
    }

    /// Areas overlapping `start..end`, in order.
    pub fn overlapping(&self, start: u64, end: u64) -> Vec<Vma> {
        let first = self.map.range(..=start).next_back().map(|(s, _)| *s).unwrap_or(start);
        self.map.range(first..end).map(|(_, v)| v).filter(|v| v.end > start && v.start < end).cloned().collect()
    }

    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.overlapping(start, end).is_empty()
    }

    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(self.is_free(vma.start, vma.end));
        self.map.insert(vma.start, vma);
    }

    /// Removes `start..end` from every area, splitting at the edges. Returns the
    /// removed pieces.
    pub fn carve(&mut self, start: u64, end: u64) -> Vec<Vma> {
        let hit = self.overlapping(start, end);
        let mut removed = Vec::new();
        for v in hit {
            self.map.remove(&v.start);
            if v.start < start {
                self.map.insert(v.start, v.slice(v.start, start));
            }
            if v.end > end {
                self.map.insert(end, v.slice(end, v.end));
            }
            removed.push(v.slice(start, end));
        }
        removed
    }

    /// Highest free gap of `len` bytes ending at or below `top` and above `floor`.
    pub fn find_gap_below(&self, top: u64, floor: u64, len: u64) -> Option<u64> {
        let mut hi = top;
        for v in self.map.values().rev() {
            if v.start >= hi {
                hi = hi.min(v.start);
                continue;
            }
            if v.end <= hi && hi - v.end >= len && hi - len >= floor {
                return Some(hi - len);
            }
            hi = hi.min(v.start);
        }
        (hi >= floor.checked_add(len)?).then(|| hi - len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(start: u64, end: u64) -> Vma {
        Vma { start, end, prot: 3, backing: Backing::Anon, name: None }
    }

    #[test]
    fn carve_splits_and_gap_search() {
        let mut s = VmaSet::default();
        s.insert(anon(0x1000, 0x5000));
        s.insert(anon(0x8000, 0x9000));
        let removed = s.carve(0x2000, 0x3000);
        assert_eq!(removed.len(), 1);
        assert_eq!((removed[0].start, removed[0].end), (0x2000, 0x3000));
        assert!(s.find(0x2500).is_none());
        assert_eq!(s.find(0x1500).map(|v| v.end), Some(0x2000));
        assert_eq!(s.find(0x4fff).map(|v| v.start), Some(0x3000));
        assert_eq!(s.find_gap_below(0x10000, 0x1000, 0x1000), Some(0xf000));
        assert_eq!(s.find_gap_below(0x9000, 0x1000, 0x3000), Some(0x5000));
        assert_eq!(s.find_gap_below(0x9000, 0x1000, 0x1000), Some(0x7000));
        assert_eq!(s.find_gap_below(0x5000, 0x1000, 0x2000), None);
    }

    #[test]
    fn slice_moves_file_offset() {
        let fd: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        let v = Vma {
            start: 0x1000,
            end: 0x4000,
            prot: 1,
            backing: Backing::File(FileBacking {
                fd: Arc::new(fd),
                offset: 0x10000,
                size: 0x20000,
                shared: false,
                copy: false,
                path: "/x".into(),
                dev: 0,
                ino: 0,
            }),
            name: None,
        };
        assert_eq!(v.slice(0x2000, 0x3000).file().unwrap().offset, 0x11000);
    }
}
