//! File and directory syscalls.

use std::sync::Arc;

use super::{AT_FDCWD, Args, path_at, put, read_path, resolve_at};
use crate::errno::{Errno, SysResult};
use crate::task::{ProcViewRef, Process};
use crate::vfs::Opened;
use crate::vfs::file::{OpenFile, Stat};

const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
const AT_REMOVEDIR: i32 = 0x200;
const AT_EMPTY_PATH: i32 = 0x1000;

fn open_common(p: &mut Process, dirfd: i32, ptr: u64, flags: i32, mode: u32) -> SysResult {
    let (abs, must_dir) = path_at(p, dirfd, ptr)?;
    if must_dir && flags & libc::O_CREAT != 0 {
        return Err(Errno::EISDIR);
    }
    let mode = mode & !p.fs.umask();
    let opened = {
        let view = ProcViewRef(p);
        p.vfs.open(&view, &abs, must_dir, flags, mode)?
    };
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let file = match opened {
        Opened::File(f) => Arc::new(OpenFile::new(f, flags as u32)),
        Opened::Fd(fd) => p.fds.get(fd)?.clone(),
    };
    p.fds.insert(file, cloexec, 0).map(|fd| fd as u64)
}

/// Implements Linux `open(2)`.
pub fn sys_open(p: &mut Process, a: &Args) -> SysResult {
    open_common(p, AT_FDCWD, a.u(0), a.i(1), a.u32(2))
}

/// Implements Linux `openat(2)`.
pub fn sys_openat(p: &mut Process, a: &Args) -> SysResult {
    open_common(p, a.i(0), a.u(1), a.i(2), a.u32(3))
}

/// Implements Linux `creat(2)`.
pub fn sys_creat(p: &mut Process, a: &Args) -> SysResult {
    open_common(p, AT_FDCWD, a.u(0), libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, a.u32(1))
}

