//! The state directory: images, layers, volumes and named writable layers.
//!
//! `--state DIR`, else `WISP_STATE`, else /var/lib/wisp as root and
//! `$XDG_DATA_HOME/wisp` (or ~/.local/share/wisp) otherwise. The daemon uses
//! the same directory.

use std::path::{Path, PathBuf};

pub struct State {
    root: PathBuf,
    /// Where images and their layers live: the root itself, or for a cloud's
    /// state the host-wide state directory it sits in.
    shared: PathBuf,
}

impl State {
    /// Finds (and creates, mode 0700) the state directory.
    pub fn open(flag: Option<&Path>) -> Result<State, String> {
        let root = match flag {
            Some(p) => p.to_path_buf(),
            None => default_dir()?,
        };
        for sub in ["", "volumes", "images", "layers", "rootfs", "tmp"] {
            let d = root.join(sub);
            if let Err(e) = std::fs::create_dir_all(&d) {
                return Err(format!("state directory {}: {e}", d.display()));
            }
        }
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700));
        let root = root.canonicalize().map_err(|e| format!("state directory {}: {e}", root.display()))?;
        Ok(State { shared: root.clone(), root })
    }

    /// A cloud's own state under this one (`clouds/ID`): its volumes,
    /// writable layers and scratch space, with the host-wide images.
    pub fn cloud(&self, id: &str) -> Result<State, String> {
        check_name("cloud", id)?;
        let root = self.root.join("clouds").join(id);
        for sub in CLOUD_DIRS {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| format!("cloud state {}: {e}", d.display()))?;
        }
        Ok(State { root, shared: self.shared.clone() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }

    pub fn images(&self) -> PathBuf {
        self.shared.join("images")
    }

    pub fn layers(&self) -> PathBuf {
        self.shared.join("layers")
    }

    /// Named writable layers of machines run without `--rm`.
    pub fn rootfs(&self) -> PathBuf {
        self.root.join("rootfs")
    }

    /// A cloud's directories made ahead of need (by a warm cloud host), with
    /// `files` (empty) and `scratch` (mode 1777) directories in tmp/, under
    /// warm/ until `adopt` moves them into place with one rename. Making
    /// files is slow on some disks (0.1-0.4 ms each on the host of
    /// docs/control.md), and a cloud's first machine would wait for them.
    pub fn skeleton(&self, files: &[&str], scratch: &[&str]) -> Result<Skeleton, String> {
        let path = self.root.join("warm").join(format!("{}-{}", std::process::id(), random_hex(6)));
        let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
        std::fs::create_dir_all(&path).map_err(|e| io(&path, e))?;
        // Removed again (Drop) if anything below fails.
        let mut made = Skeleton { path, scratch: Vec::new() };
        for sub in CLOUD_DIRS.iter().filter(|s| !s.is_empty()) {
            let d = made.path.join(sub);
            std::fs::create_dir(&d).map_err(|e| io(&d, e))?;
        }
        for f in files {
            let p = made.path.join(f);
            std::fs::OpenOptions::new().create_new(true).append(true).open(&p).map_err(|e| io(&p, e))?;
        }
        for purpose in scratch {
            use std::os::unix::fs::PermissionsExt;
            let name = format!("wisp-{purpose}-{}-{}", std::process::id(), random_hex(12));
            let d = made.path.join("tmp").join(&name);
            std::fs::create_dir(&d).map_err(|e| io(&d, e))?;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).map_err(|e| io(&d, e))?;
            made.scratch.push((purpose.to_string(), name));
        }
        Ok(made)
    }

    /// Moves `skeleton` into place as cloud `id`'s directory and gives its
    /// scratch directories (purpose, path); None when the cloud has a
    /// directory already (the skeleton is removed then).
    pub fn adopt(&self, mut skeleton: Skeleton, id: &str) -> Option<Vec<(String, PathBuf)>> {
        check_name("cloud", id).ok()?;
        let root = self.root.join("clouds").join(id);
        std::fs::create_dir_all(self.root.join("clouds")).ok()?;
        // Not over a directory that exists (rename would replace an empty one).
        if root.symlink_metadata().is_ok() || std::fs::rename(&skeleton.path, &root).is_err() {
            return None;
        }
        skeleton.path = PathBuf::new();
        let scratch = std::mem::take(&mut skeleton.scratch);
        Some(scratch.into_iter().map(|(purpose, name)| (purpose, root.join("tmp").join(name))).collect())
    }

    /// Scratch space on the same filesystem (imports in progress, `--rm` layers).
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh directory under tmp/, named `purpose-<random>`.
    pub fn scratch(&self, purpose: &str) -> Result<PathBuf, String> {
        let dir = self.tmp().join(format!("{purpose}-{}", random_hex(8)));
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }
}

