//! A machine's layered root: an image's read-only layers under a private
//! writable layer, joined by the host kernel's overlayfs in a mount namespace
//! of wisp's own (so the mount is invisible to the host and goes with wisp).
//!
//! With `--rm` the writable layer lives in the state directory's scratch
//! space and is deleted on exit. Otherwise it is `rootfs/NAME/` (`upper/`,
//! `work/`, and `image` naming the image it sits on) and the next run with
//! `--name NAME` continues from it. One machine at a time may use a layer.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::image::{read_image, remove_tree};
use crate::state::{State, check_name, random_hex};

pub struct LayeredRoot {
    /// Where the merged tree is mounted: the machine's `/`.
    pub merged: PathBuf,
    /// The writable layer's files.
    pub upper: PathBuf,
    scratch: PathBuf,
    mounted: bool,
    /// The kept layer's name, and whether this run created it.
    pub kept: Option<(String, bool)>,
    _locks: Vec<File>,
}

fn lock(path: &Path, exclusive: bool) -> Result<Option<File>, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match wisp_kernel::host::flock(&f, exclusive) {
        Ok(true) => Ok(Some(f)),
        Ok(false) => Ok(None),
        Err(e) => Err(format!("{}: lock: {e:?}", path.display())),
    }
}

/// Mounts image `image` with a writable layer: a scratch one with `discard`,
/// else the layer called `name` (made if new, with a generated name if None).
pub fn prepare(state: &State, image: &str, discard: bool, name: Option<&str>) -> Result<LayeredRoot, String> {
    let img = read_image(state, image)?;
    let mut locks = Vec::new();
    for l in &img.layers {
        locks.push(lock(&state.layers().join(l), false)?.ok_or_else(|| format!("layer {l} is being removed"))?);
    }
    let scratch = state.scratch("root")?;
    let mut root = LayeredRoot {
        merged: scratch.join("merged"),
        upper: PathBuf::new(),
        scratch,
        mounted: false,
        kept: None,
        _locks: locks,
    };
    let layer_dir = if discard {
        root.scratch.clone()
    } else {
        let name = match name {
            Some(n) => n.to_string(),
            None => format!("{image}-{}", random_hex(4)),
        };
        check_name("machine", &name)?;
        let dir = state.rootfs().join(&name);
        let fresh = !dir.exists();
        if fresh {
            std::fs::create_dir(&dir).map_err(|e| format!("writable layer {name}: {e}"))?;
            std::fs::write(dir.join("image"), format!("{image}\n"))
                .map_err(|e| format!("writable layer {name}: {e}"))?;
        } else {
            let on = std::fs::read_to_string(dir.join("image")).unwrap_or_default();
            if on.trim() != image {
                return Err(format!("writable layer {name} belongs to image {:?}, not {image}", on.trim()));
            }
        }
        root._locks
            .push(lock(&dir, true)?.ok_or_else(|| format!("writable layer {name} is in use by another machine"))?);
        root.kept = Some((name, fresh));
        dir
    };
    let (upper, work) = (layer_dir.join("upper"), layer_dir.join("work"));
    root.upper = upper.clone();
    for d in [&upper, &work, &root.merged] {
        if !d.is_dir() {
            std::fs::create_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
    }
    // The top layer is listed first.
    let lowers: Vec<PathBuf> = img.layers.iter().rev().map(|l| state.layers().join(l)).collect();
    let lower_refs: Vec<&Path> = lowers.iter().map(|p| p.as_path()).collect();
    crate::mounter::overlay(&lower_refs, &upper, &work, &root.merged)
        .map_err(|e| format!("cannot mount the layered root (overlayfs): {e}"))?;
    root.mounted = true;
    Ok(root)
}

impl LayeredRoot {
    /// Writes /etc/hostname, /etc/hosts and /etc/resolv.conf for this machine
    /// into its writable layer (when the image has an /etc).
    pub fn synthesize_etc(&self, hostname: &str) -> Result<(), String> {
        let etc = self.merged.join("etc");
        if !etc.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            return Ok(());
        }
        let files = [
            ("hostname", format!("{hostname}\n")),
            (
                "hosts",
                format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"),
            ),
            ("resolv.conf", "# written by wisp: a machine off any network has no DNS\nsearch internal\n".to_string()),
        ];
        for (f, text) in files {
            let p = etc.join(f);
            // Never write through a symlink the image planted.
            if p.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(&p).map_err(|e| format!("/etc/{f}: {e}"))?;
            }
            std::fs::write(&p, text).map_err(|e| format!("/etc/{f}: {e}"))?;
        }
        Ok(())
    }
}

/// The files every machine gets its own copy of: (name under /etc, content).
pub fn etc_files(hostname: &str) -> [(&'static str, String); 3] {
    [
        ("hostname", format!("{hostname}\n")),
        ("hosts", format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n")),
        ("resolv.conf", "# written by wisp: a machine off any network has no DNS\nsearch internal\n".to_string()),
    ]
}

impl Drop for LayeredRoot {
    fn drop(&mut self) {
        // Unmount before deleting anything: deleting through the mount would
        // record whiteouts in a kept layer.
        if self.mounted && crate::mounter::umount(&self.merged).is_err() {
            return;
        }
        let _ = std::fs::remove_dir(&self.merged);
        let _ = remove_tree(&self.scratch);
    }
}