/// Implements Linux `openat2(2)` for the flags `openat` understands.
pub fn sys_openat2(p: &mut Process, a: &Args) -> SysResult {
    if a.u(3) < 24 {
        return Err(Errno::EINVAL);
    }
    let mut how = [0u8; 24];
    p.mm.copy_in(a.u(2), &mut how)?;
    let w = |i: usize| u64::from_le_bytes(how[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    if w(2) != 0 {
        // RESOLVE_* flags are not supported yet.
        return Err(Errno::EINVAL);
    }
    open_common(p, a.i(0), a.u(1), w(0) as i32, w(1) as u32)
}

/// Implements Linux `close(2)`.
pub fn sys_close(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    p.fds.remove(a.i(0))?;
    // POSIX: closing any descriptor of a file drops the process's record locks on it.
    if let Some(h) = f.file.host_fd() {
        p.drop_record_locks(h);
    }
    Ok(0)
}

/// Implements Linux `close_range(2)`.
pub fn sys_close_range(p: &mut Process, a: &Args) -> SysResult {
    let (first, last, flags) = (a.u32(0), a.u32(1), a.u32(2));
    if first > last || flags & !0x6 != 0 {
        return Err(Errno::EINVAL);
    }
    let fds: Vec<i32> =
        p.fds.list().into_iter().map(|(fd, _)| fd).filter(|fd| (*fd as u32) >= first && (*fd as u32) <= last).collect();
    for fd in fds {
        if flags & 0x4 != 0 {
            p.fds.set_cloexec(fd, true)?;
        } else {
            p.fds.remove(fd)?;
        }
    }
    Ok(0)
}

fn stat_path(p: &Process, dirfd: i32, ptr: u64, flags: i32) -> Result<Stat, Errno> {
    let path = read_path(p, ptr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return p.fds.get(dirfd)?.file.stat();
    }
    let (abs, must_dir) = resolve_at(p, dirfd, &path)?;
    let st = p.vfs.stat(&ProcViewRef(p), &abs, flags & AT_SYMLINK_NOFOLLOW != 0 && !must_dir)?;
    if must_dir && !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(st)
}

/// Implements Linux `stat(2)`.
pub fn sys_stat(p: &mut Process, a: &Args) -> SysResult {
    let st = stat_path(p, AT_FDCWD, a.u(0), 0)?;
    put(p, a.u(1), &st.to_bytes())
}

/// Implements Linux `lstat(2)`.
pub fn sys_lstat(p: &mut Process, a: &Args) -> SysResult {
    let st = stat_path(p, AT_FDCWD, a.u(0), AT_SYMLINK_NOFOLLOW)?;
    put(p, a.u(1), &st.to_bytes())
}

/// Implements Linux `fstat(2)`.
pub fn sys_fstat(p: &mut Process, a: &Args) -> SysResult {
    let st = p.fds.get(a.i(0))?.file.stat()?;
    put(p, a.u(1), &st.to_bytes())
}

/// Implements Linux `newfstatat(2)`.
pub fn sys_newfstatat(p: &mut Process, a: &Args) -> SysResult {
    let st = stat_path(p, a.i(0), a.u(1), a.i(3))?;
    put(p, a.u(2), &st.to_bytes())
}

/// Implements Linux `statx(2)` (basic fields only).
pub fn sys_statx(p: &mut Process, a: &Args) -> SysResult {
    let st = stat_path(p, a.i(0), a.u(1), a.i(2))?;
    put(p, a.u(4), &st.to_statx())
}

fn access_common(p: &mut Process, dirfd: i32, ptr: u64, mode: i32, flags: i32) -> SysResult {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(p, ptr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        p.fds.get(dirfd)?;
        return Ok(0);
    }
    let (abs, _) = resolve_at(p, dirfd, &path)?;
    p.vfs.access(&ProcViewRef(p), &abs, mode).map(|_| 0)
}

/// Implements Linux `access(2)`.
pub fn sys_access(p: &mut Process, a: &Args) -> SysResult {
    access_common(p, AT_FDCWD, a.u(0), a.i(1), 0)
}

/// Implements Linux `faccessat(2)`.
pub fn sys_faccessat(p: &mut Process, a: &Args) -> SysResult {
    access_common(p, a.i(0), a.u(1), a.i(2), 0)
}

/// Implements Linux `faccessat2(2)`.
pub fn sys_faccessat2(p: &mut Process, a: &Args) -> SysResult {
    access_common(p, a.i(0), a.u(1), a.i(2), a.i(3))
}

fn readlink_common(p: &mut Process, dirfd: i32, ptr: u64, buf: u64, size: u64) -> SysResult {
    if (size as i64) <= 0 {
        return Err(Errno::EINVAL);
    }
    let (abs, _) = path_at(p, dirfd, ptr)?;
    let target = p.vfs.readlink(&ProcViewRef(p), &abs)?;
    let n = target.len().min(size as usize);
    p.mm.copy_out(buf, &target[..n])?;
    Ok(n as u64)
}

/// Implements Linux `readlink(2)`.
pub fn sys_readlink(p: &mut Process, a: &Args) -> SysResult {
    readlink_common(p, AT_FDCWD, a.u(0), a.u(1), a.u(2))
}

/// Implements Linux `readlinkat(2)`.
pub fn sys_readlinkat(p: &mut Process, a: &Args) -> SysResult {
    readlink_common(p, a.i(0), a.u(1), a.u(2), a.u(3))
}

/// Implements Linux `getdents64(2)`.
pub fn sys_getdents64(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    let len = (a.u(2) as usize).min(1 << 20);
    let mut buf = vec![0u8; len];
    let n = f.file.getdents(&mut buf)?;
    p.mm.copy_out(a.u(1), &buf[..n])?;
    Ok(n as u64)
}

/// Implements Linux `getcwd(2)`.
pub fn sys_getcwd(p: &mut Process, a: &Args) -> SysResult {
    let mut cwd = p.fs.cwd().into_bytes();
    cwd.push(0);
    if (a.u(1) as usize) < cwd.len() {
        return Err(Errno::ERANGE);
    }
    p.mm.copy_out(a.u(0), &cwd)?;
    Ok(cwd.len() as u64)
}

fn chdir_to(p: &mut Process, abs: String) -> SysResult {
    let st = p.vfs.stat(&ProcViewRef(p), &abs, false)?;
    if !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    p.fs.set_cwd(abs);
    Ok(0)
}

/// Implements Linux `chdir(2)`.
pub fn sys_chdir(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    chdir_to(p, abs)
}

/// Implements Linux `fchdir(2)`.
pub fn sys_fchdir(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    if !f.file.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    chdir_to(p, f.file.path())
}

/// Implements Linux `mkdir(2)`.
pub fn sys_mkdir(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    p.vfs.mkdir(&abs, a.u32(1) & !p.fs.umask()).map(|_| 0)
}

/// Implements Linux `mkdirat(2)`.
pub fn sys_mkdirat(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, a.i(0), a.u(1))?;
    p.vfs.mkdir(&abs, a.u32(2) & !p.fs.umask()).map(|_| 0)
}

/// Implements Linux `unlink(2)`.
pub fn sys_unlink(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    p.vfs.unlink(&abs, false).map(|_| 0)
}

/// Implements Linux `rmdir(2)`.
pub fn sys_rmdir(p: &mut Process, a: &Args) -> SysResult {
    dot_last(&read_path(p, a.u(0))?)?;
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    p.vfs.unlink(&abs, true).map(|_| 0)
}

/// rmdir refuses a path whose last component is "." (EINVAL) or ".."
/// (ENOTEMPTY), which lexical normalisation would otherwise remove.
fn dot_last(path: &[u8]) -> Result<(), Errno> {
    let trimmed = path.iter().rposition(|c| *c != b'/').map_or(&path[..0], |i| &path[..=i]);
    let last = trimmed.rsplit(|c| *c == b'/').next().unwrap_or(b"");
    match last {
        b"." => Err(Errno::EINVAL),
        b".." => Err(Errno::ENOTEMPTY),
        _ => Ok(()),
    }
}

/// Implements Linux `unlinkat(2)`.
pub fn sys_unlinkat(p: &mut Process, a: &Args) -> SysResult {
    if a.i(2) & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    if a.i(2) & AT_REMOVEDIR != 0 {
        dot_last(&read_path(p, a.u(1))?)?;
    }
    let (abs, _) = path_at(p, a.i(0), a.u(1))?;
    p.vfs.unlink(&abs, a.i(2) & AT_REMOVEDIR != 0).map(|_| 0)
}

/// Implements Linux `rename(2)`.
pub fn sys_rename(p: &mut Process, a: &Args) -> SysResult {
    rename_common(p, (AT_FDCWD, a.u(0)), (AT_FDCWD, a.u(1)), 0)
}

/// Implements Linux `renameat(2)`.
pub fn sys_renameat(p: &mut Process, a: &Args) -> SysResult {
    rename_common(p, (a.i(0), a.u(1)), (a.i(2), a.u(3)), 0)
}

/// Implements Linux `renameat2(2)`.
pub fn sys_renameat2(p: &mut Process, a: &Args) -> SysResult {
    rename_common(p, (a.i(0), a.u(1)), (a.i(2), a.u(3)), a.u32(4))
}

/// rename with what lexical normalisation would hide: a last component of
/// "." or ".." on either side is EBUSY, and a trailing slash needs the source
/// to be a directory (ENOTDIR).
fn rename_common(p: &mut Process, from: (i32, u64), to: (i32, u64), flags: u32) -> SysResult {
    let (raw_from, raw_to) = (read_path(p, from.1)?, read_path(p, to.1)?);
    if dot_last(&raw_from).is_err() || dot_last(&raw_to).is_err() {
        return Err(Errno::EBUSY);
    }
    let (src, src_slash) = resolve_at(p, from.0, &raw_from)?;
    let (dst, dst_slash) = resolve_at(p, to.0, &raw_to)?;
    if src_slash || dst_slash {
        let st = p.vfs.stat(&ProcViewRef(p), &src, true)?;
        if !st.is_dir() {
            return Err(Errno::ENOTDIR);
        }
    }
    p.vfs.rename(&src, &dst, flags).map(|_| 0)
}

/// Implements Linux `link(2)`.
pub fn sys_link(p: &mut Process, a: &Args) -> SysResult {
    let (from, _) = path_at(p, AT_FDCWD, a.u(0))?;
    let (to, _) = path_at(p, AT_FDCWD, a.u(1))?;
    p.vfs.link(&from, &to, false).map(|_| 0)
}

/// Implements Linux `linkat(2)` (AT_SYMLINK_FOLLOW; AT_EMPTY_PATH is refused
/// with ENOENT as for callers without CAP_DAC_READ_SEARCH).
pub fn sys_linkat(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(4);
    if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (from, _) = path_at(p, a.i(0), a.u(1))?;
    let (to, _) = path_at(p, a.i(2), a.u(3))?;
    p.vfs.link(&from, &to, flags & libc::AT_SYMLINK_FOLLOW != 0).map(|_| 0)
}

/// Implements Linux `symlink(2)`.
pub fn sys_symlink(p: &mut Process, a: &Args) -> SysResult {
    let target = read_path(p, a.u(0))?;
    let (abs, _) = path_at(p, AT_FDCWD, a.u(1))?;
    p.vfs.symlink(&target, &abs).map(|_| 0)
}

/// Implements Linux `symlinkat(2)`.
pub fn sys_symlinkat(p: &mut Process, a: &Args) -> SysResult {
    let target = read_path(p, a.u(0))?;
    let (abs, _) = path_at(p, a.i(1), a.u(2))?;
    p.vfs.symlink(&target, &abs).map(|_| 0)
}

/// Implements Linux `chmod(2)`.
pub fn sys_chmod(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    chmod_path(p, &abs, a.u32(1))
}

/// Implements Linux `fchmodat(2)`.
pub fn sys_fchmodat(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, a.i(0), a.u(1))?;
    chmod_path(p, &abs, a.u32(2))
}

