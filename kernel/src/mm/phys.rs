//! Guest physical memory: one memfd, mapped shared into the host, sparse, so
//! untouched frames cost nothing.
//!
//! All reads and writes go through vm-memory's checked `Bytes` accessors. The
//! few operations that change the *host* mapping underneath the guest (mapping a
//! file's page-cache pages into a frame range, giving frames back, forcing KVM to
//! drop cached translations) are the only unsafe code in the personality and live
//! here.
//!
//! Why a memfd: KVM forgets its cached translations of a frame when the host
//! mapping of that frame changes (the MMU notifier). Re-mapping a memfd page over
//! itself changes the mapping without changing the data and without a moment in
//! which the page is inaccessible, so other vCPUs and host threads using the
//! frame concurrently are never disturbed. Punching a hole frees a frame.
//!
//! Invariants:
//! - `base..base+size` is the host mapping owned by `mem`; nothing else unmaps it.
//! - Every host remap below stays inside that range (checked by `host_range`).
//! - A frame range mapped from a host file is only ever read by the guest (or
//!   shared with the file): re-mapping it loses nothing but syscall-site patches.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use crate::errno::Errno;

pub const PAGE_SIZE: u64 = 4096;

/// A frame range backed by a host file rather than the memfd.
#[derive(Clone)]
struct FileRange {
    end: u64,
    fd: Arc<OwnedFd>,
    offset: u64,
    shared: bool,
}

/// The guest's physical memory.
pub struct PhysMem {
    mem: GuestMemoryMmap<()>,
    base: *mut u8,
    size: u64,
    memfd: OwnedFd,
    /// Frame ranges currently backed by a host file mapping, by start.
    file_backed: Mutex<BTreeMap<u64, FileRange>>,
}

// SAFETY: `base` is only an address used to build host remap calls; all data
// access goes through `mem`, which is Send + Sync.
unsafe impl Send for PhysMem {}
// SAFETY: as above; the only interior state (`file_backed`) is behind a Mutex.
unsafe impl Sync for PhysMem {}

fn last_err() -> std::io::Error {
    std::io::Error::last_os_error()
}

