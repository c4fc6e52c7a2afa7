//! Program loading: ELF (static, static-PIE, dynamic through PT_INTERP) and `#!`
//! scripts, the initial stack, and the auxiliary vector.

pub mod elf;

use std::os::fd::AsFd;

use elf::{ET_DYN, Elf, ElfError};

use crate::errno::Errno;
use crate::host;
use crate::mm::phys::PAGE_SIZE;
use crate::mm::{Backing, FileBacking, MemoryManager, Placement, STACK_SIZE, STACK_TOP, page_down, page_up};
use crate::vfs::file::File;
use crate::vfs::hostfs::HostFile;
use crate::vfs::procfs::ProcView;
use crate::vfs::{Opened, Vfs, normalize};

/// Where Linux puts a position-independent main program with ASLR off.
pub const PIE_BASE: u64 = 0x5555_5555_4000;
/// The part of the stack populated at exec; deeper pages fault in on demand.
const STACK_EAGER: u64 = 256 << 10;
/// Nested `#!` interpreters allowed, as Linux's BINPRM_MAX_RECURSION.
const MAX_SCRIPT_DEPTH: usize = 4;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AT_MINSIGSTKSZ: u64 = 51;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0}: No such file or directory")]
    NotFound(String),
    #[error("{0}: Permission denied")]
    Access(String),
    #[error("{0}: cannot execute: {1}")]
    BadElf(String, ElfError),
    #[error("{0}: cannot execute: Is a directory")]
    IsDir(String),
    #[error("{0}: cannot execute: {1}")]
    Other(String, Errno),
    #[error("{0}: not enough guest memory to load it (raise --mem)")]
    NoMemory(String),
    #[error("{0}: too many levels of #! interpreters")]
    ScriptDepth(String),
}

impl ExecError {
    /// The exit status a shell reports for this failure (127 not found, 126 otherwise).
    pub fn status(&self) -> i32 {
        match self {
            ExecError::NotFound(_) => 127,
            _ => 126,
        }
    }

    fn from_errno(path: &str, e: Errno) -> ExecError {
        match e {
            Errno::ENOENT => ExecError::NotFound(path.into()),
            Errno::EACCES | Errno::EPERM => ExecError::Access(path.into()),
            Errno::ENOMEM => ExecError::NoMemory(path.into()),
            e => ExecError::Other(path.into(), e),
        }
    }
}

/// The vDSO image to map into every process, if the platform has one.
pub struct Vdso<'a> {
    pub image: &'a [u8],
    /// Pages of host-maintained data mapped just below the image (vvar).
    pub data_pages: u64,
    /// Physical address of the first data page (shared by all processes).
    pub data_pa: u64,
}

/// Initial register state of a freshly loaded program.
#[derive(Debug, Clone)]
pub struct ExecImage {
    pub entry: u64,
    pub sp: u64,
    /// Guest path of the executable (for /proc/self/exe).
    pub exe: String,
    pub argv: Vec<Vec<u8>>,
    pub vdso_base: Option<u64>,
}

struct Opened1 {
    file: HostFile,
    size: u64,
    path: String,
    dev: u64,
    ino: u64,
}

fn open_exec(vfs: &Vfs, view: &dyn ProcView, cwd: &str, path: &[u8]) -> Result<Opened1, ExecError> {
    let shown = String::from_utf8_lossy(path).into_owned();
    let (abs, _) = normalize(cwd, path).map_err(|e| ExecError::from_errno(&shown, e))?;
    let st = vfs.stat(view, &abs, false).map_err(|e| ExecError::from_errno(&shown, e))?;
    if st.is_dir() {
        return Err(ExecError::IsDir(shown));
    }
    if st.mode & libc::S_IFMT != libc::S_IFREG || st.mode & 0o111 == 0 {
        return Err(ExecError::Access(shown));
    }
    let file = match vfs.open(view, &abs, false, libc::O_RDONLY, 0).map_err(|e| ExecError::from_errno(&shown, e))? {
        Opened::File(f) => f,
        Opened::Fd(_) => return Err(ExecError::Access(shown)),
    };
    let Some(fd) = file.host_fd() else { return Err(ExecError::Access(shown)) };
    let fd = host::dup(fd).map_err(|e| ExecError::from_errno(&shown, e))?;
    Ok(Opened1 { file: HostFile::from_fd(fd, abs.clone()), size: st.size as u64, path: abs, dev: st.dev, ino: st.ino })
}