/// The open file a `/proc/self/fd/N` path (or the process's own pid in place
/// of `self`) names, as its magic link would reach it.
fn proc_fd_file(p: &Process, abs: &str) -> Option<Arc<crate::vfs::file::OpenFile>> {
    let rest = abs.strip_prefix("/proc/")?;
    let (who, n) = rest.split_once("/fd/")?;
    let own = who == "self" || who == "thread-self" || who.parse::<i32>().is_ok_and(|pid| pid == p.tgid);
    if !own || n.contains('/') {
        return None;
    }
    p.fds.get(n.parse().ok()?).ok()
}

/// chmod of a path; a /proc/self/fd link acts on its open file (musl's
/// fchmod of an O_PATH descriptor goes this way).
fn chmod_path(p: &Process, abs: &str, mode: u32) -> SysResult {
    if let Some(f) = proc_fd_file(p, abs)
        && let Some(r) = f.file.set_mode(mode)
    {
        return r.map(|_| 0);
    }
    p.vfs.chmod(abs, mode).map(|_| 0)
}

/// Implements Linux `fchmod(2)`: on the open file itself when it comes from a
/// mount, otherwise through its guest path.
pub fn sys_fchmod(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    if let Some(r) = f.file.set_mode(a.u32(1)) {
        return r.map(|_| 0);
    }
    p.vfs.chmod(&f.file.path(), a.u32(1)).map(|_| 0)
}

