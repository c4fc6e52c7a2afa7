//! The memory manager: VMAs over page tables over frames over host memory.
//!
//! Mappings are populated eagerly: mmap, brk and mprotect allocate frames and
//! write leaf entries at once, because a guest page fault costs a VM exit while
//! an untouched host frame costs nothing (guest memory is MAP_NORESERVE). A page
//! fault therefore means a real access violation, a file page past EOF, or a
//! stale cached translation, and [`AddressSpace::handle_fault`] tells which.
//!
//! The memory limit is hard: every user frame is charged against it when it is
//! mapped, so the guest gets ENOMEM long before the host could run short.

mod cow;
pub mod frames;
pub mod pagetable;
pub mod phys;
pub mod vma;

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex, MutexGuard};

use frames::{FrameUse, Frames};
use pagetable::{
    PTE_ADDR, PTE_COW, PTE_FOREIGN, PTE_HELD, PTE_NX, PTE_P, PTE_U, PTE_W, PageTable, USER_END, pte_flags,
};
use phys::{PAGE_SIZE, PhysMem};
pub use vma::{Backing, FileBacking, Vma, VmaSet};

use crate::errno::Errno;

/// Lowest address a guest may map (Linux's default vm.mmap_min_addr).
pub const MMAP_MIN_ADDR: u64 = 0x10000;
/// Top of the initial stack.
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// Size reserved for the main thread's stack (RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;
/// mmap searches downwards from here, leaving a gap below the stack.
pub const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (1 << 30);

pub fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

pub fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(page_down)
}

/// Where a new mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; the address is a hint.
    Hint(u64),
    /// Exactly here, replacing what is there (MAP_FIXED).
    Fixed(u64),
    /// Exactly here, or EEXIST (MAP_FIXED_NOREPLACE).
    NoReplace(u64),
}

impl Placement {
    pub fn from_flags(addr: u64, fixed: bool, noreplace: bool) -> Placement {
        match (fixed, noreplace) {
            (true, _) => Placement::Fixed(addr),
            (false, true) => Placement::NoReplace(addr),
            _ => Placement::Hint(addr),
        }
    }
}

/// What to do about a user page fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    /// The mapping is fine now; run the instruction again.
    Retry,
    /// Deliver SIGSEGV with this si_code.
    Segv(i32),
    /// Deliver SIGBUS (BUS_ADRERR): a file page past end of file.
    Bus,
}

pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;

/// A handle on a machine's frames, shared by all its address spaces.
#[derive(Clone)]
pub struct FramePool {
    phys: Arc<PhysMem>,
    frames: Arc<Mutex<Frames>>,
}

impl FramePool {
    /// Frees the page-table frames of ended address spaces once `threshold`
    /// of them have gathered: `flush` must make the hypervisor drop every
    /// cached translation first (true on success). The frames' contents are
    /// discarded, so they come back zeroed. Returns how many were freed.
    pub fn reclaim_tables(&self, threshold: usize, flush: impl FnOnce() -> bool) -> usize {
        let taken = {
            let mut f = self.frames.lock().unwrap_or_else(|p| p.into_inner());
            if f.retired() < threshold.max(1) {
                return 0;
            }
            f.take_retired()
        };
        if !flush() {
            self.frames.lock().unwrap_or_else(|p| p.into_inner()).unretire(taken);
            return 0;
        }
        let mut freed = Vec::with_capacity(taken.len());
        for pa in taken {
            // A frame that cannot be zeroed is not handed out again.
            if self.phys.discard(pa, PAGE_SIZE).is_ok() {
                freed.push(pa);
            }
        }
        let n = freed.len();
        self.frames.lock().unwrap_or_else(|p| p.into_inner()).free_retired(freed);
        n
    }

    /// Page-table frames waiting for a flush.
    pub fn retired_tables(&self) -> usize {
        self.frames.lock().unwrap_or_else(|p| p.into_inner()).retired()
    }
}

/// One address space: page tables and VMAs over the machine's frames. Shared
/// by the threads of a process through [`MemoryManager`].
pub struct AddressSpace {
    /// Guest physical memory, shared by every address space of the machine.
    pub phys: Arc<PhysMem>,
    /// The machine's frame pool (and its memory limit), shared likewise.
    pool: Arc<Mutex<Frames>>,
    /// Platform pages mapped into every address space: (address, user, write, exec).
    system_pages: Vec<(u64, bool, bool, bool)>,
    pt: PageTable,
    vmas: VmaSet,
    brk_start: u64,
    brk: u64,
    /// Last address reported by a spurious fault, to stop retry loops.
    last_spurious: Option<(u64, u32)>,
    /// Lowest populated address of the main stack (below it pages fault in).
    stack_low: Option<u64>,
}