/// Maps the PT_LOAD segments of `elf` at `bias`.
fn map_segments(mm: &mut MemoryManager, f: &Opened1, elf: &Elf, bias: u64) -> Result<(), Errno> {
    let backing = |offset: u64, copy: bool| {
        Backing::File(FileBacking {
            fd: f.file.fd.clone(),
            offset,
            size: f.size,
            shared: false,
            copy,
            path: f.path.clone(),
            dev: f.dev,
            ino: f.ino,
        })
    };
    for s in &elf.segments {
        let va = s.vaddr.checked_add(bias).ok_or(Errno::ENOMEM)?;
        let start = page_down(va);
        let file_end = va + s.filesz;
        let mem_end = page_up(va + s.memsz).ok_or(Errno::ENOMEM)?;
        let file_map_end = page_up(file_end).ok_or(Errno::ENOMEM)?;
        if s.filesz > 0 {
            mm.mmap(
                Placement::Fixed(start),
                file_map_end - start,
                s.prot,
                backing(s.offset - (va - start), s.memsz > s.filesz),
                None,
            )?;
            // The tail of the last file page belongs to .bss and must read as zero.
            if s.memsz > s.filesz && file_end < file_map_end {
                mm.poke(file_end, &vec![0u8; (file_map_end - file_end) as usize])?;
            }
        }
        let anon_start = if s.filesz > 0 { file_map_end } else { start };
        if mem_end > anon_start {
            mm.mmap(Placement::Fixed(anon_start), mem_end - anon_start, s.prot, Backing::Anon, None)?;
        }
    }
    Ok(())
}

struct Loaded {
    entry: u64,
    phdr: u64,
    phnum: u64,
    bias: u64,
    end: u64,
}

fn load_elf(mm: &mut MemoryManager, f: &Opened1, elf: &Elf, is_interp: bool) -> Result<Loaded, Errno> {
    let span = page_up(elf.hi - elf.lo).ok_or(Errno::ENOMEM)?;
    let bias = if elf.etype == ET_DYN {
        let base = if is_interp {
            // Reserve the whole span so segments land together, then map over it.
            let at = mm.mmap(Placement::Hint(0), span, 0, Backing::Anon, None)?;
            mm.munmap(at, span)?;
            at
        } else {
            PIE_BASE
        };
        base.wrapping_sub(elf.lo)
    } else {
        0
    };
    if elf.lo.wrapping_add(bias) < crate::mm::MMAP_MIN_ADDR {
        return Err(Errno::EPERM);
    }
    map_segments(mm, f, elf, bias)?;
    let phdr = match elf.phdr_vaddr {
        Some(v) => v + bias,
        None => {
            // The headers are inside the first segment that covers phoff.
            let s = elf.segments.iter().find(|s| s.offset <= elf.phoff && elf.phoff < s.offset + s.filesz);
            s.map(|s| s.vaddr + (elf.phoff - s.offset) + bias).unwrap_or(0)
        }
    };
    Ok(Loaded { entry: elf.entry.wrapping_add(bias), phdr, phnum: elf.phnum, bias, end: elf.hi + bias })
}

/// Reads a `#!` line: interpreter and optional single argument.
fn script_interp(f: &Opened1) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let mut buf = vec![0u8; 256];
    let n = f.file.pread(&mut buf, 0).ok()?;
    buf.truncate(n);
    if !buf.starts_with(b"#!") {
        return None;
    }
    let line = buf[2..].split(|b| *b == b'\n').next()?;
    let line: Vec<u8> = line.iter().copied().skip_while(|b| *b == b' ' || *b == b'\t').collect();
    let mut it = line.splitn(2, |b| *b == b' ' || *b == b'\t');
    let interp = it.next().filter(|s| !s.is_empty())?.to_vec();
    let arg = it.next().map(|a| a.trim_ascii().to_vec()).filter(|a| !a.is_empty());
    Some((interp, arg))
}

/// Everything a program needs besides memory: its arguments, environment and identity.
pub struct ExecArgs<'a> {
    pub path: &'a [u8],
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: &'a str,
    pub random: [u8; 16],
    pub hwcap: u64,
}