/// Implements Linux `chown(2)`.
pub fn sys_chown(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    p.vfs.chown(&abs, a.u32(1), a.u32(2), false).map(|_| 0)
}

/// Implements Linux `lchown(2)`: a symlink itself.
pub fn sys_lchown(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    p.vfs.chown(&abs, a.u32(1), a.u32(2), true).map(|_| 0)
}

/// Implements Linux `fchown(2)`, as `fchmod`.
pub fn sys_fchown(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    if let Some(r) = f.file.set_owner(a.u32(1), a.u32(2)) {
        return r.map(|_| 0);
    }
    p.vfs.chown(&f.file.path(), a.u32(1), a.u32(2), true).map(|_| 0)
}

/// Implements Linux `fchownat(2)` (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH).
pub fn sys_fchownat(p: &mut Process, a: &Args) -> SysResult {
    let flags = a.i(4);
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(p, a.u(1))?;
    let abs = if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        if a.i(0) == AT_FDCWD { p.fs.cwd() } else { p.fds.get(a.i(0))?.file.path() }
    } else {
        resolve_at(p, a.i(0), &path)?.0
    };
    p.vfs.chown(&abs, a.u32(2), a.u32(3), flags & libc::AT_SYMLINK_NOFOLLOW != 0).map(|_| 0)
}