/// The directories of a cloud's own state ("" is the cloud's directory).
const CLOUD_DIRS: [&str; 5] = ["", "volumes", "rootfs", "tmp", "logs"];

/// See `State::skeleton`; removed when dropped unless adopted.
pub struct Skeleton {
    path: PathBuf,
    /// (purpose, directory name in tmp/)
    scratch: Vec<(String, String)>,
}

impl Drop for Skeleton {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn default_dir() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("WISP_STATE").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if wisp_kernel::host::ids().0 == 0 {
        return Ok(PathBuf::from("/var/lib/wisp"));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("wisp"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/wisp")),
        None => Err("no state directory: pass --state DIR or set WISP_STATE".into()),
    }
}

/// Removes each name with `remove`, printing the names removed and the errors;
/// fails (with an empty message, already reported) if any failed.
pub fn remove_each(names: &[String], remove: impl Fn(&str) -> Result<(), String>) -> Result<(), String> {
    let mut failed = false;
    for n in names {
        match remove(n) {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("wisp: {e}");
                failed = true;
            }
        }
    }
    if failed { Err(String::new()) } else { Ok(()) }
}

/// The exit status of a subcommand, printing its error (unless already printed).
pub fn exit_status(r: Result<(), String>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) if e.is_empty() => 1,
        Err(e) => {
            eprintln!("wisp: {e}");
            1
        }
    }
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    let _ = wisp_kernel::host::getrandom(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Names of volumes, images and layers: 1-64 characters of [A-Za-z0-9_.-],
/// starting with a letter or digit.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!("{kind} name {name:?}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"))
    }
}

/// Total logical size of the regular files under `dir` (symlinks not followed).
pub fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let Ok(md) = e.path().symlink_metadata() else { continue };
            if md.is_dir() {
                stack.push(e.path());
            } else if md.is_file() {
                total += md.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("volume", "db-1.data_x").is_ok());
        for bad in ["", "-x", ".x", "a/b", "a b", "..", &"x".repeat(65)] {
            assert!(check_name("volume", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tree_bytes_counts_files() {
        let d = std::env::temp_dir().join(format!("wisp-state-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a"), [0u8; 100]).unwrap();
        std::fs::write(d.join("sub/b"), [0u8; 50]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("l")).unwrap();
        assert_eq!(tree_bytes(&d), 150);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_skeleton_becomes_a_cloud_directory_once_and_never_over_one() {
        use std::os::unix::fs::PermissionsExt;
        let d = std::env::temp_dir().join(format!("wisp-skeleton-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let st = State::open(Some(&d)).unwrap();
        let sk = st.skeleton(&["host.log"], &["tmp", "shm"]).unwrap();
        let made = sk.path.clone();
        assert!(made.starts_with(st.root().join("warm")));
        let scratch = st.adopt(sk, "c1").expect("adopted");
        assert!(!made.exists(), "moved, not copied");
        let cloud = st.root().join("clouds/c1");
        for sub in CLOUD_DIRS {
            assert!(cloud.join(sub).is_dir(), "{sub}");
        }
        assert!(cloud.join("host.log").is_file());
        assert_eq!(scratch.len(), 2);
        for (purpose, dir) in &scratch {
            assert!(["tmp", "shm"].contains(&purpose.as_str()));
            assert_eq!(dir.parent(), Some(cloud.join("tmp").as_path()));
            assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o7777, 0o1777, "{}", dir.display());
        }
        // A second one finds the directory there: refused, and removed.
        std::fs::write(cloud.join("logs/keep.log"), b"kept").unwrap();
        let sk = st.skeleton(&[], &["tmp"]).unwrap();
        let made = sk.path.clone();
        assert!(st.adopt(sk, "c1").is_none());
        assert!(!made.exists());
        assert_eq!(std::fs::read(cloud.join("logs/keep.log")).unwrap(), b"kept");
        // Nor under a bad name; one never adopted is removed when dropped.
        assert!(st.adopt(st.skeleton(&[], &[]).unwrap(), "../x").is_none());
        drop(st.skeleton(&[], &[]).unwrap());
        assert_eq!(std::fs::read_dir(st.root().join("warm")).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&d);
    }
}
