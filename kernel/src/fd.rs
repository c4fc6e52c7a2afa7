//! The descriptor table. Threads of a process share one table (through clones
//! of the same handle); fork gives the child a copy.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::Errno;
use crate::vfs::file::OpenFile;

/// Default RLIMIT_NOFILE.
pub const NOFILE: usize = 1024;

#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

#[derive(Default)]
pub struct FdTable {
    slots: Arc<Mutex<Vec<Option<FdEntry>>>>,
}

fn index(fd: i32) -> Result<usize, Errno> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

impl FdTable {
    fn lock(&self) -> MutexGuard<'_, Vec<Option<FdEntry>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Another handle on the same table (a new thread).
    pub fn share(&self) -> FdTable {
        FdTable { slots: self.slots.clone() }
    }

    /// A copy of the table (fork): same open files, separate descriptors.
    pub fn duplicate(&self) -> FdTable {
        FdTable { slots: Arc::new(Mutex::new(self.lock().clone())) }
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let i = index(fd)?;
        self.lock().get(i).and_then(|s| s.as_ref()).map(|e| e.file.clone()).ok_or(Errno::EBADF)
    }

    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        let i = index(fd)?;
        self.lock().get(i).and_then(|s| s.as_ref()).map(|e| e.cloexec).ok_or(Errno::EBADF)
    }

    pub fn set_cloexec(&self, fd: i32, on: bool) -> Result<(), Errno> {
        let i = index(fd)?;
        let mut t = self.lock();
        let e = t.get_mut(i).and_then(|s| s.as_mut()).ok_or(Errno::EBADF)?;
        e.cloexec = on;
        Ok(())
    }

    /// Installs `file` at the lowest free descriptor >= `min`.
    pub fn insert(&self, file: Arc<OpenFile>, cloexec: bool, min: usize) -> Result<i32, Errno> {
        if min >= NOFILE {
            return Err(Errno::EINVAL);
        }
        let mut t = self.lock();
        let free = (min..NOFILE).find(|i| t.get(*i).is_none_or(|s| s.is_none())).ok_or(Errno::EMFILE)?;
        install(&mut t, free, file, cloexec);
        Ok(free as i32)
    }

    /// Installs `file` at exactly `fd`, replacing what was there.
    pub fn insert_at(&self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> Result<(), Errno> {
        let i = index(fd)?;
        if i >= NOFILE {
            return Err(Errno::EBADF);
        }
        let old = {
            let mut t = self.lock();
            let old = t.get_mut(i).and_then(|s| s.take());
            install(&mut t, i, file, cloexec);
            old
        };
        // The replaced file closes outside the lock.
        drop(old);
        Ok(())
    }

    pub fn remove(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let i = index(fd)?;
        let taken = self.lock().get_mut(i).and_then(|s| s.take());
        taken.map(|e| e.file).ok_or(Errno::EBADF)
    }

    /// Closes every descriptor marked close-on-exec.
    pub fn close_on_exec(&self) {
        let closed: Vec<FdEntry> = {
            let mut t = self.lock();
            t.iter_mut().filter(|s| s.as_ref().is_some_and(|e| e.cloexec)).filter_map(|s| s.take()).collect()
        };
        drop(closed);
    }

    /// The open descriptors, in order.
    pub fn list(&self) -> Vec<(i32, FdEntry)> {
        self.lock().iter().enumerate().filter_map(|(i, s)| s.clone().map(|e| (i as i32, e))).collect()
    }
}

fn install(t: &mut Vec<Option<FdEntry>>, i: usize, file: Arc<OpenFile>, cloexec: bool) {
    if t.len() <= i {
        t.resize(i + 1, None);
    }
    t[i] = Some(FdEntry { file, cloexec });
}
