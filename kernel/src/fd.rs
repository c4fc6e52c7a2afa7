//! The descriptor table.

use std::sync::Arc;

use crate::errno::Errno;
use crate::vfs::file::OpenFile;

/// Default RLIMIT_NOFILE.
pub const NOFILE: usize = 1024;

#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

impl FdTable {
    pub fn get(&self, fd: i32) -> Result<&Arc<OpenFile>, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        self.slots.get(i).and_then(|s| s.as_ref()).map(|e| &e.file).ok_or(Errno::EBADF)
    }

    pub fn entry_mut(&mut self, fd: i32) -> Result<&mut FdEntry, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        self.slots.get_mut(i).and_then(|s| s.as_mut()).ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor >= `min`.
    pub fn insert(&mut self, file: Arc<OpenFile>, cloexec: bool, min: usize) -> Result<i32, Errno> {
        if min >= NOFILE {
            return Err(Errno::EINVAL);
        }
        let free = (min..NOFILE).find(|i| self.slots.get(*i).is_none_or(|s| s.is_none())).ok_or(Errno::EMFILE)?;
        self.install(free, file, cloexec);
        Ok(free as i32)
    }

    /// Installs `file` at exactly `fd`, replacing what was there.
    pub fn insert_at(&mut self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if i >= NOFILE {
            return Err(Errno::EBADF);
        }
        self.install(i, file, cloexec);
        Ok(())
    }

    fn install(&mut self, i: usize, file: Arc<OpenFile>, cloexec: bool) {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(FdEntry { file, cloexec });
    }

    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        self.slots.get_mut(i).and_then(|s| s.take()).map(|e| e.file).ok_or(Errno::EBADF)
    }

    /// Closes every descriptor marked close-on-exec.
    pub fn close_on_exec(&mut self) {
        for s in self.slots.iter_mut() {
            if s.as_ref().is_some_and(|e| e.cloexec) {
                *s = None;
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|e| (i as i32, e)))
    }
}