/// Implements Linux `umask(2)`.
pub fn sys_umask(p: &mut Process, a: &Args) -> SysResult {
    Ok(p.fs.set_umask(a.u32(0) & 0o777) as u64)
}

/// Implements Linux `ftruncate(2)`.
pub fn sys_ftruncate(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    if (a.u(1) as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    f.file.truncate(a.u(1)).map(|_| 0)
}

/// Implements Linux `fallocate(2)` on host files (the mount's quota is charged
/// when the size grows).
pub fn sys_fallocate(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    let (mode, off, len) = (a.i(1), a.u(2) as i64, a.u(3) as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    f.file.allocate(mode, off as u64, len as u64).map(|_| 0)
}

/// Implements Linux `truncate(2)`.
pub fn sys_truncate(p: &mut Process, a: &Args) -> SysResult {
    let (abs, _) = path_at(p, AT_FDCWD, a.u(0))?;
    let f = match p.vfs.open(&ProcViewRef(p), &abs, false, libc::O_WRONLY, 0)? {
        Opened::File(f) => f,
        Opened::Fd(_) => return Err(Errno::EINVAL),
    };
    f.truncate(a.u(1)).map(|_| 0)
}

/// Implements Linux `fsync(2)` and `fdatasync(2)`.
pub fn sys_fsync(p: &mut Process, a: &Args) -> SysResult {
    p.fds.get(a.i(0))?.file.sync().map(|_| 0)
}

/// Implements Linux `dup(2)`.
pub fn sys_dup(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    p.fds.insert(f, false, 0).map(|fd| fd as u64)
}

/// Implements Linux `dup2(2)`.
pub fn sys_dup2(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    if a.i(0) == a.i(1) {
        return Ok(a.i(1) as u64);
    }
    p.fds.insert_at(a.i(1), f, false).map(|_| a.i(1) as u64)
}

/// Implements Linux `dup3(2)`.
pub fn sys_dup3(p: &mut Process, a: &Args) -> SysResult {
    if a.i(0) == a.i(1) || a.i(2) & !libc::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let f = p.fds.get(a.i(0))?.clone();
    p.fds.insert_at(a.i(1), f, a.i(2) & libc::O_CLOEXEC != 0).map(|_| a.i(1) as u64)
}

/// Implements Linux `fcntl(2)` for descriptor and status flags and dup.
pub fn sys_fcntl(p: &mut Process, a: &Args) -> SysResult {
    let fd = a.i(0);
    match a.i(1) {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let f = p.fds.get(fd)?.clone();
            let min = usize::try_from(a.i(2)).map_err(|_| Errno::EINVAL)?;
            p.fds.insert(f, a.i(1) == libc::F_DUPFD_CLOEXEC, min).map(|n| n as u64)
        }
        libc::F_GETFD => Ok(p.fds.cloexec(fd)? as u64),
        libc::F_SETFD => {
            p.fds.set_cloexec(fd, a.u(2) & 1 != 0)?;
            Ok(0)
        }
        libc::F_GETFL => Ok(p.fds.get(fd)?.flags() as u64),
        libc::F_SETFL => {
            let f = p.fds.get(fd)?.clone();
            f.set_flags(a.u32(2));
            if let Some(h) = f.file.host_fd() {
                let cur = crate::host::fcntl_getfl(h)?;
                let settable = libc::O_NONBLOCK | libc::O_APPEND;
                let want = (cur & !settable) | (a.i(2) & settable);
                crate::host::fcntl_setfl(h, want)?;
            }
            Ok(0)
        }
        libc::F_GETLK | libc::F_SETLK | libc::F_SETLKW => record_lock(p, fd, a.i(1), a.u(2)),
        libc::F_OFD_GETLK | libc::F_OFD_SETLK | libc::F_OFD_SETLKW => {
            let f = p.fds.get(fd)?.clone();
            let h = f.file.host_fd().ok_or(Errno::EINVAL)?;
            let mut fl = [0u8; 32];
            p.mm.copy_in(a.u(2), &mut fl)?;
            check_lock_mode(&f, &fl)?;
            super::rw::restartable(p, || crate::host::fcntl_lock(h, a.i(1), &mut fl))?;
            if a.i(1) == libc::F_OFD_GETLK {
                put(p, a.u(2), &fl)?;
            }
            Ok(0)
        }
        libc::F_GETPIPE_SZ | libc::F_SETPIPE_SZ => Err(Errno::EBADF),
        _ => Err(Errno::EINVAL),
    }
}

/// A write lock needs a descriptor open for writing, a read lock one open
/// for reading (EBADF otherwise), as on Linux.
fn check_lock_mode(f: &crate::vfs::file::OpenFile, fl: &[u8; 32]) -> Result<(), Errno> {
    match i16::from_le_bytes([fl[0], fl[1]]) as i32 {
        libc::F_WRLCK if !f.writable() => Err(Errno::EBADF),
        libc::F_RDLCK if !f.readable() => Err(Errno::EBADF),
        libc::F_WRLCK | libc::F_RDLCK | libc::F_UNLCK => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// POSIX record locks (F_GETLK/F_SETLK/F_SETLKW). They belong to a process,
/// not a descriptor: all of a guest process's descriptors of one file share
/// them, and two guest processes conflict. wisp is one host process, so each
/// guest process gets one host descriptor per locked file and takes open file
/// description (OFD) locks on it; closing any descriptor of the file drops
/// that descriptor and so the process's locks on it, as POSIX says.
fn record_lock(p: &mut Process, fd: i32, cmd: i32, ptr: u64) -> SysResult {
    let f = p.fds.get(fd)?.clone();
    let h = f.file.host_fd().ok_or(Errno::EINVAL)?;
    let mut fl = [0u8; 32];
    p.mm.copy_in(ptr, &mut fl)?;
    if cmd != libc::F_GETLK {
        check_lock_mode(&f, &fl)?;
    }
    let lock_fd = p.record_lock_fd(h)?;
    // OFD locks require l_pid == 0 on the way in.
    fl[24..28].copy_from_slice(&0i32.to_le_bytes());
    let ofd = match cmd {
        libc::F_GETLK => libc::F_OFD_GETLK,
        libc::F_SETLK => libc::F_OFD_SETLK,
        _ => libc::F_OFD_SETLKW,
    };
    let r = super::rw::restartable(p, || crate::host::fcntl_lock(std::os::fd::AsFd::as_fd(&*lock_fd), ofd, &mut fl));
    match r {
        // A conflicting lock held elsewhere: Linux says EAGAIN or EACCES; EAGAIN.
        Err(Errno::EAGAIN) | Err(Errno::EACCES) => return Err(Errno::EAGAIN),
        r => r?,
    };
    if cmd == libc::F_GETLK {
        put(p, ptr, &fl)?;
    }
    Ok(0)
}

/// Implements Linux `flock(2)` with the host's flock on the same open file
/// description (flock locks belong to open file descriptions, as here).
pub fn sys_flock(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    let op = a.i(1);
    if op & !(libc::LOCK_SH | libc::LOCK_EX | libc::LOCK_UN | libc::LOCK_NB) != 0
        || [libc::LOCK_SH, libc::LOCK_EX, libc::LOCK_UN].iter().filter(|k| op & **k != 0).count() != 1
    {
        return Err(Errno::EINVAL);
    }
    let h = f.file.host_fd().ok_or(Errno::EINVAL)?;
    super::rw::restartable(p, || crate::host::flock_op(h, op)).map(|_| 0)
}

/// Implements Linux `ioctl(2)` for terminal queries and FIONBIO/FIOCLEX.
pub fn sys_ioctl(p: &mut Process, a: &Args) -> SysResult {
    let f = p.fds.get(a.i(0))?.clone();
    let req = a.u(1) & 0xffff_ffff;
    match req {
        0x5451 => {
            // FIOCLEX
            p.fds.set_cloexec(a.i(0), true)?;
            return Ok(0);
        }
        0x5450 => {
            p.fds.set_cloexec(a.i(0), false)?;
            return Ok(0);
        }
        0x5421 => {
            // FIONBIO
            let mut v = [0u8; 4];
            p.mm.copy_in(a.u(2), &mut v)?;
            let on = i32::from_le_bytes(v) != 0;
            let fl = f.flags();
            f.set_flags(if on { fl | libc::O_NONBLOCK as u32 } else { fl & !(libc::O_NONBLOCK as u32) });
            // As F_SETFL: a host-backed file's blocking is its host descriptor's.
            if let Some(h) = f.file.host_fd() {
                let cur = crate::host::fcntl_getfl(h)?;
                let want = if on { cur | libc::O_NONBLOCK } else { cur & !libc::O_NONBLOCK };
                crate::host::fcntl_setfl(h, want)?;
            }
            return Ok(0);
        }
        _ => {}
    }
    let Some(size) = crate::vfs::hostfs::tty_ioctl_size(req) else {
        return Err(Errno::ENOTTY);
    };
    let mut arg = vec![0u8; size];
    let r = f.file.ioctl(req, &mut arg)?;
    p.mm.copy_out(a.u(2), &arg)?;
    Ok(r)
}

/// Implements Linux `statfs(2)` and `fstatfs(2)` with fixed answers.
pub fn sys_statfs(p: &mut Process, a: &Args) -> SysResult {
    let mut b = [0u8; 120];
    b[0..8].copy_from_slice(&0xef53u64.to_le_bytes()); // ext4
    b[8..16].copy_from_slice(&4096u64.to_le_bytes());
    b[16..24].copy_from_slice(&(1u64 << 20).to_le_bytes());
    b[64..72].copy_from_slice(&255u64.to_le_bytes());
    b[72..80].copy_from_slice(&4096u64.to_le_bytes());
    put(p, a.u(1), &b)
}

/// UTIME_NOW and UTIME_OMIT, as tv_nsec values.
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn set_times(p: &mut Process, dirfd: i32, path_ptr: u64, times: Option<[libc::timespec; 2]>, flags: i32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(t) = &times {
        for ts in t {
            if !(0..1_000_000_000).contains(&ts.tv_nsec) && ts.tv_nsec != UTIME_NOW && ts.tv_nsec != UTIME_OMIT {
                return Err(Errno::EINVAL);
            }
        }
    }
    let path = if path_ptr == 0 { Vec::new() } else { read_path(p, path_ptr)? };
    if path.is_empty() {
        // futimens: the descriptor itself.
        let f = p.fds.get(dirfd)?;
        let h = f.file.host_fd().ok_or(Errno::EPERM)?;
        return crate::host::futimens(h, times.as_ref()).map(|_| 0);
    }
    let (abs, _) = resolve_at(p, dirfd, &path)?;
    p.vfs.utimes(&abs, times.as_ref(), flags & AT_SYMLINK_NOFOLLOW != 0).map(|_| 0)
}

fn read_times(p: &Process, ptr: u64, micros: bool) -> Result<Option<[libc::timespec; 2]>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 32];
    p.mm.copy_in(ptr, &mut b)?;
    let w = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let scale = if micros { 1000 } else { 1 };
    if micros && (!(0..1_000_000).contains(&w(8)) || !(0..1_000_000).contains(&w(24))) {
        return Err(Errno::EINVAL);
    }
    Ok(Some([
        libc::timespec { tv_sec: w(0), tv_nsec: w(8) * scale },
        libc::timespec { tv_sec: w(16), tv_nsec: w(24) * scale },
    ]))
}

/// Implements Linux `utimensat(2)` (and futimens through a null path).
pub fn sys_utimensat(p: &mut Process, a: &Args) -> SysResult {
    let times = read_times(p, a.u(2), false)?;
    set_times(p, a.i(0), a.u(1), times, a.i(3))
}

/// Implements Linux `utimes(2)`.
pub fn sys_utimes(p: &mut Process, a: &Args) -> SysResult {
    let times = read_times(p, a.u(1), true)?;
    set_times(p, AT_FDCWD, a.u(0), times, 0)
}

/// Implements Linux `utime(2)` (whole seconds).
pub fn sys_utime(p: &mut Process, a: &Args) -> SysResult {
    let times = if a.u(1) == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        p.mm.copy_in(a.u(1), &mut b)?;
        let w = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        Some([libc::timespec { tv_sec: w(0), tv_nsec: 0 }, libc::timespec { tv_sec: w(8), tv_nsec: 0 }])
    };
    set_times(p, AT_FDCWD, a.u(0), times, 0)
}

