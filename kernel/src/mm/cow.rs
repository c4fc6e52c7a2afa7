//! fork: address spaces that share frames copy-on-write, and teardown.

use super::frames::FrameUse;
use super::pagetable::{PTE_ADDR, PTE_COW, PTE_FOREIGN, PTE_HELD, PTE_P, PTE_W, PageTable};
use super::phys::PAGE_SIZE;
use super::{AddressSpace, page_down};
use crate::errno::Errno;

impl AddressSpace {
    fn empty_like(&self) -> Result<AddressSpace, Errno> {
        let pt = PageTable::new(&self.phys, &mut self.frames())?;
        let mut mm = AddressSpace {
            phys: self.phys.clone(),
            pool: self.pool.clone(),
            system_pages: Vec::new(),
            pt,
            vmas: Default::default(),
            brk_start: 0,
            brk: 0,
            last_spurious: None,
            stack_low: None,
        };
        for (pa, user, write, exec) in self.system_pages.clone() {
            mm.map_system_page(pa, user, write, exec)?;
        }
        Ok(mm)
    }

    /// An empty address space for exec, sharing this one's memory and limit.
    pub fn new_address_space(&self) -> Result<AddressSpace, Errno> {
        self.empty_like()
    }

    /// The child's copy of this address space for fork. Private writable pages
    /// become read-only and copy-on-write in both; shared ones stay shared.
    pub fn fork(&mut self) -> Result<AddressSpace, Errno> {
        let mut child = self.empty_like()?;
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        child.stack_low = self.stack_low;
        // Frames whose entries here lost write permission, in runs: the vCPU
        // may hold writable translations of exactly these.
        let mut downgraded: Vec<(u64, u64)> = Vec::new();
        let vmas: Vec<_> = self.vmas.iter().cloned().collect();
        for v in vmas {
            let mut va = v.start;
            while va < v.end {
                let e = self.pt.get(&self.phys, va);
                if e & PTE_FOREIGN != 0 {
                    child.pt.set(&self.phys, &mut self.frames(), va, e)?;
                } else if e & (PTE_P | PTE_HELD) != 0 {
                    self.frames().share(e & PTE_ADDR)?;
                    // Private pages are copy-on-write even when read-only now:
                    // mprotect may make them writable later (VM_MAYWRITE).
                    let ne = if v.is_shared() { e } else { (e & !PTE_W) | PTE_COW };
                    if ne != e {
                        self.pt.update(&self.phys, va, ne);
                        if e & PTE_W != 0 {
                            let pa = e & PTE_ADDR;
                            match downgraded.last_mut() {
                                Some((s, l)) if *s + *l == pa => *l += PAGE_SIZE,
                                _ => downgraded.push((pa, PAGE_SIZE)),
                            }
                        }
                    }
                    // The child now holds the reference: if this fails, dropping
                    // the child releases it.
                    child.pt.set(&self.phys, &mut self.frames(), va, ne)?;
                }
                va += PAGE_SIZE;
            }
        }
        for (pa, len) in downgraded {
            let _ = self.phys.invalidate(pa, len);
        }
        Ok(child)
    }

    /// Gives this address space its own copy of the copy-on-write page at `va`.
    pub(super) fn break_cow(&mut self, va: u64, e: u64) -> Result<(), Errno> {
        let pa = e & PTE_ADDR;
        let flags = (e & !PTE_ADDR & !PTE_COW) | PTE_W;
        if self.frames().refs(pa) <= 1 && !self.phys.is_file_backed(pa) {
            // The last sharer: take the frame over.
            self.pt.update(&self.phys, va, pa | flags);
            let _ = self.phys.invalidate(pa, PAGE_SIZE);
            return Ok(());
        }
        let new = self.frames().alloc(FrameUse::User)?;
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        self.phys.read(pa, &mut buf)?;
        self.phys.write(new, &buf)?;
        self.pt.update(&self.phys, va, new | flags);
        self.drop_frames(pa, PAGE_SIZE);
        Ok(())
    }

    /// Breaks copy-on-write for every page of `va..va+len` the guest may write,
    /// before the host writes there on its behalf.
    pub(super) fn prepare_write(&mut self, va: u64, len: usize) {
        let Some(end) = va.checked_add(len as u64) else { return };
        let mut page = page_down(va);
        while page < end {
            // Transfers stop at the first hole, so nothing past it matters.
            let Some(v) = self.vmas.find(page) else { break };
            let writable = v.prot & libc::PROT_WRITE as u32 != 0;
            let e = self.pt.get(&self.phys, page);
            if e & PTE_COW != 0 && writable {
                let _ = self.break_cow(page, e);
            }
            page += PAGE_SIZE;
        }
    }
}

impl Drop for AddressSpace {
    /// Gives back every frame this address space maps. Its page-table frames
    /// are retired, not freed: the hypervisor may still hold shadows of them,
    /// and a table reused before those are dropped would reach stale
    /// translations. `FramePool::reclaim_tables` frees them after a flush.
    fn drop(&mut self) {
        let vmas: Vec<(u64, u64)> = self.vmas.iter().map(|v| (v.start, v.end)).collect();
        for (s, e) in vmas {
            self.release(s, e);
        }
        let tables = self.pt.table_frames(&self.phys);
        let mut frames = self.frames();
        for pa in tables {
            frames.retire_table(pa);
        }
    }
}