impl AddressSpace {
    /// `phys` frames from `first_frame` up are ours; `limit` bytes of them may back user memory.
    pub fn new(phys: PhysMem, first_frame: u64, limit: u64) -> Result<AddressSpace, Errno> {
        let mut frames = Frames::new(first_frame, phys.size(), limit / PAGE_SIZE);
        let pt = PageTable::new(&phys, &mut frames)?;
        Ok(AddressSpace {
            phys: Arc::new(phys),
            pool: Arc::new(Mutex::new(frames)),
            system_pages: Vec::new(),
            pt,
            vmas: VmaSet::default(),
            brk_start: 0,
            brk: 0,
            last_spurious: None,
            stack_low: None,
        })
    }

    /// The frame pool. A poisoned lock means a panic elsewhere already took the
    /// machine down; carrying on with the data is the least bad choice.
    fn frames(&self) -> MutexGuard<'_, Frames> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn root(&self) -> u64 {
        self.pt.root()
    }

    /// Identity-maps a platform page (GDT, stubs...) below MMAP_MIN_ADDR.
    pub fn map_system_page(&mut self, pa: u64, user: bool, write: bool, exec: bool) -> Result<(), Errno> {
        if pa >= MMAP_MIN_ADDR {
            return Err(Errno::EINVAL);
        }
        self.pt.map_system(&self.phys, &mut self.frames(), pa, user, write, exec)?;
        self.system_pages.push((pa, user, write, exec));
        Ok(())
    }

    pub fn vmas(&self) -> &VmaSet {
        &self.vmas
    }

    pub fn user_bytes(&self) -> u64 {
        self.frames().user_bytes()
    }

    pub fn limit_bytes(&self) -> u64 {
        self.frames().user_limit_bytes()
    }

    pub fn table_bytes(&self) -> u64 {
        self.frames().table_bytes()
    }

    // ---- populating and tearing down pages ----

    fn populate_anon(&mut self, start: u64, end: u64, prot: u32) -> Result<(), Errno> {
        let flags = pte_flags(prot);
        let mut va = start;
        while va < end {
            let allocated = self.frames().alloc(FrameUse::User);
            let pa = match allocated {
                Ok(pa) => pa,
                Err(e) => {
                    self.release(start, va);
                    return Err(e);
                }
            };
            let set = self.pt.set(&self.phys, &mut self.frames(), va, pa | flags);
            if let Err(e) = set {
                self.frames().free(pa, FrameUse::User);
                self.release(start, va);
                return Err(e);
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// Maps file pages `start..end` (those inside the file) straight from the host
    /// page cache when a contiguous frame run is free, by copying otherwise.
    fn populate_file(&mut self, start: u64, end: u64, prot: u32, f: &FileBacking) -> Result<(), Errno> {
        let in_file = f.size.saturating_sub(f.offset);
        let file_end = end.min(start.saturating_add(page_up(in_file).unwrap_or(u64::MAX)));
        if file_end <= start {
            return Ok(());
        }
        let n = (file_end - start) / PAGE_SIZE;
        let flags = pte_flags(prot);
        // Share the host page cache only for pages the guest never writes
        // privately: re-mapping them (to invalidate) must not lose data.
        let share_cache = f.shared || (prot & libc::PROT_WRITE as u32 == 0 && !f.copy);
        let run = if share_cache { self.frames().alloc_contiguous(n)? } else { None };
        if let Some(pa) = run {
            let mapped = if f.shared || f.offset.is_multiple_of(PAGE_SIZE) {
                self.phys.map_file(pa, n * PAGE_SIZE, &f.fd, f.offset, f.shared)
            } else {
                Err(Errno::EINVAL)
            };
            if let Err(e) = mapped {
                let mut frames = self.frames();
                for i in 0..n {
                    frames.free(pa + i * PAGE_SIZE, FrameUse::User);
                }
                return Err(e);
            }
            for i in 0..n {
                let set =
                    self.pt.set(&self.phys, &mut self.frames(), start + i * PAGE_SIZE, (pa + i * PAGE_SIZE) | flags);
                if let Err(e) = set {
                    for j in i..n {
                        let _ = self.phys.discard(pa + j * PAGE_SIZE, PAGE_SIZE);
                        self.frames().free(pa + j * PAGE_SIZE, FrameUse::User);
                    }
                    self.release(start, start + i * PAGE_SIZE);
                    return Err(e);
                }
            }
            return Ok(());
        }
        if f.shared {
            return Err(Errno::ENOMEM);
        }
        self.populate_anon(start, file_end, prot)?;
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        let mut va = start;
        while va < file_end {
            let off = f.offset + (va - start);
            let n = crate::host::pread(f.fd.as_fd(), &mut buf, off).unwrap_or(0);
            buf[n..].fill(0);
            let pa = self.pt.get(&self.phys, va) & PTE_ADDR;
            self.phys.write(pa, &buf)?;
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// Frees the frames of `start..end` and clears their entries.
    fn release(&mut self, start: u64, end: u64) {
        let mut run: Option<(u64, u64)> = None;
        let mut va = start;
        while va < end {
            let e = self.pt.get(&self.phys, va);
            if e & PTE_FOREIGN != 0 {
                self.pt.update(&self.phys, va, 0);
            } else if e & (PTE_P | PTE_HELD) != 0 {
                let pa = e & PTE_ADDR;
                self.pt.update(&self.phys, va, 0);
                run = match run {
                    Some((s, l)) if s + l == pa => Some((s, l + PAGE_SIZE)),
                    Some((s, l)) => {
                        self.drop_frames(s, l);
                        Some((pa, PAGE_SIZE))
                    }
                    None => Some((pa, PAGE_SIZE)),
                };
            }
            va += PAGE_SIZE;
        }
        if let Some((s, l)) = run {
            self.drop_frames(s, l);
        }
    }

    /// Drops this address space's references to `len` bytes of frames from
    /// `pa`. Frames nobody else maps are discarded (zeroed, given back to the
    /// host, and forgotten by the hypervisor); shared ones only lose a reference,
    /// but their translation in this address space must still be forgotten.
    fn drop_frames(&mut self, pa: u64, len: u64) {
        let mut shared = false;
        let mut last = Vec::new();
        {
            let mut frames = self.frames();
            for i in 0..len / PAGE_SIZE {
                let f = pa + i * PAGE_SIZE;
                if frames.put(f) {
                    last.push(f);
                } else {
                    shared = true;
                }
            }
        }
        if shared {
            let _ = self.phys.invalidate(pa, len);
        }
        // Nobody maps these any more and they are not yet allocatable: zero them,
        // then hand them back.
        if last.len() as u64 == len / PAGE_SIZE {
            let _ = self.phys.discard(pa, len);
        } else {
            for f in &last {
                let _ = self.phys.discard(*f, PAGE_SIZE);
            }
        }
        let mut frames = self.frames();
        for f in last {
            frames.recycle(f);
        }
    }

    fn populate(&mut self, v: &Vma) -> Result<(), Errno> {
        match &v.backing {
            Backing::Anon | Backing::SharedAnon => self.populate_anon(v.start, v.end, v.prot),
            Backing::File(f) => {
                let f = f.clone();
                self.populate_file(v.start, v.end, v.prot, &f)
            }
        }
    }

    // ---- Linux operations ----

    /// Picks an address for a new mapping of `len` bytes.
    fn place(&self, hint: u64, len: u64) -> Result<u64, Errno> {
        if hint >= MMAP_MIN_ADDR
            && hint.is_multiple_of(PAGE_SIZE)
            && let Some(end) = hint.checked_add(len)
            && end <= USER_END
            && self.vmas.is_free(hint, end)
        {
            return Ok(hint);
        }
        let floor = page_up(self.brk.max(MMAP_MIN_ADDR)).ok_or(Errno::ENOMEM)?;
        self.vmas.find_gap_below(MMAP_BASE, floor, len).ok_or(Errno::ENOMEM)
    }

    /// Implements the core of `mmap(2)`; `file` is already validated.
    pub fn mmap(
        &mut self,
        at: Placement,
        len: u64,
        prot: u32,
        backing: Backing,
        name: Option<&'static str>,
    ) -> Result<u64, Errno> {
        let (addr, fixed, noreplace) = match at {
            Placement::Hint(a) => (a, false, false),
            Placement::Fixed(a) => (a, true, false),
            Placement::NoReplace(a) => (a, false, true),
        };
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len > USER_END {
            return Err(Errno::ENOMEM);
        }
        let start = if fixed || noreplace {
            if !addr.is_multiple_of(PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
            if addr < MMAP_MIN_ADDR || end > USER_END {
                return Err(if addr < MMAP_MIN_ADDR { Errno::EPERM } else { Errno::ENOMEM });
            }
            if !self.vmas.is_free(addr, end) {
                if noreplace {
                    return Err(Errno::EEXIST);
                }
                self.munmap(addr, len)?;
            }
            addr
        } else {
            self.place(page_down(addr), len)?
        };
        let vma = Vma { start, end: start + len, prot, backing, name };
        // A PROT_NONE mapping is a reservation: frames come with mprotect.
        if prot != 0 {
            self.populate(&vma)?;
        }
        self.vmas.insert(vma);
        Ok(start)
    }

    /// Reserves the main thread's stack, `top - size .. top`, populating only the
    /// top `eager` bytes: deeper pages are faulted in (and charged) on first use.
    pub fn map_stack(&mut self, top: u64, size: u64, eager: u64) -> Result<(), Errno> {
        let start = top.checked_sub(size).ok_or(Errno::ENOMEM)?;
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u32;
        if !self.vmas.is_free(start, top) {
            return Err(Errno::ENOMEM);
        }
        self.populate_anon(top - eager.min(size), top, rw)?;
        self.vmas.insert(Vma { start, end: top, prot: rw, backing: Backing::Anon, name: Some("[stack]") });
        self.stack_low = Some(top - eager.min(size));
        Ok(())
    }

    /// Populates the stack down to `addr` if it lies in the stack's reserved but
    /// unpopulated part, so that the host can write there on the guest's behalf
    /// (syscall results, signal frames) as Linux would after growing the stack.
    pub fn ensure_stack(&mut self, addr: u64) {
        let Some(low) = self.stack_low else { return };
        if addr >= low {
            return;
        }
        let Some(v) = self.vmas.find(addr).filter(|v| v.name == Some("[stack]")).cloned() else { return };
        let from = page_down(addr).max(v.start);
        let mut va = from;
        while va < low {
            if self.pt.get(&self.phys, va) & (PTE_P | PTE_HELD) == 0
                && self.populate(&v.slice(va, va + PAGE_SIZE)).is_err()
            {
                return;
            }
            va += PAGE_SIZE;
        }
        self.stack_low = Some(from);
    }

    /// Implements `munmap(2)`.
    pub fn munmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(page_up(len).ok_or(Errno::EINVAL)?).ok_or(Errno::EINVAL)?;
        if end > USER_END {
            return Err(Errno::EINVAL);
        }
        for v in self.vmas.carve(addr, end) {
            self.release(v.start, v.end);
        }
        Ok(())
    }

    /// Implements `mprotect(2)`.
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if prot & !((libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC) as u32) != 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(page_up(len).ok_or(Errno::ENOMEM)?).ok_or(Errno::ENOMEM)?;
        if end == addr {
            return Ok(());
        }
        // Linux fails with ENOMEM if any part of the range is unmapped.
        let mut cursor = addr;
        for v in self.vmas.overlapping(addr, end) {
            if v.start > cursor {
                return Err(Errno::ENOMEM);
            }
            cursor = v.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        let flags = pte_flags(prot);
        for mut v in self.vmas.carve(addr, end) {
            let mut lost = Vec::new();
            let mut va = v.start;
            while va < v.end {
                let e = self.pt.get(&self.phys, va);
                if e & (PTE_P | PTE_HELD) != 0 {
                    let pa = e & PTE_ADDR;
                    let lost_write = e & PTE_W != 0 && flags & PTE_W == 0;
                    let lost_access = e & PTE_P != 0 && flags & PTE_P == 0;
                    let lost_exec = e & PTE_NX == 0 && e & PTE_P != 0 && flags & PTE_NX != 0;
                    // A copy-on-write page stays read-only until its first write.
                    let nf = if e & PTE_COW != 0 { (flags & !PTE_W) | PTE_COW } else { flags };
                    self.pt.update(&self.phys, va, pa | nf | (e & PTE_FOREIGN));
                    // A private page that becomes writable must not be a shared
                    // page-cache page: give it its own copy first.
                    if nf & PTE_W != 0 && !v.is_shared() && self.phys.is_file_backed(pa) {
                        self.break_cow(va, pa | (nf & !PTE_W) | PTE_COW)?;
                    }
                    if lost_write || lost_access || lost_exec {
                        lost.push(pa);
                    }
                }
                va += PAGE_SIZE;
            }
            for pa in lost {
                let _ = self.phys.invalidate(pa, PAGE_SIZE);
            }
            v.prot = prot;
            // Pages that never had a frame (a PROT_NONE reservation) get one now.
            if prot != 0 {
                self.fill_holes(&v)?;
            }
            self.vmas.insert(v);
        }
        Ok(())
    }

    fn fill_holes(&mut self, v: &Vma) -> Result<(), Errno> {
        let mut va = v.start;
        while va < v.end {
            let e = self.pt.get(&self.phys, va);
            if e & (PTE_P | PTE_HELD) == 0 && !self.past_eof(v, va) {
                let piece = v.slice(va, va + PAGE_SIZE);
                self.populate(&piece)?;
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    fn past_eof(&self, v: &Vma, va: u64) -> bool {
        v.file().is_some_and(|f| f.offset + (va - v.start) >= f.size)
    }

    /// Implements `mremap(2)`. Moving an area moves its frames; nothing is copied.
    pub fn mremap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed_at: Option<u64>,
    ) -> Result<u64, Errno> {
        if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
            return Err(Errno::EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_up(new_len).ok_or(Errno::EINVAL)?;
        let v = self.vmas.find(old).cloned().ok_or(Errno::EFAULT)?;
        let old_end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        if old_len == 0 || old_end > v.end {
            return Err(Errno::EFAULT);
        }
        if fixed_at.is_none() && new_len <= old_len {
            if new_len < old_len {
                self.munmap(old + new_len, old_len - new_len)?;
            }
            return Ok(old);
        }
        // Grow in place when the following space is free.
        if fixed_at.is_none() && old_end == v.end {
            let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
            if grow_end <= MMAP_BASE.max(old_end) && grow_end <= USER_END && self.vmas.is_free(old_end, grow_end) {
                let piece = Vma { start: old_end, end: grow_end, ..v.slice(v.start, v.end) };
                let piece = match &v.backing {
                    Backing::File(f) => {
                        let mut f = f.clone();
                        f.offset += old_end - v.start;
                        Vma { backing: Backing::File(f), ..piece }
                    }
                    Backing::Anon | Backing::SharedAnon => piece,
                };
                self.populate(&piece)?;
                self.vmas.carve(v.start, v.end);
                self.vmas.insert(Vma { end: grow_end, ..v });
                return Ok(old);
            }
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let target = match fixed_at {
            Some(t) => {
                if t % PAGE_SIZE != 0 || t < MMAP_MIN_ADDR || t.checked_add(new_len).is_none_or(|e| e > USER_END) {
                    return Err(Errno::EINVAL);
                }
                if t < old_end && old < t + new_len {
                    return Err(Errno::EINVAL);
                }
                self.munmap(t, new_len)?;
                t
            }
            None => self.place(0, new_len)?,
        };
        let keep = old_len.min(new_len);
        let moved = v.slice(old, old + keep);
        // Move the leaf entries, then drop stale translations of the moved frames.
        let mut moved_frames = Vec::new();
        for i in 0..keep / PAGE_SIZE {
            let e = self.pt.get(&self.phys, old + i * PAGE_SIZE);
            if e & (PTE_P | PTE_HELD) != 0 {
                self.pt.update(&self.phys, old + i * PAGE_SIZE, 0);
                self.pt.set(&self.phys, &mut self.frames(), target + i * PAGE_SIZE, e)?;
                moved_frames.push(e & PTE_ADDR);
            }
        }
        for pa in moved_frames {
            let _ = self.phys.invalidate(pa, PAGE_SIZE);
        }
        self.vmas.carve(old, old + keep);
        if old_len > keep {
            self.munmap(old + keep, old_len - keep)?;
        }
        let mut nv = Vma { start: target, end: target + keep, ..moved };
        if new_len > keep {
            let tail = Vma { start: target + keep, end: target + new_len, ..nv.clone() };
            let tail = match &v.backing {
                Backing::File(f) => {
                    let mut f = f.clone();
                    f.offset += (old - v.start) + keep;
                    Vma { backing: Backing::File(f), ..tail }
                }
                Backing::Anon | Backing::SharedAnon => tail,
            };
            if let Err(e) = self.populate(&tail) {
                self.vmas.insert(nv);
                return Err(e);
            }
            nv.end = target + new_len;
        }
        self.vmas.insert(nv);
        Ok(target)
    }

    /// Sets where the heap starts (after the main program's bss).
    pub fn set_brk_start(&mut self, at: u64) {
        self.brk_start = at;
        self.brk = at;
    }

    /// Implements `brk(2)`: returns the new break, or the old one on failure.
    pub fn brk(&mut self, want: u64) -> u64 {
        if want < self.brk_start || want > MMAP_BASE {
            return self.brk;
        }
        let (old_top, new_top) = match (page_up(self.brk), page_up(want)) {
            (Some(a), Some(b)) => (a, b),
            _ => return self.brk,
        };
        if new_top > old_top {
            if !self.vmas.is_free(old_top, new_top) {
                return self.brk;
            }
            if self.populate_anon(old_top, new_top, (libc::PROT_READ | libc::PROT_WRITE) as u32).is_err() {
                return self.brk;
            }
            self.extend_heap(old_top, new_top);
        } else if new_top < old_top {
            for v in self.vmas.carve(new_top, old_top) {
                self.release(v.start, v.end);
            }
        }
        self.brk = want;
        self.brk
    }

    fn extend_heap(&mut self, old_top: u64, new_top: u64) {
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u32;
        let heap_start = match self.vmas.find(old_top.wrapping_sub(1)) {
            Some(v) if v.name == Some("[heap]") && v.end == old_top => v.start,
            _ => old_top,
        };
        self.vmas.carve(heap_start, old_top);
        self.vmas.insert(Vma {
            start: heap_start,
            end: new_top,
            prot: rw,
            backing: Backing::Anon,
            name: Some("[heap]"),
        });
    }

    // ---- guest memory access on the guest's behalf ----

    /// Copies guest memory at `va` into `buf`; EFAULT unless every byte is
    /// readable user memory.
    pub fn copy_in(&self, va: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.walk(va, buf.len(), false, |pa, range| self.phys.read(pa, &mut buf[range]))
    }

    /// Copies `buf` to guest memory at `va`; EFAULT unless all of it is writable.
    /// Copy-on-write pages in the range get their private copy first.
    pub fn copy_out(&mut self, va: u64, buf: &[u8]) -> Result<(), Errno> {
        self.prepare_write(va, buf.len());
        self.walk(va, buf.len(), true, |pa, range| self.phys.write(pa, &buf[range]))
    }

    /// Writes guest memory regardless of page protection (loader, code patching).
    pub fn poke(&self, va: u64, buf: &[u8]) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < buf.len() {
            let a = va + done as u64;
            let e = self.pt.get(&self.phys, a);
            if e & (PTE_P | PTE_HELD) == 0 {
                return Err(Errno::EFAULT);
            }
            let n = ((PAGE_SIZE - (a % PAGE_SIZE)) as usize).min(buf.len() - done);
            self.phys.write((e & PTE_ADDR) | (a % PAGE_SIZE), &buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }

    fn walk(
        &self,
        va: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(u64, std::ops::Range<usize>) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        if va.checked_add(len as u64).is_none_or(|e| e > USER_END) {
            return Err(Errno::EFAULT);
        }
        let mut done = 0usize;
        while done < len {
            let a = va + done as u64;
            let pa = self.pt.translate(&self.phys, a, write).ok_or(Errno::EFAULT)?;
            let n = ((PAGE_SIZE - (a % PAGE_SIZE)) as usize).min(len - done);
            f(pa, done..done + n)?;
            done += n;
        }
        Ok(())
    }

    /// True when all of `va..va+len` is user memory the guest could read (or
    /// write: copy-on-write pages get their private copy first).
    pub fn accessible(&mut self, va: u64, len: usize, write: bool) -> bool {
        if write {
            self.prepare_write(va, len);
        }
        self.walk(va, len, write, |_, _| Ok(())).is_ok()
    }

    /// How many bytes from `va` (up to `len`) the guest can read (or write)
    /// before the first hole, for partial transfers. Copy-on-write pages in the
    /// range get their private copy first when `write`.
    pub fn accessible_prefix(&mut self, va: u64, len: usize, write: bool) -> usize {
        if write {
            self.prepare_write(va, len);
        }
        let mut done = 0usize;
        while done < len {
            let a = va.wrapping_add(done as u64);
            if a >= USER_END || self.pt.translate(&self.phys, a, write).is_none() {
                break;
            }
            done += ((PAGE_SIZE - (a % PAGE_SIZE)) as usize).min(len - done);
        }
        done
    }

    /// Reads host file `fd` straight into guest memory at `va..va+len` (all of
    /// it must be writable user memory; copy-on-write pages are copied first).
    /// Returns the bytes read. Holding this address space keeps the frames in
    /// place while the host kernel fills them.
    pub fn read_file_into(
        &mut self,
        va: u64,
        len: usize,
        fd: BorrowedFd<'_>,
        off: Option<u64>,
        uring: bool,
    ) -> Result<usize, Errno> {
        self.prepare_write(va, len);
        let mut runs: Vec<(u64, usize)> = Vec::new();
        self.walk(va, len, true, |pa, range| {
            match runs.last_mut() {
                Some((last, n)) if *last + *n as u64 == pa => *n += range.len(),
                _ => runs.push((pa, range.len())),
            }
            Ok(())
        })?;
        self.phys.read_fd_into(fd, &runs, off, uring)
    }

    /// Atomic compare-and-exchange of the aligned u32 at `va` (robust futexes).
    pub fn cmpxchg_u32(&mut self, va: u64, old: u32, new: u32) -> Result<u32, Errno> {
        if !va.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        if va.checked_add(4).is_none_or(|e| e > USER_END) {
            return Err(Errno::EFAULT);
        }
        self.prepare_write(va, 4);
        let pa = self.pt.translate(&self.phys, va, true).ok_or(Errno::EFAULT)?;
        self.phys.cmpxchg_u32(pa, old, new)
    }

    pub fn read_u64(&self, va: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        self.copy_in(va, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    pub fn write_u64(&mut self, va: u64, v: u64) -> Result<(), Errno> {
        self.copy_out(va, &v.to_le_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&self, va: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut a = va;
        loop {
            let n = (PAGE_SIZE - (a % PAGE_SIZE)) as usize;
            let mut chunk = vec![0u8; n];
            self.copy_in(a, &mut chunk)?;
            if let Some(z) = chunk.iter().position(|b| *b == 0) {
                out.extend_from_slice(&chunk[..z]);
                if out.len() > max {
                    return Err(Errno::ENAMETOOLONG);
                }
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            a += n as u64;
        }
    }

    /// Decides what a user page fault at `addr` means. `err` is the x86 error code.
    pub fn handle_fault(&mut self, addr: u64, err: u64) -> FaultOutcome {
        let write = err & 2 != 0;
        let exec = err & 16 != 0;
        let Some(v) = self.vmas.find(addr).cloned() else {
            return FaultOutcome::Segv(SEGV_MAPERR);
        };
        let allowed = match (write, exec) {
            (true, _) => v.prot & libc::PROT_WRITE as u32 != 0,
            (_, true) => v.prot & libc::PROT_EXEC as u32 != 0,
            _ => v.prot != 0,
        };
        if !allowed {
            return FaultOutcome::Segv(SEGV_ACCERR);
        }
        let page = page_down(addr);
        let e = self.pt.get(&self.phys, page);
        if e & (PTE_P | PTE_HELD) == 0 {
            if self.past_eof(&v, page) {
                return FaultOutcome::Bus;
            }
            // Demand-populated pages (the deep stack): past the memory limit
            // the access fails like a stack overflow on Linux.
            return match self.populate(&v.slice(page, page + PAGE_SIZE)) {
                Ok(()) => FaultOutcome::Retry,
                Err(_) => FaultOutcome::Segv(SEGV_MAPERR),
            };
        }
        if write && e & PTE_COW != 0 {
            return match self.break_cow(page, e) {
                Ok(()) => FaultOutcome::Retry,
                Err(_) => FaultOutcome::Segv(SEGV_MAPERR),
            };
        }
        // The entry allows the access: the CPU used a stale translation. Drop it
        // once; a second fault at the same spot is real.
        let key = (page, err as u32);
        if self.last_spurious == Some(key) {
            self.last_spurious = None;
            return FaultOutcome::Segv(SEGV_ACCERR);
        }
        self.last_spurious = Some(key);
        let _ = self.phys.invalidate(e & PTE_ADDR, PAGE_SIZE);
        FaultOutcome::Retry
    }

    /// Points `n` pages at `va` (already mapped by this process) at the platform's
    /// read-only frames from `pa`, returning this process's own frames.
    pub fn share_data_pages(&mut self, va: u64, pa: u64, n: u64) -> Result<(), Errno> {
        for i in 0..n {
            let page = va + i * PAGE_SIZE;
            self.release(page, page + PAGE_SIZE);
            self.pt.set(
                &self.phys,
                &mut self.frames(),
                page,
                (pa + i * PAGE_SIZE) | PTE_P | PTE_U | PTE_NX | PTE_FOREIGN,
            )?;
        }
        Ok(())
    }

    /// Forgets the spurious-fault memory after the guest made progress.
    pub fn progress(&mut self) {
        self.last_spurious = None;
    }

    /// The text of /proc/self/maps.
    pub fn maps(&self) -> String {
        self.vmas.iter().map(Vma::maps_line).collect()
    }

    /// Guest-visible resident set: mapped user frames.
    pub fn rss_bytes(&self) -> u64 {
        self.frames().user_bytes()
    }
}

/// A process's handle on its address space; the threads of a process hold
/// clones of the same handle. Every call takes the address-space lock for its
/// own duration only.
#[derive(Clone)]
pub struct MemoryManager {
    pub phys: Arc<PhysMem>,
    inner: Arc<Mutex<AddressSpace>>,
}

impl MemoryManager {
    pub fn new(phys: PhysMem, first_frame: u64, limit: u64) -> Result<MemoryManager, Errno> {
        Ok(MemoryManager::wrap(AddressSpace::new(phys, first_frame, limit)?))
    }

    fn wrap(a: AddressSpace) -> MemoryManager {
        MemoryManager { phys: a.phys.clone(), inner: Arc::new(Mutex::new(a)) }
    }

    fn lock(&self) -> MutexGuard<'_, AddressSpace> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when both handles name the same address space (threads of one process).
    pub fn same(&self, other: &MemoryManager) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub fn root(&self) -> u64 {
        self.lock().root()
    }
    pub fn map_system_page(&self, pa: u64, user: bool, write: bool, exec: bool) -> Result<(), Errno> {
        self.lock().map_system_page(pa, user, write, exec)
    }
    /// A copy of the VMA set.
    pub fn vmas(&self) -> VmaSet {
        self.lock().vmas().clone()
    }
    pub fn user_bytes(&self) -> u64 {
        self.lock().user_bytes()
    }
    pub fn limit_bytes(&self) -> u64 {
        self.lock().limit_bytes()
    }
    pub fn table_bytes(&self) -> u64 {
        self.lock().table_bytes()
    }
    pub fn mmap(
        &self,
        at: Placement,
        len: u64,
        prot: u32,
        backing: Backing,
        name: Option<&'static str>,
    ) -> Result<u64, Errno> {
        self.lock().mmap(at, len, prot, backing, name)
    }
    pub fn map_stack(&self, top: u64, size: u64, eager: u64) -> Result<(), Errno> {
        self.lock().map_stack(top, size, eager)
    }
    pub fn ensure_stack(&self, addr: u64) {
        self.lock().ensure_stack(addr)
    }
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.lock().munmap(addr, len)
    }
    pub fn mprotect(&self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        self.lock().mprotect(addr, len, prot)
    }
    pub fn mremap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed_at: Option<u64>,
    ) -> Result<u64, Errno> {
        self.lock().mremap(old, old_len, new_len, may_move, fixed_at)
    }
    pub fn set_brk_start(&self, at: u64) {
        self.lock().set_brk_start(at)
    }
    pub fn brk(&self, want: u64) -> u64 {
        self.lock().brk(want)
    }
    pub fn copy_in(&self, va: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.lock().copy_in(va, buf)
    }
    pub fn copy_out(&self, va: u64, buf: &[u8]) -> Result<(), Errno> {
        self.lock().copy_out(va, buf)
    }
    pub fn poke(&self, va: u64, buf: &[u8]) -> Result<(), Errno> {
        self.lock().poke(va, buf)
    }
    pub fn cmpxchg_u32(&self, va: u64, old: u32, new: u32) -> Result<u32, Errno> {
        self.lock().cmpxchg_u32(va, old, new)
    }
    pub fn read_file_into(
        &self,
        va: u64,
        len: usize,
        fd: BorrowedFd<'_>,
        off: Option<u64>,
        uring: bool,
    ) -> Result<usize, Errno> {
        self.lock().read_file_into(va, len, fd, off, uring)
    }
    pub fn accessible(&self, va: u64, len: usize, write: bool) -> bool {
        self.lock().accessible(va, len, write)
    }
    pub fn accessible_prefix(&self, va: u64, len: usize, write: bool) -> usize {
        self.lock().accessible_prefix(va, len, write)
    }
    pub fn read_u64(&self, va: u64) -> Result<u64, Errno> {
        self.lock().read_u64(va)
    }
    pub fn write_u64(&self, va: u64, v: u64) -> Result<(), Errno> {
        self.lock().write_u64(va, v)
    }
    pub fn read_cstr(&self, va: u64, max: usize) -> Result<Vec<u8>, Errno> {
        self.lock().read_cstr(va, max)
    }
    pub fn handle_fault(&self, addr: u64, err: u64) -> FaultOutcome {
        self.lock().handle_fault(addr, err)
    }
    pub fn share_data_pages(&self, va: u64, pa: u64, n: u64) -> Result<(), Errno> {
        self.lock().share_data_pages(va, pa, n)
    }
    pub fn progress(&self) {
        self.lock().progress()
    }
    pub fn maps(&self) -> String {
        self.lock().maps()
    }
    pub fn rss_bytes(&self) -> u64 {
        self.lock().rss_bytes()
    }
    /// Physical address behind a user address.
    pub fn translate(&self, va: u64) -> Option<u64> {
        let a = self.lock();
        a.pt.translate(&a.phys, va, false)
    }

    /// A key naming the futex word at `va` across address spaces: the file
    /// position for shared file mappings (each process maps those at its own
    /// frames), the physical address otherwise.
    pub fn futex_key(&self, va: u64) -> Option<u64> {
        let a = self.lock();
        let pa = a.pt.translate(&a.phys, va, false)?;
        match a.vmas.find(va).and_then(|v| v.file().filter(|f| f.shared).map(|f| (v.start, f.clone()))) {
            Some((start, f)) => {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for x in [f.dev, f.ino, f.offset + (va - start)] {
                    h = (h ^ x).wrapping_mul(0x100_0000_01b3);
                }
                Some(h | (1 << 63))
            }
            None => Some(pa),
        }
    }
    /// The child's copy for fork (a new address space).
    pub fn fork(&self) -> Result<MemoryManager, Errno> {
        let child = self.lock().fork()?;
        Ok(MemoryManager::wrap(child))
    }
    /// The machine's frame pool, for reclaiming page-table frames.
    pub fn pool(&self) -> FramePool {
        let a = self.lock();
        FramePool { phys: a.phys.clone(), frames: a.pool.clone() }
    }
    /// An empty address space for exec.
    pub fn new_address_space(&self) -> Result<MemoryManager, Errno> {
        let fresh = self.lock().new_address_space()?;
        Ok(MemoryManager::wrap(fresh))
    }
}

#[cfg(test)]
mod tests;
