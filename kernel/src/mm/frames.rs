//! Physical frame allocation.
//!
//! Frames come from a bump pointer (so file mappings get contiguous runs that one
//! host mmap can back) and a free list of single frames. User frames are counted
//! against the machine's memory limit; page-table frames are not, but they can
//! never exceed the physical size, which the machine sizes to cover them.

use super::phys::PAGE_SIZE;
use crate::errno::Errno;

/// What a frame is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUse {
    User,
    Table,
}

pub struct Frames {
    start: u64,
    next: u64,
    end: u64,
    /// References to each frame (address spaces sharing it copy-on-write).
    refs: Vec<u16>,
    free: Vec<u64>,
    /// Page-table frames of ended address spaces. They become free only after
    /// the hypervisor has dropped every cached translation (see
    /// `FramePool::reclaim_tables`), so a reused frame never meets a stale
    /// shadow of its old contents.
    retired: Vec<u64>,
    user_used: u64,
    user_limit: u64,
    table_used: u64,
}

impl Frames {
    /// Frames in `start..end` are allocatable; at most `user_limit` of them for user memory.
    pub fn new(start: u64, end: u64, user_limit: u64) -> Frames {
        let n = (end.saturating_sub(start) / PAGE_SIZE) as usize;
        Frames {
            start,
            next: start,
            end,
            refs: vec![0; n],
            free: Vec::new(),
            retired: Vec::new(),
            user_used: 0,
            user_limit,
            table_used: 0,
        }
    }

    fn charge(&mut self, kind: FrameUse, n: u64) -> Result<(), Errno> {
        match kind {
            FrameUse::User => {
                if self.user_used + n > self.user_limit {
                    return Err(Errno::ENOMEM);
                }
                self.user_used += n;
            }
            FrameUse::Table => self.table_used += n,
        }
        Ok(())
    }

    fn uncharge(&mut self, kind: FrameUse, n: u64) {
        match kind {
            FrameUse::User => self.user_used -= n.min(self.user_used),
            FrameUse::Table => self.table_used -= n.min(self.table_used),
        }
    }

    fn slot(&self, pa: u64) -> Option<usize> {
        let i = (pa.checked_sub(self.start)? / PAGE_SIZE) as usize;
        (i < self.refs.len()).then_some(i)
    }

    fn set_ref(&mut self, pa: u64, n: u16) {
        if let Some(i) = self.slot(pa) {
            self.refs[i] = n;
        }
    }

    /// How many address spaces map frame `pa`.
    pub fn refs(&self, pa: u64) -> u16 {
        self.slot(pa).map(|i| self.refs[i]).unwrap_or(0)
    }

    /// Adds a reference to a user frame (fork sharing it copy-on-write).
    pub fn share(&mut self, pa: u64) -> Result<(), Errno> {
        let i = self.slot(pa).ok_or(Errno::EFAULT)?;
        self.refs[i] = self.refs[i].checked_add(1).ok_or(Errno::EAGAIN)?;
        Ok(())
    }

    /// Drops a reference to a user frame; true when it was the last one. The
    /// caller must then discard the frame's contents and `recycle` it.
    pub fn put(&mut self, pa: u64) -> bool {
        let Some(i) = self.slot(pa) else { return false };
        if self.refs[i] > 1 {
            self.refs[i] -= 1;
            return false;
        }
        self.refs[i] = 0;
        true
    }

    /// Returns a frame whose last reference was dropped (and whose contents
    /// were discarded) to the free list.
    pub fn recycle(&mut self, pa: u64) {
        self.uncharge(FrameUse::User, 1);
        self.free.push(pa);
    }

    /// One frame. Its contents are zero (fresh, or discarded when freed).
    pub fn alloc(&mut self, kind: FrameUse) -> Result<u64, Errno> {
        self.charge(kind, 1)?;
        if let Some(pa) = self.free.pop() {
            self.set_ref(pa, 1);
            return Ok(pa);
        }
        if self.next + PAGE_SIZE <= self.end {
            let pa = self.next;
            self.next += PAGE_SIZE;
            self.set_ref(pa, 1);
            return Ok(pa);
        }
        self.uncharge(kind, 1);
        Err(Errno::ENOMEM)
    }