impl PhysMem {
    /// Reserves `size` bytes (rounded up to a page) of guest physical memory.
    pub fn new(size: u64) -> std::io::Result<PhysMem> {
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), size as usize)])
            .map_err(|e| std::io::Error::other(format!("guest memory: {e}")))?;
        let base =
            mem.get_host_address(GuestAddress(0)).map_err(|e| std::io::Error::other(format!("guest memory: {e}")))?;
        // SAFETY: a NUL-terminated name and valid flags.
        let fd = unsafe { libc::memfd_create(c"wisp-guest-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(last_err());
        }
        // SAFETY: memfd_create just returned this descriptor to us.
        let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain syscall on our own descriptor.
        if unsafe { libc::ftruncate(memfd.as_raw_fd(), size as libc::off_t) } != 0 {
            return Err(last_err());
        }
        // SAFETY: `base..base+size` is the anonymous mapping vm-memory just made
        // and owns; we replace it in place with the memfd, and vm-memory unmaps
        // the same range when dropped.
        let r = unsafe {
            libc::mmap(
                base.cast(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                memfd.as_raw_fd(),
                0,
            )
        };
        if r == libc::MAP_FAILED {
            return Err(last_err());
        }
        Ok(PhysMem { mem, base, size, memfd, file_backed: Mutex::new(BTreeMap::new()) })
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

    /// Reads host file `fd` straight into guest frames: `runs` are (physical
    /// address, length) pieces filled in order, at file offset `off` (None:
    /// the file position); returns the bytes read. One preadv2 call, or with
    /// `uring` one io_uring readv (after a non-blocking try that serves what
    /// the page cache holds, as io_uring itself would inline).
    /// The caller holds the address space that maps these frames, so they
    /// cannot be freed or reused while the host kernel fills them.
    pub fn read_fd_into(
        &self,
        fd: BorrowedFd<'_>,
        runs: &[(u64, usize)],
        off: Option<u64>,
        uring: bool,
    ) -> Result<usize, Errno> {
        if runs.is_empty() || runs.len() > 1024 {
            return Err(Errno::EINVAL);
        }
        let mut iov = Vec::with_capacity(runs.len());
        for &(pa, len) in runs {
            if pa.checked_add(len as u64).is_none_or(|e| e > self.size) {
                return Err(Errno::EFAULT);
            }
            // A plain address computation inside our own mapping (checked above).
            iov.push(libc::iovec { iov_base: self.base.wrapping_add(pa as usize).cast(), iov_len: len });
        }
        if uring {
            // SAFETY: as below; the iovecs stay valid until the request completes.
            return unsafe { crate::uring::readv(fd, &iov, off) };
        }
        let off = off.map_or(-1, |o| o.min(i64::MAX as u64) as libc::off_t);
        // SAFETY: every iovec lies inside the guest-memory mapping, which lives as
        // long as `self`; no Rust reference into it exists (other access goes
        // through vm-memory's volatile copies), so the kernel writing there
        // aliases nothing Rust relies on.
        let r = unsafe { libc::preadv2(fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32, off, 0) };
        if r < 0 { Err(Errno::last_host()) } else { Ok(r as usize) }
    }

    /// Atomically replaces the aligned u32 at `pa` with `new` if it holds
    /// `old`; returns what it held. Guest threads may race with it.
    pub fn cmpxchg_u32(&self, pa: u64, old: u32, new: u32) -> Result<u32, Errno> {
        use vm_memory::VolatileMemory;
        let slice = self.mem.get_slice(GuestAddress(pa), 4).map_err(|_| Errno::EFAULT)?;
        let word = slice.get_atomic_ref::<std::sync::atomic::AtomicU32>(0).map_err(|_| Errno::EINVAL)?;
        let seen =
            word.compare_exchange(old, new, std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst);
        Ok(seen.unwrap_or_else(|v| v))
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

    fn files(&self) -> MutexGuard<'_, BTreeMap<u64, FileRange>> {
        self.file_backed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Maps `len` bytes of `fd` from `offset` over frames `pa..`, shared or private.
    fn mmap_at(&self, pa: u64, len: u64, fd: i32, offset: u64, shared: bool) -> Result<(), Errno> {
        let addr = self.host_range(pa, len)?;
        let kind = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        // SAFETY: `addr..addr+len` lies inside our own guest-memory mapping
        // (checked by host_range); MAP_FIXED replaces only those pages, and no Rust
        // reference into guest memory exists (all access is via vm-memory copies).
        let r = unsafe {
            libc::mmap(
                addr,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                kind | libc::MAP_FIXED,
                fd,
                offset as libc::off_t,
            )
        };
        if r == libc::MAP_FAILED { Err(Errno::last_host()) } else { Ok(()) }
    }

    /// Backs frames `pa..pa+len` with `fd`'s pages from `offset`. Private
    /// mappings share the host page cache and must only be read by the guest;
    /// shared ones write through to the file.
    pub fn map_file(&self, pa: u64, len: u64, fd: &Arc<OwnedFd>, offset: u64, shared: bool) -> Result<(), Errno> {
        if let Err(e) = self.mmap_at(pa, len, fd.as_raw_fd(), offset, shared) {
            let _ = self.mmap_at(pa, len, self.memfd.as_raw_fd(), pa, true);
            return Err(e);
        }
        self.files().insert(pa, FileRange { end: pa + len, fd: fd.clone(), offset, shared });
        Ok(())
    }

    /// True when frame `pa` is a host file's page rather than guest memory.
    pub fn is_file_backed(&self, pa: u64) -> bool {
        self.files().range(..=pa).next_back().is_some_and(|(_, r)| pa < r.end)
    }

    /// Splits the file ranges at `pa` and `end`, returning the pieces inside.
    fn file_pieces(&self, pa: u64, end: u64, remove: bool) -> Vec<(u64, FileRange)> {
        let mut files = self.files();
        let hit: Vec<(u64, FileRange)> =
            files.range(..end).filter(|(_, r)| r.end > pa).map(|(s, r)| (*s, r.clone())).collect();
        let mut inside = Vec::new();
        for (s, r) in hit {
            files.remove(&s);
            if s < pa {
                files.insert(s, FileRange { end: pa, ..r.clone() });
            }
            if r.end > end {
                files.insert(end, FileRange { offset: r.offset + (end - s), ..r.clone() });
            }
            let (is, ie) = (s.max(pa), r.end.min(end));
            let piece = FileRange { end: ie, offset: r.offset + (is - s), ..r };
            if !remove {
                files.insert(is, piece.clone());
            }
            inside.push((is, piece));
        }
        inside
    }

    /// Gives frames back to the host: they read as zero afterwards, and the
    /// hypervisor drops every cached translation to them. Only for frames no
    /// address space maps any more.
    pub fn discard(&self, pa: u64, len: u64) -> Result<(), Errno> {
        self.host_range(pa, len)?;
        for (s, r) in self.file_pieces(pa, pa + len, true) {
            self.mmap_at(s, r.end - s, self.memfd.as_raw_fd(), s, true)?;
        }
        // SAFETY: plain syscall on our own memfd, inside its size.
        let r = unsafe {
            libc::fallocate(
                self.memfd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                pa as libc::off_t,
                len as libc::off_t,
            )
        };
        if r != 0 { Err(Errno::last_host()) } else { Ok(()) }
    }

    /// Makes the hypervisor forget cached translations to `pa..pa+len` (after
    /// page-table entries to them lost permissions or went away) by mapping the
    /// same pages there again. Concurrent users of the frames see no change.
    pub fn invalidate(&self, pa: u64, len: u64) -> Result<(), Errno> {
        self.host_range(pa, len)?;
        let end = pa + len;
        let mut cursor = pa;
        for (s, r) in self.file_pieces(pa, end, false) {
            if s > cursor {
                self.mmap_at(cursor, s - cursor, self.memfd.as_raw_fd(), cursor, true)?;
            }
            self.mmap_at(s, r.end - s, r.fd.as_raw_fd(), r.offset, r.shared)?;
            cursor = r.end;
        }
        if cursor < end {
            self.mmap_at(cursor, end - cursor, self.memfd.as_raw_fd(), cursor, true)?;
        }
        Ok(())
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
        m.invalidate(0, 4 * PAGE_SIZE).unwrap();
        m.read(PAGE_SIZE, &mut b).unwrap();
        assert_eq!(&b, b"hello", "invalidation keeps the data");
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
        let f: Arc<OwnedFd> = Arc::new(std::fs::File::open(&path).unwrap().into());
        let m = PhysMem::new(8 * PAGE_SIZE).unwrap();
        m.map_file(2 * PAGE_SIZE, 2 * PAGE_SIZE, &f, 0, false).unwrap();
        assert!(m.is_file_backed(3 * PAGE_SIZE) && !m.is_file_backed(4 * PAGE_SIZE));
        m.invalidate_all().unwrap();
        let mut c = [0u8; 1];
        m.read(2 * PAGE_SIZE + 5, &mut c).unwrap();
        assert_eq!(c, [7], "invalidation keeps file pages");
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
