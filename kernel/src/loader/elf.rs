//! ELF64 header parsing. Every field is checked before use: the file is guest
//! input (or worse, something a user pointed us at by mistake).

use std::os::fd::BorrowedFd;

use crate::host;
use crate::mm::phys::PAGE_SIZE;

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PHENT_SIZE: usize = 56;
const MAX_PHNUM: usize = 512;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("not a 64-bit little-endian ELF")]
    WrongClass,
    #[error("ELF for another architecture (e_machine {0}); wisp runs x86_64 programs")]
    WrongArch(u16),
    #[error("ELF type {0} is not an executable or shared object")]
    WrongType(u16),
    #[error("corrupt ELF: {0}")]
    Corrupt(&'static str),
    #[error("cannot read ELF: {0}")]
    Io(crate::errno::Errno),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub prot: u32,
}

#[derive(Clone, Debug)]
pub struct Elf {
    pub etype: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: u64,
    pub phdr_vaddr: Option<u64>,
    pub segments: Vec<Segment>,
    pub interp: Option<Vec<u8>>,
    /// Lowest page and end of the loadable image, before relocation.
    pub lo: u64,
    pub hi: u64,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]))
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]))
}

/// Reads exactly `len` bytes at `off`, or fails as truncated.
fn read_exact(fd: BorrowedFd<'_>, off: u64, len: usize) -> Result<Vec<u8>, ElfError> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let n = host::pread(fd, &mut buf[done..], off + done as u64).map_err(ElfError::Io)?;
        if n == 0 {
            return Err(ElfError::Corrupt("file is truncated"));
        }
        done += n;
    }
    Ok(buf)
}

/// Parses the headers of the ELF file `fd` of `size` bytes.
pub fn parse(fd: BorrowedFd<'_>, size: u64) -> Result<Elf, ElfError> {
    if size < 4 {
        return Err(ElfError::NotElf);
    }
    let ident = read_exact(fd, 0, 4.min(size as usize))?;
    if ident != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if size < 64 {
        return Err(ElfError::Corrupt("header is truncated"));
    }
    let h = read_exact(fd, 0, 64)?;
    parse_header(&h, size, |off, len| read_exact(fd, off, len))
}