/// Loads a program into an empty address space and builds its stack.
pub fn exec(
    mm: &mut MemoryManager,
    vfs: &Vfs,
    view: &dyn ProcView,
    mut args: ExecArgs<'_>,
    vdso: Option<&Vdso<'_>>,
) -> Result<ExecImage, ExecError> {
    let mut path = args.path.to_vec();
    let mut depth = 0;
    let (f, elf) = loop {
        let f = open_exec(vfs, view, args.cwd, &path)?;
        if let Some((interp, arg)) = script_interp(&f) {
            depth += 1;
            if depth > MAX_SCRIPT_DEPTH {
                return Err(ExecError::ScriptDepth(f.path));
            }
            let mut argv = vec![interp.clone()];
            argv.extend(arg);
            argv.push(path.clone());
            argv.extend(args.argv.drain(..).skip(1));
            args.argv = argv;
            path = interp;
            continue;
        }
        let elf = elf::parse(f.file.fd.as_fd(), f.size).map_err(|e| ExecError::BadElf(f.path.clone(), e))?;
        break (f, elf);
    };
    let nomem = |e: Errno| {
        if e == Errno::ENOMEM { ExecError::NoMemory(f.path.clone()) } else { ExecError::Other(f.path.clone(), e) }
    };
    let main = load_elf(mm, &f, &elf, false).map_err(nomem)?;
    mm.set_brk_start(page_up(main.end).ok_or(ExecError::NoMemory(f.path.clone()))?);
    let (entry, at_base) = match &elf.interp {
        Some(ip) => {
            let fi = open_exec(vfs, view, "/", ip)?;
            let ie = elf::parse(fi.file.fd.as_fd(), fi.size).map_err(|e| ExecError::BadElf(fi.path.clone(), e))?;
            if ie.interp.is_some() {
                return Err(ExecError::BadElf(fi.path.clone(), ElfError::Corrupt("interpreter has an interpreter")));
            }
            let li = load_elf(mm, &fi, &ie, true).map_err(nomem)?;
            (li.entry, li.bias)
        }
        None => (main.entry, 0),
    };
    let vdso_base = match vdso {
        Some(v) => Some(map_vdso(mm, v).map_err(nomem)?),
        None => None,
    };
    mm.map_stack(STACK_TOP, STACK_SIZE, STACK_EAGER).map_err(nomem)?;
    let (uid, gid) = host::ids();
    let mut aux = vec![
        (AT_PHDR, main.phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, main.phnum),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, at_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, main.entry),
        (AT_UID, uid as u64),
        (AT_EUID, uid as u64),
        (AT_GID, gid as u64),
        (AT_EGID, gid as u64),
        (AT_HWCAP, args.hwcap),
        (AT_HWCAP2, 0),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_MINSIGSTKSZ, 2048),
    ];
    if let Some(b) = vdso_base {
        aux.push((AT_SYSINFO_EHDR, b));
    }
    let sp = build_stack(mm, &args, &f.path, &mut aux).map_err(nomem)?;
    Ok(ExecImage { entry, sp, exe: f.path.clone(), argv: args.argv, vdso_base })
}

fn map_vdso(mm: &mut MemoryManager, v: &Vdso<'_>) -> Result<u64, Errno> {
    let pages = page_up(v.image.len() as u64).ok_or(Errno::ENOMEM)? / PAGE_SIZE;
    let total = (pages + v.data_pages) * PAGE_SIZE;
    let base =
        mm.mmap(Placement::Hint(0), total, (libc::PROT_READ | libc::PROT_EXEC) as u32, Backing::Anon, Some("[vdso]"))?;
    let image = base + v.data_pages * PAGE_SIZE;
    mm.poke(image, v.image)?;
    mm.share_data_pages(base, v.data_pa, v.data_pages)?;
    Ok(image)
}

fn build_stack(
    mm: &mut MemoryManager,
    args: &ExecArgs<'_>,
    exe: &str,
    aux: &mut Vec<(u64, u64)>,
) -> Result<u64, Errno> {
    let mut sp = STACK_TOP;
    let mut push = |bytes: &[u8]| -> Result<u64, Errno> {
        sp -= bytes.len() as u64;
        mm.copy_out(sp, bytes)?;
        Ok(sp)
    };
    let random = push(&args.random)?;
    let platform = push(b"x86_64\0")?;
    let execfn = push(&[exe.as_bytes(), b"\0"].concat())?;
    let mut env_ptrs = Vec::new();
    for e in args.envp.iter().rev() {
        env_ptrs.push(push(&[e.as_slice(), b"\0"].concat())?);
    }
    env_ptrs.reverse();
    let mut arg_ptrs = Vec::new();
    for a in args.argv.iter().rev() {
        arg_ptrs.push(push(&[a.as_slice(), b"\0"].concat())?);
    }
    arg_ptrs.reverse();
    aux.push((AT_RANDOM, random));
    aux.push((AT_PLATFORM, platform));
    aux.push((AT_EXECFN, execfn));
    aux.push((AT_NULL, 0));
    let mut words: Vec<u64> = vec![arg_ptrs.len() as u64];
    words.extend(&arg_ptrs);
    words.push(0);
    words.extend(&env_ptrs);
    words.push(0);
    for (k, v) in aux.iter() {
        words.push(*k);
        words.push(*v);
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    if bytes.len() as u64 + (STACK_TOP - sp) > STACK_SIZE / 4 {
        return Err(Errno::E2BIG);
    }
    let top = (sp - bytes.len() as u64) & !15;
    mm.copy_out(top, &bytes)?;
    Ok(top)
}

/// Finds `name` on `path_env` (a PATH value) inside the machine, as execvp does.
pub fn search_path(vfs: &Vfs, view: &dyn ProcView, name: &str, path_env: &str) -> Option<String> {
    if name.contains('/') {
        return Some(name.to_string());
    }
    for dir in path_env.split(':').filter(|d| !d.is_empty()) {
        let cand = format!("{dir}/{name}");
        if let Ok((abs, _)) = normalize("/", cand.as_bytes())
            && vfs.stat(view, &abs, false).is_ok_and(|s| !s.is_dir())
        {
            return Some(cand);
        }
    }
    None
}
