//! `wisp volume`: host storage that outlives every machine.
//!
//! A volume is `volumes/NAME/` in the state directory: `data/` is the tree
//! the guest sees, `volume` records its size limit. Creation and removal are
//! atomic renames, so a crash never leaves half a volume. A machine using a
//! volume holds a shared lock on it; `rm` takes it exclusively, so a volume in
//! use is never removed.

use std::fs::File;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::state::{State, check_name, random_hex, tree_bytes};
use crate::units::{format_size, parse_size};

#[derive(Args, Debug)]
pub struct VolumeArgs {
    #[command(subcommand)]
    command: VolumeCommand,
}

#[derive(Subcommand, Debug)]
enum VolumeCommand {
    /// Create a volume.
    Create {
        /// Volume name (letters, digits, '_', '.', '-').
        name: String,
        /// Most bytes its files may hold (e.g. 100M, 10G); past it writes fail with ENOSPC.
        #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1G")]
        size: u64,
    },
    /// List volumes with their size limit and use.
    Ls,
    /// Remove volumes and everything in them.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// A volume opened for a machine: its data directory, limit and the usage
/// counter it shares with every other machine using it, locked against
/// removal while the machine runs.
pub struct Attached {
    pub data: PathBuf,
    pub quota: std::sync::Arc<wisp_kernel::vfs::hostfs::Quota>,
    _lock: File,
}

fn dir(state: &State, name: &str) -> PathBuf {
    state.volumes().join(name)
}

fn read_size(dir: &std::path::Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(dir.join("volume")).map_err(|e| format!("{}: {e}", dir.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("size "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("{}: no size in its volume file", dir.display()))
}

fn lock(dir: &std::path::Path, exclusive: bool) -> Result<Option<File>, String> {
    let f = File::open(dir.join("volume")).map_err(|e| format!("{}: {e}", dir.display()))?;
    match wisp_kernel::host::flock(&f, exclusive) {
        Ok(true) => Ok(Some(f)),
        Ok(false) => Ok(None),
        Err(e) => Err(format!("{}: lock: {e:?}", dir.display())),
    }
}

/// Opens volume `name` for a machine.
pub fn attach(state: &State, name: &str) -> Result<Attached, String> {
    check_name("volume", name)?;
    let d = dir(state, name);
    if !d.is_dir() {
        return Err(format!("no volume named {name} (create it with `wisp volume create {name}`)"));
    }
    let size = read_size(&d)?;
    let counter =
        wisp_kernel::host::SharedCounter::open(&d.join("usage")).map_err(|e| format!("volume {name}: {e}"))?;
    // The first machine to attach (it can lock the volume alone) counts the
    // files afresh, which also corrects drift left by a killed machine; then
    // every machine holds a shared lock while it runs.
    let f = File::open(d.join("volume")).map_err(|e| format!("volume {name}: {e}"))?;
    if wisp_kernel::host::flock(&f, true) == Ok(true) {
        counter.get().store(tree_bytes(&d.join("data")), std::sync::atomic::Ordering::SeqCst);
    }
    let held = (0..200).any(|_| {
        wisp_kernel::host::flock(&f, false) == Ok(true) || {
            std::thread::sleep(std::time::Duration::from_millis(5));
            false
        }
    });
    if !held {
        return Err(format!("volume {name} is being removed"));
    }
    let quota = wisp_kernel::vfs::hostfs::Quota::shared(size, counter);
    Ok(Attached { data: d.join("data"), quota, _lock: f })
}

pub fn create(state: &State, name: &str, size: u64) -> Result<(), String> {
    check_name("volume", name)?;
    if size == 0 {
        return Err("--size must be more than 0".into());
    }
    let target = dir(state, name);
    if target.exists() {
        return Err(format!("volume {name} already exists"));
    }
    let tmp = state.scratch("volume")?;
    let made = std::fs::create_dir(tmp.join("data"))
        .and_then(|_| std::fs::write(tmp.join("volume"), format!("size {size}\n")))
        .map_err(|e| format!("creating volume {name}: {e}"))
        .and_then(|_| {
            // rename(2) onto a non-empty directory fails: a racing create loses.
            std::fs::rename(&tmp, &target).map_err(|_| format!("volume {name} already exists"))
        });
    if made.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    made
}

pub fn remove(state: &State, name: &str) -> Result<(), String> {
    check_name("volume", name)?;
    let d = dir(state, name);
    if !d.is_dir() {
        return Err(format!("no volume named {name}"));
    }
    let Some(_held) = lock(&d, true)? else {
        return Err(format!("volume {name} is in use by a running machine"));
    };
    let gone = state.tmp().join(format!("rm-{name}-{}", random_hex(4)));
    std::fs::rename(&d, &gone).map_err(|e| format!("removing volume {name}: {e}"))?;
    std::fs::remove_dir_all(&gone).map_err(|e| format!("removing volume {name}: {e}"))
}

fn list(state: &State) -> Result<Vec<(String, u64, u64)>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(state.volumes()).map_err(|e| format!("{}: {e}", state.volumes().display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(size) = read_size(&e.path()) {
            out.push((name, size, tree_bytes(&e.path().join("data"))));
        }
    }
    out.sort();
    Ok(out)
}

pub fn main(state: Option<&std::path::Path>, args: VolumeArgs) -> i32 {
    let r = State::open(state).and_then(|state| match args.command {
        VolumeCommand::Create { name, size } => create(&state, &name, size).map(|_| println!("{name}")),
        VolumeCommand::Ls => list(&state).map(|vols| {
            println!("{:<24} {:>10} {:>10}", "NAME", "SIZE", "USED");
            for (n, size, used) in vols {
                println!("{n:<24} {:>10} {:>10}", format_size(size), format_size(used));
            }
        }),
        VolumeCommand::Rm { names } => crate::state::remove_each(&names, |n| remove(&state, n)),
    });
    crate::state::exit_status(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_attach_and_remove() {
        let root = std::env::temp_dir().join(format!("wisp-vol-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let state = State::open(Some(&root)).unwrap();
        create(&state, "db", 4096).unwrap();
        assert!(create(&state, "db", 4096).unwrap_err().contains("already exists"));
        assert!(create(&state, "../x", 4096).is_err());
        let a = attach(&state, "db").unwrap();
        assert_eq!(read_size(&dir(&state, "db")), Ok(4096));
        std::fs::write(a.data.join("f"), [0u8; 100]).unwrap();
        let b = attach(&state, "db").unwrap();
        assert_eq!(b.quota.used(), 0, "a second machine shares the count, it does not recount");
        drop(b);
        drop(a);
        let a = attach(&state, "db").unwrap();
        assert_eq!(a.quota.used(), 100, "the first to attach recounts");
        assert!(a.data.is_dir());
        assert!(remove(&state, "db").unwrap_err().contains("in use"), "attached volumes stay");
        drop(a);
        remove(&state, "db").unwrap();
        assert!(attach(&state, "db").map(|_| ()).unwrap_err().contains("no volume"));
        assert_eq!(std::fs::read_dir(state.tmp()).unwrap().count(), 0, "no scratch left behind");
        let _ = std::fs::remove_dir_all(&root);
    }
}
