//! Guest physical memory: one host anonymous mapping, reserved with
//! MAP_NORESERVE so untouched frames cost nothing.
//!
//! All reads and writes go through vm-memory's checked `Bytes` accessors. The
//! few operations that change the *host* mapping underneath the guest (mapping a
//! file's page-cache pages into a frame range, giving frames back, forcing KVM to
//! drop cached translations) are the only unsafe code in the personality and live
//! here.
//!
//! Invariants:
//! - `base..base+size` is the host mapping owned by `mem`; nothing else unmaps it.
//! - Every host remap below stays inside that range (checked by `host_range`).

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Mutex;

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use crate::errno::Errno;

pub const PAGE_SIZE: u64 = 4096;

/// The guest's physical memory.
pub struct PhysMem {
    mem: GuestMemoryMmap<()>,
    base: *mut u8,
    size: u64,
    /// Frame ranges currently backed by a host file mapping: start -> end.
    file_backed: Mutex<BTreeMap<u64, u64>>,
}

// SAFETY: `base` is only an address used to build host remap calls; all data
// access goes through `mem`, which is Send + Sync.
unsafe impl Send for PhysMem {}
// SAFETY: as above; the only interior state (`file_backed`) is behind a Mutex.
unsafe impl Sync for PhysMem {}

impl PhysMem {
    /// Reserves `size` bytes (rounded up to a page) of guest physical memory.
    pub fn new(size: u64) -> std::io::Result<PhysMem> {
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), size as usize)])
            .map_err(|e| std::io::Error::other(format!("guest memory: {e}")))?;
        let base =
            mem.get_host_address(GuestAddress(0)).map_err(|e| std::io::Error::other(format!("guest memory: {e}")))?;
        let phys = PhysMem { mem, base, size, file_backed: Mutex::new(BTreeMap::new()) };
        Ok(phys)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// A read-only handle to the same memory, for the platform (exception frames).
    pub fn reader(&self) -> PhysReader {
        PhysReader { mem: self.mem.clone() }
    }

    /// Host address of physical address 0, for registering the memory with KVM.
    pub fn host_base(&self) -> u64 {
        self.base as u64
    }

    pub fn read(&self, pa: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.mem.read_slice(buf, GuestAddress(pa)).map_err(|_| Errno::EFAULT)
    }

    pub fn write(&self, pa: u64, buf: &[u8]) -> Result<(), Errno> {
        self.mem.write_slice(buf, GuestAddress(pa)).map_err(|_| Errno::EFAULT)
    }

    pub fn read_u64(&self, pa: u64) -> u64 {
        self.mem.read_obj::<u64>(GuestAddress(pa)).unwrap_or(0)
    }

    pub fn write_u64(&self, pa: u64, v: u64) {
        // Page-table frames always lie inside the range; a failure here would be
        // a bug in the frame allocator, and writing nothing is the safe outcome.
        let _ = self.mem.write_obj(v, GuestAddress(pa));
    }

    pub fn fill(&self, pa: u64, len: u64, byte: u8) -> Result<(), Errno> {
        let chunk = [byte; 4096];
        let mut off = 0;
        while off < len {
            let n = (len - off).min(4096);
            self.write(pa + off, &chunk[..n as usize])?;
            off += n;
        }
        Ok(())
    }

    fn host_range(&self, pa: u64, len: u64) -> Result<*mut libc::c_void, Errno> {
        if !pa.is_multiple_of(PAGE_SIZE)
            || !len.is_multiple_of(PAGE_SIZE)
            || pa.checked_add(len).is_none_or(|e| e > self.size)
        {
            return Err(Errno::EINVAL);
        }
        // `wrapping_add` keeps this a plain address computation; the range was
        // checked against the mapping above.
        Ok(self.base.wrapping_add(pa as usize).cast())
    }

    /// Backs frames `pa..pa+len` with `fd`'s pages from `offset`. Private
    /// mappings are copy-on-write, so the guest shares the host page cache until
    /// it writes; shared ones write through to the file.
    pub fn map_file(&self, pa: u64, len: u64, fd: BorrowedFd<'_>, offset: u64, shared: bool) -> Result<(), Errno> {
        let addr = self.host_range(pa, len)?;
        // SAFETY: `addr..addr+len` lies inside our own guest-memory mapping
        // (checked by host_range); MAP_FIXED replaces only those pages, and no Rust
        // reference into guest memory exists (all access is via vm-memory copies).
        let r = unsafe {
            libc::mmap(
                addr,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE } | libc::MAP_FIXED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if r == libc::MAP_FAILED {
            let e = Errno::last_host();
            // The old anonymous pages may be gone; put fresh ones back.
            let _ = self.remap_anonymous(pa, len);
            return Err(e);
        }
        self.file_backed.lock().map_err(|_| Errno::EIO)?.insert(pa, pa + len);
        Ok(())
    }

    fn remap_anonymous(&self, pa: u64, len: u64) -> Result<(), Errno> {
        let addr = self.host_range(pa, len)?;
        // SAFETY: as in map_file; this puts zero-fill anonymous memory back under
        // a range of our own mapping.
        let r = unsafe {
            libc::mmap(
                addr,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if r == libc::MAP_FAILED { Err(Errno::last_host()) } else { Ok(()) }
    }

    /// Gives frames back to the host. They read as zero afterwards, and the
    /// hypervisor drops every cached translation to them.
    pub fn discard(&self, pa: u64, len: u64) -> Result<(), Errno> {
        let end = pa + len;
        // Split any file-backed ranges that overlap [pa, end).
        let overlapping = {
            let mut fb = self.file_backed.lock().map_err(|_| Errno::EIO)?;
            let hit: Vec<(u64, u64)> = fb.range(..end).filter(|(_, e)| **e > pa).map(|(s, e)| (*s, *e)).collect();
            for (s, e) in &hit {
                fb.remove(s);
                if *s < pa {
                    fb.insert(*s, pa);
                }
                if *e > end {
                    fb.insert(end, *e);
                }
            }
            hit
        };
        if !overlapping.is_empty() {
            return self.remap_anonymous(pa, len);
        }
        let addr = self.host_range(pa, len)?;
        // SAFETY: the range is inside our mapping; MADV_DONTNEED on private
        // anonymous memory only drops its contents.
        let r = unsafe { libc::madvise(addr, len as usize, libc::MADV_DONTNEED) };
        if r != 0 { Err(Errno::last_host()) } else { Ok(()) }
    }

    /// Makes the hypervisor forget cached translations to frames whose guest
    /// page-table entries just lost permissions. Toggling the host protection
    /// fires the MMU notifier, which zaps KVM's shadow/EPT entries for the range.
    pub fn invalidate(&self, pa: u64, len: u64) -> Result<(), Errno> {
        let addr = self.host_range(pa, len)?;
        // SAFETY: the range is inside our mapping, and no host code touches guest
        // memory between the two calls (the personality is single-threaded per
        // machine), so the brief read-only window is never observed.
        let r = unsafe { libc::mprotect(addr, len as usize, libc::PROT_READ) };
        if r != 0 {
            return Err(Errno::last_host());
        }
        // SAFETY: as above; restores the original protection.
        let r = unsafe { libc::mprotect(addr, len as usize, libc::PROT_READ | libc::PROT_WRITE) };
        if r != 0 { Err(Errno::last_host()) } else { Ok(()) }
    }

    /// Makes the hypervisor forget every cached translation (after fork turned
    /// many writable entries read-only).
    pub fn invalidate_all(&self) -> Result<(), Errno> {
        self.invalidate(0, self.size)
    }

    /// Bytes of guest memory the host actually holds (resident), from mincore.
    pub fn resident_bytes(&self) -> u64 {
        let pages = (self.size / PAGE_SIZE) as usize;
        let mut vec = vec![0u8; pages];
        // SAFETY: base..base+size is our mapping and `vec` has one byte per page.
        let r = unsafe { libc::mincore(self.base.cast(), self.size as usize, vec.as_mut_ptr()) };
        if r != 0 {
            return 0;
        }
        vec.iter().filter(|b| **b & 1 != 0).count() as u64 * PAGE_SIZE
    }
}

/// Read access to guest physical memory, shared with the platform.
#[derive(Clone)]
pub struct PhysReader {
    mem: GuestMemoryMmap<()>,
}

impl PhysReader {
    pub fn read_u64(&self, pa: u64) -> u64 {
        self.mem.read_obj::<u64>(GuestAddress(pa)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_discard_and_bounds() {
        let m = PhysMem::new(16 * PAGE_SIZE).unwrap();
        m.write(PAGE_SIZE, b"hello").unwrap();
        let mut b = [0u8; 5];
        m.read(PAGE_SIZE, &mut b).unwrap();
        assert_eq!(&b, b"hello");
        m.discard(PAGE_SIZE, PAGE_SIZE).unwrap();
        m.read(PAGE_SIZE, &mut b).unwrap();
        assert_eq!(b, [0; 5]);
        assert_eq!(m.write(16 * PAGE_SIZE - 2, b"abc"), Err(Errno::EFAULT));
        assert_eq!(m.discard(3, PAGE_SIZE), Err(Errno::EINVAL));
        assert_eq!(m.discard(15 * PAGE_SIZE, 2 * PAGE_SIZE), Err(Errno::EINVAL));
    }

    #[test]
    fn file_mapping_is_copy_on_write() {
        let path = std::env::temp_dir().join(format!("wisp-phys-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let m = PhysMem::new(8 * PAGE_SIZE).unwrap();
        use std::os::fd::AsFd;
        m.map_file(2 * PAGE_SIZE, 2 * PAGE_SIZE, f.as_fd(), 0, false).unwrap();
        let mut b = [0u8; 2];
        m.read(3 * PAGE_SIZE, &mut b).unwrap();
        assert_eq!(b, [7, 7]);
        m.write(2 * PAGE_SIZE, &[1]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap()[0], 7, "private write must not reach the file");
        m.discard(2 * PAGE_SIZE, PAGE_SIZE).unwrap();
        m.read(2 * PAGE_SIZE, &mut b).unwrap();
        assert_eq!(b, [0, 0]);
        m.read(3 * PAGE_SIZE, &mut b).unwrap();
        assert_eq!(b, [7, 7], "the rest of the file range stays mapped");
        std::fs::remove_file(&path).unwrap();
    }
}
