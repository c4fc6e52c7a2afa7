//! x86_64 4-level page tables kept in guest physical memory.
//!
//! The host writes these tables directly; the guest never does. Leaf entries own
//! their frame: a page that is mapped but inaccessible (PROT_NONE) keeps its frame
//! with the present bit clear and [`PTE_HELD`] set, so no frame is ever lost.

use super::frames::{FrameUse, Frames};
use super::phys::{PAGE_SIZE, PhysMem};
use crate::errno::Errno;

pub const PTE_P: u64 = 1 << 0;
pub const PTE_W: u64 = 1 << 1;
pub const PTE_U: u64 = 1 << 2;
pub const PTE_A: u64 = 1 << 5;
pub const PTE_D: u64 = 1 << 6;
pub const PTE_PS: u64 = 1 << 7;
/// Software bit: the entry holds a frame even though it is not present.
pub const PTE_HELD: u64 = 1 << 9;
/// Software bit: the frame belongs to the platform (vDSO data), not to this mapping.
pub const PTE_FOREIGN: u64 = 1 << 10;
/// Software bit: the frame is shared copy-on-write; the page is writable once copied.
pub const PTE_COW: u64 = 1 << 11;
pub const PTE_NX: u64 = 1 << 63;
pub const PTE_ADDR: u64 = 0x000f_ffff_ffff_f000;

/// The lowest non-canonical user address: user space is `0..USER_END`.
pub const USER_END: u64 = 1 << 47;

pub struct PageTable {
    root: u64,
}

impl PageTable {
    pub fn new(phys: &PhysMem, frames: &mut Frames) -> Result<PageTable, Errno> {
        let root = frames.alloc(FrameUse::Table)?;
        phys.fill(root, PAGE_SIZE, 0)?;
        Ok(PageTable { root })
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    fn index(va: u64, level: u32) -> u64 {
        (va >> (12 + 9 * level)) & 0x1ff
    }

    /// Physical address of the leaf entry for `va`, creating tables if `alloc`.
    fn leaf(&self, phys: &PhysMem, mut alloc: Option<&mut Frames>, va: u64) -> Result<Option<u64>, Errno> {
        let mut table = self.root;
        for level in (1..4).rev() {
            let slot = table + 8 * Self::index(va, level);
            let e = phys.read_u64(slot);
            if e & PTE_P != 0 {
                if e & PTE_PS != 0 {
                    return Err(Errno::EFAULT);
                }
                table = e & PTE_ADDR;
                continue;
            }
            let Some(frames) = alloc.as_deref_mut() else {
                return Ok(None);
            };
            let t = frames.alloc(FrameUse::Table)?;
            phys.fill(t, PAGE_SIZE, 0)?;
            phys.write_u64(slot, t | PTE_P | PTE_W | PTE_U);
            table = t;
        }
        Ok(Some(table + 8 * Self::index(va, 0)))
    }

    /// Every table frame of this tree, the root included.
    pub fn table_frames(&self, phys: &PhysMem) -> Vec<u64> {
        let mut out = vec![self.root];
        let mut level_tables = vec![self.root];
        for _ in 1..4 {
            let mut next = Vec::new();
            for t in level_tables {
                for i in 0..512 {
                    let e = phys.read_u64(t + 8 * i);
                    if e & PTE_P != 0 && e & PTE_PS == 0 {
                        next.push(e & PTE_ADDR);
                    }
                }
            }
            out.extend_from_slice(&next);
            level_tables = next;
        }
        out
    }

    /// The leaf entry for `va`, or 0.
    pub fn get(&self, phys: &PhysMem, va: u64) -> u64 {
        match self.leaf(phys, None, va) {
            Ok(Some(slot)) => phys.read_u64(slot),
            _ => 0,
        }
    }

    /// Sets the leaf entry for `va`, creating intermediate tables.
    pub fn set(&self, phys: &PhysMem, frames: &mut Frames, va: u64, pte: u64) -> Result<(), Errno> {
        let slot = self.leaf(phys, Some(frames), va)?.ok_or(Errno::ENOMEM)?;
        phys.write_u64(slot, pte);
        Ok(())
    }

    /// Rewrites an existing leaf entry; no-op when no table covers `va`.
    pub fn update(&self, phys: &PhysMem, va: u64, pte: u64) {
        if let Ok(Some(slot)) = self.leaf(phys, None, va) {
            phys.write_u64(slot, pte);
        }
    }

    /// Translates a user address for an access by the host on the guest's behalf.
    pub fn translate(&self, phys: &PhysMem, va: u64, write: bool) -> Option<u64> {
        let e = self.get(phys, va);
        if e & (PTE_P | PTE_U) != (PTE_P | PTE_U) || (write && e & PTE_W == 0) {
            return None;
        }
        Some((e & PTE_ADDR) | (va & (PAGE_SIZE - 1)))
    }

    /// Adds an identity mapping outside user space (system pages).
    pub fn map_system(
        &self,
        phys: &PhysMem,
        frames: &mut Frames,
        pa: u64,
        user: bool,
        write: bool,
        exec: bool,
    ) -> Result<(), Errno> {
        let mut pte = pa | PTE_P;
        if user {
            pte |= PTE_U;
        }
        if write {
            pte |= PTE_W;
        }
        if !exec {
            pte |= PTE_NX;
        }
        self.set(phys, frames, pa, pte)
    }
}

/// Leaf entry bits for a user page with Linux protection `prot`.
pub fn pte_flags(prot: u32) -> u64 {
    if prot & (libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC) as u32 == 0 {
        return PTE_HELD;
    }
    // Accessed and dirty are set up front: nothing reads them back, and a clean
    // or unaccessed entry costs the hypervisor an extra fault to update it.
    let mut f = PTE_P | PTE_U | PTE_HELD | PTE_A | PTE_D;
    if prot & libc::PROT_WRITE as u32 != 0 {
        f |= PTE_W;
    }
    if prot & libc::PROT_EXEC as u32 == 0 {
        f |= PTE_NX;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_translate_and_permissions() {
        let phys = PhysMem::new(64 * PAGE_SIZE).unwrap();
        let mut frames = Frames::new(0x1000, 64 * PAGE_SIZE, 16);
        let pt = PageTable::new(&phys, &mut frames).unwrap();
        let va = 0x7fff_1234_5000;
        pt.set(&phys, &mut frames, va, 0x20000 | pte_flags(libc::PROT_READ as u32)).unwrap();
        assert_eq!(pt.translate(&phys, va + 5, false), Some(0x20005));
        assert_eq!(pt.translate(&phys, va, true), None, "read-only page");
        assert_eq!(pt.translate(&phys, va + PAGE_SIZE, false), None);
        pt.update(&phys, va, 0x20000 | pte_flags(0));
        assert_eq!(pt.translate(&phys, va, false), None, "PROT_NONE");
        assert_eq!(pt.get(&phys, va) & PTE_ADDR, 0x20000, "frame is kept");
        assert!(pte_flags(libc::PROT_READ as u32) & PTE_NX != 0);
        assert!(pte_flags((libc::PROT_READ | libc::PROT_EXEC) as u32) & PTE_NX == 0);
        // Root, then one table per level for `va`, and a second leaf table.
        pt.set(&phys, &mut frames, va + (1 << 21), 0x21000 | pte_flags(0)).unwrap();
        let tables = pt.table_frames(&phys);
        assert_eq!(tables.len(), 5);
        assert_eq!(tables[0], pt.root());
        assert_eq!(frames.table_bytes(), 5 * PAGE_SIZE);
    }
}