    /// `n` physically contiguous frames, or None when no run is left (the caller
    /// falls back to single frames). Fails with ENOMEM past the user limit.
    pub fn alloc_contiguous(&mut self, n: u64) -> Result<Option<u64>, Errno> {
        self.charge(FrameUse::User, n)?;
        if self.next + n * PAGE_SIZE <= self.end {
            let pa = self.next;
            self.next += n * PAGE_SIZE;
            for k in 0..n {
                self.set_ref(pa + k * PAGE_SIZE, 1);
            }
            return Ok(Some(pa));
        }
        self.uncharge(FrameUse::User, n);
        Ok(None)
    }

    /// Returns a frame that was never shared (an allocation being undone). The
    /// caller must have discarded its contents.
    pub fn free(&mut self, pa: u64, kind: FrameUse) {
        self.uncharge(kind, 1);
        self.set_ref(pa, 0);
        self.free.push(pa);
    }

    /// Retires a page-table frame of an ended address space.
    pub fn retire_table(&mut self, pa: u64) {
        self.uncharge(FrameUse::Table, 1);
        self.set_ref(pa, 0);
        self.retired.push(pa);
    }

    /// How many retired table frames wait for a translation flush.
    pub fn retired(&self) -> usize {
        self.retired.len()
    }

    /// Takes the retired table frames (the caller flushes, then frees them).
    pub fn take_retired(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.retired)
    }

    /// Puts back table frames whose flush failed.
    pub fn unretire(&mut self, frames: Vec<u64>) {
        self.retired.extend(frames);
    }

    /// Frees retired table frames once no translation of them is cached and
    /// their contents are discarded.
    pub fn free_retired(&mut self, frames: Vec<u64>) {
        self.free.extend(frames);
    }

    pub fn user_bytes(&self) -> u64 {
        self.user_used * PAGE_SIZE
    }

    pub fn user_limit_bytes(&self) -> u64 {
        self.user_limit * PAGE_SIZE
    }

    pub fn table_bytes(&self) -> u64 {
        self.table_used * PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_hard_and_frames_recycle() {
        let mut f = Frames::new(0x10000, 0x10000 + 8 * PAGE_SIZE, 2);
        let a = f.alloc(FrameUse::User).unwrap();
        let _b = f.alloc(FrameUse::User).unwrap();
        assert_eq!(f.alloc(FrameUse::User), Err(Errno::ENOMEM));
        assert!(f.alloc(FrameUse::Table).is_ok(), "tables are not user memory");
        f.free(a, FrameUse::User);
        assert_eq!(f.alloc(FrameUse::User), Ok(a));
        assert_eq!(f.alloc_contiguous(1), Err(Errno::ENOMEM));
    }

    #[test]
    fn shared_frames_are_freed_by_their_last_reference() {
        let mut f = Frames::new(0x10000, 0x10000 + 8 * PAGE_SIZE, 8);
        let a = f.alloc(FrameUse::User).unwrap();
        f.share(a).unwrap();
        assert_eq!(f.refs(a), 2);
        assert!(!f.put(a), "still referenced");
        assert_eq!(f.user_bytes(), PAGE_SIZE);
        assert!(f.put(a));
        f.recycle(a);
        assert_eq!(f.user_bytes(), 0);
        assert_eq!(f.alloc(FrameUse::User), Ok(a), "recycled");
        assert_eq!(f.share(0x1000), Err(Errno::EFAULT), "outside the pool");
    }

    #[test]
    fn retired_tables_wait_for_a_flush() {
        let mut f = Frames::new(0, 2 * PAGE_SIZE, 100);
        let a = f.alloc(FrameUse::Table).unwrap();
        let _b = f.alloc(FrameUse::Table).unwrap();
        f.retire_table(a);
        assert_eq!(f.table_bytes(), PAGE_SIZE);
        assert_eq!(f.alloc(FrameUse::Table), Err(Errno::ENOMEM), "not reused before the flush");
        let r = f.take_retired();
        assert_eq!((r.clone(), f.retired()), (vec![a], 0));
        f.free_retired(r);
        assert_eq!(f.alloc(FrameUse::User), Ok(a), "free after the flush");
    }

    #[test]
    fn contiguous_runs_fall_back_when_exhausted() {
        let mut f = Frames::new(0, 4 * PAGE_SIZE, 100);
        assert_eq!(f.alloc_contiguous(3), Ok(Some(0)));
        assert_eq!(f.alloc_contiguous(2), Ok(None));
        assert_eq!(f.user_bytes(), 3 * PAGE_SIZE);
    }
}
