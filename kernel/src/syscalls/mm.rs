//! Memory syscalls; the semantics live in `crate::mm`.

use super::Args;
use crate::errno::{Errno, SysResult};
use crate::mm::{Backing, FileBacking, Placement, page_up};
use crate::task::Process;

const MAP_TYPE: u64 = 0x0f;
const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_HUGETLB: u64 = 0x4_0000;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const PROT_ALL: u64 = 0x7;
const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;

/// Implements Linux `mmap(2)`.
pub fn sys_mmap(p: &mut Process, a: &Args) -> SysResult {
    let (addr, len, prot, flags, fd, off) = (a.u(0), a.u(1), a.u(2), a.u(3), a.i(4), a.u(5));
    if prot & !(PROT_ALL | 0x0100_0000 | 0x0200_0000) != 0 {
        return Err(Errno::EINVAL);
    }
    let prot = (prot & PROT_ALL) as u32;
    let kind = flags & MAP_TYPE;
    if !matches!(kind, MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE) || len == 0 || off % 4096 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MAP_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    page_up(len).ok_or(Errno::ENOMEM)?;
    let backing = if flags & MAP_ANONYMOUS != 0 && kind == MAP_PRIVATE {
        Backing::Anon
    } else if flags & MAP_ANONYMOUS != 0 {
        // Shared anonymous memory outlives fork in both processes: back it by
        // a host memory file, as Linux backs it by a shmem file.
        let size = page_up(len).ok_or(Errno::ENOMEM)?;
        let fd = crate::host::memfd(c"wisp-shared-anon", size)?;
        let st = crate::host::fstat(std::os::fd::AsFd::as_fd(&fd))?;
        Backing::File(FileBacking {
            fd: std::sync::Arc::new(fd),
            offset: 0,
            size,
            shared: true,
            copy: false,
            path: "/dev/zero (deleted)".into(),
            dev: 0,
            ino: st.st_ino,
        })
    } else {
        let f = p.fds.get(fd)?.clone();
        let host = f.file.host_fd().ok_or(Errno::ENODEV)?;
        if f.file.is_dir() {
            return Err(Errno::ENODEV);
        }
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        let shared = kind != MAP_PRIVATE;
        if shared && prot & libc::PROT_WRITE as u32 != 0 && !f.writable() {
            return Err(Errno::EACCES);
        }
        let st = f.file.stat()?;
        Backing::File(FileBacking {
            fd: std::sync::Arc::new(crate::host::dup(host)?),
            offset: off,
            size: st.size.max(0) as u64,
            shared,
            copy: false,
            path: f.file.path(),
            dev: st.dev,
            ino: st.ino,
        })
    };
    let fixed = flags & MAP_FIXED != 0;
    let noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    p.mm.mmap(Placement::from_flags(addr, fixed, noreplace), len, prot, backing, None)
}

/// Implements Linux `munmap(2)`.
pub fn sys_munmap(p: &mut Process, a: &Args) -> SysResult {
    p.mm.munmap(a.u(0), a.u(1)).map(|_| 0)
}

/// Implements Linux `mprotect(2)`.
pub fn sys_mprotect(p: &mut Process, a: &Args) -> SysResult {
    if a.u(2) & !(PROT_ALL | 0x0100_0000 | 0x0200_0000) != 0 {
        return Err(Errno::EINVAL);
    }
    p.mm.mprotect(a.u(0), a.u(1), (a.u(2) & PROT_ALL) as u32).map(|_| 0)
}

/// Implements Linux `mremap(2)`.
pub fn sys_mremap(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.u(3);
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0) {
        return Err(Errno::EINVAL);
    }
    let fixed = (flags & MREMAP_FIXED != 0).then(|| a.u(4));
    p.mm.mremap(a.u(0), a.u(1), a.u(2), flags & MREMAP_MAYMOVE != 0, fixed)
}

/// Implements Linux `brk(2)`.
pub fn sys_brk(p: &mut Process, a: &Args) -> SysResult {
    Ok(p.mm.brk(a.u(0)))
}

/// Implements Linux `madvise(2)`: MADV_DONTNEED zeroes private anonymous pages;
/// other advice is accepted.
pub fn sys_madvise(p: &mut Process, a: &Args) -> SysResult {
    let (addr, len, advice) = (a.u(0), a.u(1), a.i(2));
    if addr % 4096 != 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(page_up(len).ok_or(Errno::EINVAL)?).ok_or(Errno::EINVAL)?;
    const KNOWN: [i32; 20] = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
    if !KNOWN.contains(&advice) && advice != 100 && advice != 101 {
        return Err(Errno::EINVAL);
    }
    covered(p, addr, end)?;
    if advice == libc::MADV_DONTNEED {
        for v in p.mm.vmas().overlapping(addr, end) {
            if v.file().is_none() && v.prot & libc::PROT_WRITE as u32 != 0 {
                let (s, e) = (v.start.max(addr), v.end.min(end));
                let zeros = vec![0u8; 4096];
                let mut va = s;
                while va < e {
                    p.mm.copy_out(va, &zeros).ok();
                    va += 4096;
                }
            }
        }
    }
    Ok(0)
}

/// ENOMEM unless every page of `start..end` is mapped, as madvise/msync require.
fn covered(p: &Process, start: u64, end: u64) -> Result<(), Errno> {
    let mut cursor = start;
    for v in p.mm.vmas().overlapping(start, end) {
        if v.start > cursor {
            return Err(Errno::ENOMEM);
        }
        cursor = v.end;
    }
    if cursor < end { Err(Errno::ENOMEM) } else { Ok(()) }
}

/// Implements Linux `msync(2)`: shared file mappings write through already.
pub fn sys_msync(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(2);
    if !a.u(0).is_multiple_of(4096) || flags & !7 != 0 || (flags & 1 != 0 && flags & 4 != 0) {
        return Err(Errno::EINVAL);
    }
    let end = a.u(0).checked_add(page_up(a.u(1)).ok_or(Errno::ENOMEM)?).ok_or(Errno::ENOMEM)?;
    covered(p, a.u(0), end).map(|_| 0)
}

/// Implements Linux `mincore(2)`: every mapped page counts as resident.
pub fn sys_mincore(p: &mut Process, a: &Args) -> SysResult {
    let (addr, len) = (a.u(0), a.u(1));
    if addr % 4096 != 0 {
        return Err(Errno::EINVAL);
    }
    let pages = page_up(len).ok_or(Errno::ENOMEM)? / 4096;
    if pages > 1 << 20 {
        return Err(Errno::ENOMEM);
    }
    let mut v = vec![0u8; pages as usize];
    for (i, b) in v.iter_mut().enumerate() {
        let va = addr + i as u64 * 4096;
        if p.mm.vmas().find(va).is_none() {
            return Err(Errno::ENOMEM);
        }
        *b = 1;
    }
    p.mm.copy_out(a.u(2), &v).map(|_| 0)
}

/// Implements Linux `mlock(2)` and friends: memory is never swapped by wisp.
pub fn sys_mlock(_p: &mut Process, _a: &Args) -> SysResult {
    Ok(0)
}