/// Parses from a header buffer and a reader for the program headers; split out
/// so it can be tested and fuzzed on byte slices.
pub fn parse_header(
    h: &[u8],
    size: u64,
    read: impl Fn(u64, usize) -> Result<Vec<u8>, ElfError>,
) -> Result<Elf, ElfError> {
    if h.len() < 64 || &h[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if h[4] != 2 || h[5] != 1 {
        return Err(ElfError::WrongClass);
    }
    let machine = u16_at(h, 18);
    if machine != EM_X86_64 {
        return Err(ElfError::WrongArch(machine));
    }
    let etype = u16_at(h, 16);
    if etype != ET_EXEC && etype != ET_DYN {
        return Err(ElfError::WrongType(etype));
    }
    let entry = u64_at(h, 24);
    let phoff = u64_at(h, 32);
    let phentsize = u16_at(h, 54) as usize;
    let phnum = u16_at(h, 56) as usize;
    if phentsize != PHENT_SIZE {
        return Err(ElfError::Corrupt("bad program header size"));
    }
    if phnum == 0 || phnum > MAX_PHNUM {
        return Err(ElfError::Corrupt("bad program header count"));
    }
    let ph_len = phnum * PHENT_SIZE;
    if phoff.checked_add(ph_len as u64).is_none_or(|e| e > size) {
        return Err(ElfError::Corrupt("program headers lie outside the file"));
    }
    let ph = read(phoff, ph_len)?;
    let mut elf = Elf {
        etype,
        entry,
        phoff,
        phnum: phnum as u64,
        phdr_vaddr: None,
        segments: Vec::new(),
        interp: None,
        lo: u64::MAX,
        hi: 0,
    };
    for i in 0..phnum {
        let p = &ph[i * PHENT_SIZE..(i + 1) * PHENT_SIZE];
        let (ptype, flags) = (u32_at(p, 0), u32_at(p, 4));
        let (offset, vaddr, filesz, memsz) = (u64_at(p, 8), u64_at(p, 16), u64_at(p, 32), u64_at(p, 40));
        match ptype {
            PT_LOAD => {
                if filesz > memsz {
                    return Err(ElfError::Corrupt("segment file size exceeds memory size"));
                }
                if offset.checked_add(filesz).is_none_or(|e| e > size) {
                    return Err(ElfError::Corrupt("segment lies outside the file"));
                }
                let end = vaddr.checked_add(memsz).ok_or(ElfError::Corrupt("segment wraps around"))?;
                if end > crate::mm::pagetable::USER_END {
                    return Err(ElfError::Corrupt("segment lies outside user space"));
                }
                if vaddr % PAGE_SIZE != offset % PAGE_SIZE {
                    return Err(ElfError::Corrupt("segment offset and address are not congruent"));
                }
                let mut prot = 0;
                if flags & 4 != 0 {
                    prot |= libc::PROT_READ as u32;
                }
                if flags & 2 != 0 {
                    prot |= libc::PROT_WRITE as u32;
                }
                if flags & 1 != 0 {
                    prot |= libc::PROT_EXEC as u32;
                }
                elf.lo = elf.lo.min(vaddr & !(PAGE_SIZE - 1));
                elf.hi = elf.hi.max(end);
                elf.segments.push(Segment { offset, vaddr, filesz, memsz, prot });
            }
            PT_INTERP => {
                if filesz == 0 || filesz > 4096 || offset.checked_add(filesz).is_none_or(|e| e > size) {
                    return Err(ElfError::Corrupt("bad interpreter path"));
                }
                let mut s = read(offset, filesz as usize)?;
                match s.iter().position(|b| *b == 0) {
                    Some(z) => s.truncate(z),
                    None => return Err(ElfError::Corrupt("interpreter path is not terminated")),
                }
                if s.is_empty() {
                    return Err(ElfError::Corrupt("empty interpreter path"));
                }
                elf.interp = Some(s);
            }
            PT_PHDR => elf.phdr_vaddr = Some(vaddr),
            PT_GNU_STACK => {}
            _ => {}
        }
    }
    if elf.segments.is_empty() {
        return Err(ElfError::Corrupt("no loadable segments"));
    }
    if elf.segments.windows(2).any(|w| w[1].vaddr < w[0].vaddr) {
        return Err(ElfError::Corrupt("loadable segments are not in address order"));
    }
    Ok(elf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid ELF header + one PT_LOAD, for mutation.
    fn sample() -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56 + 16];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        b[18..20].copy_from_slice(&62u16.to_le_bytes());
        b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let p = &mut b[64..120];
        p[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        p[4..8].copy_from_slice(&5u32.to_le_bytes());
        p[16..24].copy_from_slice(&0x400000u64.to_le_bytes());
        p[32..40].copy_from_slice(&136u64.to_le_bytes());
        p[40..48].copy_from_slice(&0x2000u64.to_le_bytes());
        b
    }

    fn parse_bytes(b: &[u8]) -> Result<Elf, ElfError> {
        let size = b.len() as u64;
        parse_header(&b[..64.min(b.len())], size, |off, len| {
            b.get(off as usize..off as usize + len).map(|s| s.to_vec()).ok_or(ElfError::Corrupt("file is truncated"))
        })
    }

    #[test]
    fn valid_sample_parses() {
        let e = parse_bytes(&sample()).unwrap();
        assert_eq!(e.segments.len(), 1);
        assert_eq!(e.lo, 0x400000);
        assert_eq!(e.segments[0].prot, (libc::PROT_READ | libc::PROT_EXEC) as u32);
    }

    #[test]
    fn hostile_headers_are_refused() {
        let mut arm = sample();
        arm[18..20].copy_from_slice(&183u16.to_le_bytes());
        assert_eq!(parse_bytes(&arm).unwrap_err(), ElfError::WrongArch(183));
        let mut class32 = sample();
        class32[4] = 1;
        assert_eq!(parse_bytes(&class32).unwrap_err(), ElfError::WrongClass);
        let mut phoff = sample();
        phoff[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(parse_bytes(&phoff), Err(ElfError::Corrupt(_))));
        let mut big = sample();
        big[64 + 32..64 + 40].copy_from_slice(&0x10000u64.to_le_bytes());
        assert!(matches!(parse_bytes(&big), Err(ElfError::Corrupt(_))), "filesz > memsz");
        let mut wrap = sample();
        wrap[64 + 16..64 + 24].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
        assert!(matches!(parse_bytes(&wrap), Err(ElfError::Corrupt(_))));
        let mut nseg = sample();
        nseg[56..58].copy_from_slice(&0u16.to_le_bytes());
        assert!(matches!(parse_bytes(&nseg), Err(ElfError::Corrupt(_))));
        assert_eq!(parse_bytes(b"#!/bin/sh\n").unwrap_err(), ElfError::NotElf);
    }

    #[test]
    fn every_truncation_and_byte_flip_is_handled() {
        let s = sample();
        for n in 0..s.len() {
            let _ = parse_bytes(&s[..n]);
        }
        for i in 0..s.len() {
            for v in [0u8, 0xff, 0x80, 1] {
                let mut m = s.clone();
                m[i] = v;
                let _ = parse_bytes(&m);
            }
        }
    }
}