/// Implements the xattr family: no extended attributes exist.
pub fn sys_xattr(_p: &mut Process, _a: &Args) -> SysResult {
    Err(Errno::EOPNOTSUPP)
}

/// Implements Linux `fadvise64(2)`: advice is accepted and ignored.
pub fn sys_fadvise(p: &mut Process, a: &Args) -> SysResult {
    p.fds.get(a.i(0)).map(|_| 0)
}

fn pipe_common(p: &mut Process, fds_ptr: u64, flags: i32) -> SysResult {
    if flags & !(libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    if !p.mm.accessible(fds_ptr, 8, true) {
        return Err(Errno::EFAULT);
    }
    let (r, w) = crate::host::pipe(flags & (libc::O_NONBLOCK | libc::O_DIRECT))?;
    let ino = crate::host::fstat(std::os::fd::AsFd::as_fd(&r)).map(|s| s.st_ino).unwrap_or(0);
    let name = format!("pipe:[{ino}]");
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let status = (flags & libc::O_NONBLOCK) as u32;
    let rf = Arc::new(OpenFile::new(
        Box::new(crate::vfs::hostfs::HostFile::from_fd(r, name.clone())),
        libc::O_RDONLY as u32 | status,
    ));
    let wf = Arc::new(OpenFile::new(
        Box::new(crate::vfs::hostfs::HostFile::from_fd(w, name)),
        libc::O_WRONLY as u32 | status,
    ));
    let rfd = p.fds.insert(rf, cloexec, 0)?;
    let wfd = match p.fds.insert(wf, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = p.fds.remove(rfd);
            return Err(e);
        }
    };
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&rfd.to_le_bytes());
    b[4..].copy_from_slice(&wfd.to_le_bytes());
    put(p, fds_ptr, &b)
}

/// Implements Linux `pipe(2)` inside one process (a host pipe; writes that
/// would fill it with no reader left to drain it block, as on Linux).
pub fn sys_pipe(p: &mut Process, a: &Args) -> SysResult {
    pipe_common(p, a.u(0), 0)
}

/// Implements Linux `pipe2(2)`.
pub fn sys_pipe2(p: &mut Process, a: &Args) -> SysResult {
    pipe_common(p, a.u(0), a.i(1))
}
