//! `wisp image`: a local image store, content-addressed and deduplicated.
//!
//! A layer is a directory tree under `layers/sha256-HEX`, named by the digest
//! of its contents (paths, types, modes, owners, file contents and link
//! targets), so importing the same tree twice stores it once. An image is a
//! file `images/NAME` listing its layers, bottom first. Machines hold a shared
//! lock on the layers they run from; removing an image deletes the layers no
//! image refers to and no machine holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};

use crate::progress::Progress;
use crate::state::{State, check_name, random_hex, tree_bytes};
use crate::units::format_size;

#[derive(Args, Debug)]
pub struct ImageArgs {
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(Subcommand, Debug)]
enum ImageCommand {
    /// Import a directory tree, or with --oci an OCI image layout or
    /// docker-save tarball, as an image.
    Import {
        /// The directory (or, with --oci, the tarball or OCI layout directory).
        source: PathBuf,
        /// Image name [default: the source's base name].
        #[arg(long)]
        name: Option<String>,
        /// The source is an OCI image layout or a `docker save` tarball: its
        /// layers are applied in order, whiteouts included.
        #[arg(long)]
        oci: bool,
    },
    /// Build an image with Debian's debootstrap (needs debootstrap and a
    /// Debian mirror; run as root).
    Build {
        /// Debian suite, e.g. bookworm.
        #[arg(long, value_name = "SUITE")]
        debootstrap: String,
        /// Extra packages, comma separated.
        #[arg(long, value_name = "PKG,...")]
        include: Option<String>,
        /// Image name [default: the suite].
        #[arg(long)]
        name: Option<String>,
        /// Mirror URL [default: debootstrap's].
        #[arg(long)]
        mirror: Option<String>,
    },
    /// List images.
    Ls,
    /// Remove images (and the layers nothing else uses).
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// An image: its layers, bottom first.
#[derive(Debug)]
pub struct Image {
    pub layers: Vec<String>,
    pub created: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn read_image(state: &State, name: &str) -> Result<Image, String> {
    check_name("image", name)?;
    let path = state.images().join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no image named {name} (see `wisp image ls`)"),
        _ => format!("{}: {e}", path.display()),
    })?;
    let mut img = Image { layers: Vec::new(), created: 0 };
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("layer", l)) if l.starts_with("sha256-") && state.layers().join(l).is_dir() => {
                img.layers.push(l.to_string())
            }
            Some(("layer", l)) => return Err(format!("image {name}: layer {l} is missing")),
            Some(("created", t)) => img.created = t.parse().unwrap_or(0),
            _ => {}
        }
    }
    if img.layers.is_empty() {
        return Err(format!("image {name} has no layers"));
    }
    Ok(img)
}

fn write_image(state: &State, name: &str, img: &Image) -> Result<(), String> {
    let mut text = format!("created {}\n", img.created);
    for l in &img.layers {
        text.push_str(&format!("layer {l}\n"));
    }
    let tmp = state.tmp().join(format!("image-{}", random_hex(6)));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, state.images().join(name)).map_err(|e| format!("saving image {name}: {e}"))
}

/// Counts the entries under `dir`, for progress.
fn count_entries(dir: &Path) -> u64 {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            n += 1;
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    n
}

/// Copies the tree at `src` into `dst` (created here): files, directories,
/// symlinks and hard links with their modes, times and, as root, owners.
/// Device nodes, FIFOs and sockets are skipped (machines get a synthetic
/// /dev); returns how many were.
fn copy_tree(src: &Path, dst: &Path, progress: &mut Progress) -> Result<u64, String> {
    let root = wisp_kernel::host::ids().0 == 0;
    let mut skipped = 0;
    let mut links: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let md = src.symlink_metadata().map_err(|e| io(src, e))?;
    std::fs::create_dir(dst).map_err(|e| io(dst, e))?;
    let mut dirs = vec![(src.to_path_buf(), dst.to_path_buf(), md)];
    let mut finished_dirs = Vec::new();
    while let Some((s, d, dmd)) = dirs.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&s).map_err(|e| io(&s, e))?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let (sp, dp) = (e.path(), d.join(e.file_name()));
            let m = sp.symlink_metadata().map_err(|e| io(&sp, e))?;
            progress.add(1);
            let ft = m.file_type();
            if ft.is_dir() {
                std::fs::create_dir(&dp).map_err(|e| io(&dp, e))?;
                dirs.push((sp, dp, m));
                continue;
            }
            if ft.is_symlink() {
                let target = std::fs::read_link(&sp).map_err(|e| io(&sp, e))?;
                std::os::unix::fs::symlink(&target, &dp).map_err(|e| io(&dp, e))?;
            } else if ft.is_file() {
                if m.nlink() > 1 {
                    if let Some(first) = links.get(&(m.dev(), m.ino())) {
                        std::fs::hard_link(first, &dp).map_err(|e| io(&dp, e))?;
                        continue;
                    }
                    links.insert((m.dev(), m.ino()), dp.clone());
                }
                std::fs::copy(&sp, &dp).map_err(|e| io(&sp, e))?;
                std::fs::set_permissions(&dp, std::fs::Permissions::from_mode(m.mode() & 0o7777))
                    .map_err(|e| io(&dp, e))?;
                let f = File::options().write(true).open(&dp).map_err(|e| io(&dp, e))?;
                let _ = f.set_modified(m.modified().unwrap_or(std::time::UNIX_EPOCH));
            } else {
                skipped += 1;
                continue;
            }
            if root {
                let _ = std::os::unix::fs::lchown(&dp, Some(m.uid()), Some(m.gid()));
            }
        }
        finished_dirs.push((d, dmd));
    }
    // Directory modes last, so a read-only directory is filled first.
    for (d, m) in finished_dirs.into_iter().rev() {
        if root {
            let _ = std::os::unix::fs::lchown(&d, Some(m.uid()), Some(m.gid()));
        }
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(|e| io(&d, e))?;
    }
    Ok(skipped)
}

/// The digest of a tree: every entry in path order with its type, mode,
/// owner and content (files), target (symlinks) or first path (hard links).
pub fn tree_digest(dir: &Path) -> Result<String, String> {
    let mut h = Sha256::new();
    let mut links: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = dir.join(&rel);
        let mut names: Vec<_> = std::fs::read_dir(&full)
            .map_err(|e| format!("{}: {e}", full.display()))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        // Depth-first in reverse so the stack pops them in order.
        let mut subdirs = Vec::new();
        for n in names {
            let r = rel.join(&n);
            let p = dir.join(&r);
            let m = p.symlink_metadata().map_err(|e| format!("{}: {e}", p.display()))?;
            h.update(r.as_os_str().as_encoded_bytes());
            h.update([0]);
            h.update(format!("{:o} {} {}\0", m.mode(), m.uid(), m.gid()).as_bytes());
            let ft = m.file_type();
            if ft.is_dir() {
                subdirs.push(r);
            } else if ft.is_symlink() {
                let t = std::fs::read_link(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                h.update(t.as_os_str().as_encoded_bytes());
            } else if ft.is_file() {
                let key = (m.dev(), m.ino());
                if let Some(first) = links.get(&key) {
                    h.update(b"link ");
                    h.update(first.as_bytes());
                } else {
                    links.insert(key, r.to_string_lossy().into_owned());
                    let mut f = File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                    let mut fh = Sha256::new();
                    let mut buf = vec![0u8; 1 << 16];
                    loop {
                        let n = f.read(&mut buf).map_err(|e| format!("{}: {e}", p.display()))?;
                        if n == 0 {
                            break;
                        }
                        fh.update(&buf[..n]);
                    }
                    h.update(fh.finalize());
                }
            }
            h.update([b'\n']);
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Moves a finished tree into the layer store under its digest; an identical
/// layer already there is kept and the tree discarded. Returns the layer id.
fn commit_layer(state: &State, tree: &Path) -> Result<String, String> {
    let id = format!("sha256-{}", tree_digest(tree)?);
    let dst = state.layers().join(&id);
    if dst.is_dir() {
        let _ = remove_tree(tree);
    } else if std::fs::rename(tree, &dst).is_err() && !dst.is_dir() {
        return Err(format!("cannot store layer {id}"));
    }
    Ok(id)
}

/// Removes a tree even where it made directories read-only.
pub fn remove_tree(p: &Path) -> std::io::Result<()> {
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700));
            if let Ok(entries) = std::fs::read_dir(&d) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    std::fs::remove_dir_all(p)
}

fn default_name(source: &Path) -> Result<String, String> {
    let full = source.canonicalize().map_err(|e| format!("{}: {e}", source.display()))?;
    let base = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base = base.strip_suffix(".tar").unwrap_or(&base).to_string();
    check_name("image", &base).map_err(|e| format!("{e}; pass --name"))?;
    Ok(base)
}

fn refuse_existing(state: &State, name: &str) -> Result<(), String> {
    if state.images().join(name).exists() {
        return Err(format!("image {name} already exists (remove it with `wisp image rm {name}`)"));
    }
    Ok(())
}

/// `wisp image import DIR`.
pub fn import_dir(state: &State, source: &Path, name: &str) -> Result<String, String> {
    check_name("image", name)?;
    refuse_existing(state, name)?;
    if !source.is_dir() {
        return Err(format!("{}: not a directory", source.display()));
    }
    let scratch = state.scratch("import")?;
    let tree = scratch.join("tree");
    let mut progress = Progress::new(&format!("importing {name}"), count_entries(source));
    let result = copy_tree(source, &tree, &mut progress).and_then(|skipped| {
        let id = commit_layer(state, &tree)?;
        write_image(state, name, &Image { layers: vec![id.clone()], created: now() })?;
        let size = tree_bytes(&state.layers().join(&id));
        let note = if skipped > 0 { format!(", {skipped} device nodes/FIFOs/sockets skipped") } else { String::new() };
        progress.finish(&format!("{} in layer {id}{note}", format_size(size)));
        Ok(id)
    });
    let _ = remove_tree(&scratch);
    result
}

// ---- OCI ----

/// Where an OCI blob or docker-save member lives in the unpacked outer archive.
fn member(outer: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!("image refers to a bad path {rel:?}"));
    }
    Ok(outer.join(p))
}

fn blob(outer: &Path, digest: &str) -> Result<PathBuf, String> {
    let (algo, hex) = digest.split_once(':').ok_or_else(|| format!("bad digest {digest:?}"))?;
    if algo.is_empty() || hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("bad digest {digest:?}"));
    }
    member(outer, &format!("blobs/{algo}/{hex}"))
}

fn read_json(p: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: not valid JSON: {e}", p.display()))
}

/// The layer archives of an unpacked OCI layout or docker-save tarball, bottom first.
fn oci_layers(outer: &Path) -> Result<Vec<PathBuf>, String> {
    let str_list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
    };
    if outer.join("index.json").is_file() {
        let index = read_json(&outer.join("index.json"))?;
        let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
        let digest = manifests
            .iter()
            .find(|m| m["mediaType"].as_str().is_none_or(|t| t.contains("manifest")))
            .and_then(|m| m["digest"].as_str())
            .ok_or("index.json lists no image manifest")?;
        let mut manifest = read_json(&blob(outer, digest)?)?;
        // An index of platforms: take the first image manifest it lists.
        if manifest["layers"].is_null()
            && let Some(d) = manifest["manifests"].as_array().and_then(|m| m.first()).and_then(|m| m["digest"].as_str())
        {
            manifest = read_json(&blob(outer, d)?)?;
        }
        let layers = manifest["layers"].as_array().ok_or("the manifest has no layers")?;
        return layers
            .iter()
            .map(|l| {
                l["digest"].as_str().ok_or_else(|| "a layer without a digest".to_string()).and_then(|d| blob(outer, d))
            })
            .collect();
    }
    if outer.join("manifest.json").is_file() {
        let m = read_json(&outer.join("manifest.json"))?;
        let first = m.as_array().and_then(|a| a.first()).ok_or("manifest.json lists no image")?;
        return str_list(&first["Layers"]).iter().map(|l| member(outer, l)).collect();
    }
    Err("neither an OCI image layout (index.json) nor a docker-save tarball (manifest.json)".into())
}

/// A layer archive, decompressed if it is gzip.
fn open_layer(p: &Path) -> Result<Box<dyn Read>, String> {
    let mut f = File::open(p).map_err(|e| format!("layer {}: {e}", p.display()))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(|e| format!("layer {}: {e}", p.display()))?;
    let f = File::open(p).map_err(|e| format!("layer {}: {e}", p.display()))?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] { Box::new(flate2::read::GzDecoder::new(f)) } else { Box::new(f) })
}

/// A layer member's path as a relative path with no `..`, or None.
fn clean_path(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn remove_any(p: &Path) {
    match p.symlink_metadata() {
        Ok(m) if m.is_dir() => {
            let _ = remove_tree(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// True when no component of `rel` below `tree` is a symlink (a layer must
/// not write through a link into somewhere else).
fn inside(tree: &Path, rel: &Path) -> bool {
    let mut cur = tree.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        cur.push(c);
        if cur.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return false;
        }
    }
    true
}

/// Applies one layer archive to `tree`: whiteouts first (`.wh.NAME` deletes
/// NAME from the layers below, `.wh..wh..opq` empties its directory), then
/// the layer's own entries.
fn apply_layer(archive: &Path, tree: &Path) -> Result<(), String> {
    let bad = |e: std::io::Error| format!("layer {}: {e}", archive.display());
    let mut ar = tar::Archive::new(open_layer(archive)?);
    for entry in ar.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let Some(rel) = entry.path().ok().and_then(|p| clean_path(&p)) else { continue };
        let Some(name) = rel.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let parent = rel.parent().unwrap_or(Path::new(""));
        if !inside(tree, &rel) {
            continue;
        }
        if name == ".wh..wh..opq" {
            if let Ok(entries) = std::fs::read_dir(tree.join(parent)) {
                entries.flatten().for_each(|e| remove_any(&e.path()));
            }
        } else if let Some(hidden) = name.strip_prefix(".wh.") {
            remove_any(&tree.join(parent).join(hidden));
        }
    }
    let mut ar = tar::Archive::new(open_layer(archive)?);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    ar.set_preserve_ownerships(wisp_kernel::host::ids().0 == 0);
    ar.set_unpack_xattrs(false);
    ar.set_overwrite(true);
    for entry in ar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let Some(rel) = entry.path().ok().and_then(|p| clean_path(&p)) else { continue };
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with(".wh.") || rel.as_os_str().is_empty() || !inside(tree, &rel) {
            continue;
        }
        use tar::EntryType as T;
        let kind = entry.header().entry_type();
        if !matches!(kind, T::Regular | T::Directory | T::Symlink | T::Link | T::Continuous) {
            continue; // devices, FIFOs: machines get a synthetic /dev
        }
        let dst = tree.join(&rel);
        // A later layer replaces what lower ones had at this path, except a
        // directory over a directory, which merges.
        let is_dir = dst.symlink_metadata().is_ok_and(|m| m.is_dir());
        if !(kind == T::Directory && is_dir) {
            remove_any(&dst);
        }
        entry.unpack_in(tree).map_err(|e| {
            let cause = std::error::Error::source(&e).map(|c| format!(": {c}")).unwrap_or_default();
            format!("layer {}: {e}{cause}", archive.display())
        })?;
    }
    Ok(())
}

/// `wisp image import --oci TARBALL|DIR`.
pub fn import_oci(state: &State, source: &Path, name: &str) -> Result<String, String> {
    check_name("image", name)?;
    refuse_existing(state, name)?;
    let scratch = state.scratch("oci")?;
    let result = (|| {
        let outer = if source.is_dir() {
            source.to_path_buf()
        } else {
            let outer = scratch.join("archive");
            std::fs::create_dir(&outer).map_err(|e| e.to_string())?;
            let f = File::open(source).map_err(|e| format!("{}: {e}", source.display()))?;
            tar::Archive::new(f).unpack(&outer).map_err(|e| format!("{}: not a tar archive: {e}", source.display()))?;
            outer
        };
        let layers = oci_layers(&outer)?;
        let tree = scratch.join("tree");
        std::fs::create_dir(&tree).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&tree, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        let mut progress = Progress::new(&format!("importing {name}"), layers.len() as u64);
        for l in &layers {
            apply_layer(l, &tree)?;
            progress.add(1);
        }
        let id = commit_layer(state, &tree)?;
        write_image(state, name, &Image { layers: vec![id.clone()], created: now() })?;
        progress.finish(&format!("{} layers applied into layer {id}", layers.len()));
        Ok(id)
    })();
    let _ = remove_tree(&scratch);
    result
}

/// `wisp image build --debootstrap SUITE`.
fn build_debootstrap(
    state: &State,
    suite: &str,
    include: Option<&str>,
    name: &str,
    mirror: Option<&str>,
) -> Result<String, String> {
    check_name("image", name)?;
    refuse_existing(state, name)?;
    if !suite.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') || suite.is_empty() {
        return Err(format!("bad suite {suite:?}"));
    }
    let scratch = state.scratch("debootstrap")?;
    let tree = scratch.join("tree");
    let mut cmd = std::process::Command::new("debootstrap");
    cmd.arg("--variant=minbase");
    if let Some(pkgs) = include {
        cmd.arg(format!("--include={pkgs}"));
    }
    cmd.arg(suite).arg(&tree);
    if let Some(m) = mirror {
        cmd.arg(m);
    }
    // Its progress goes to our stderr; stdout carries only the image name.
    if let Ok(err) = std::os::fd::AsFd::as_fd(&std::io::stderr()).try_clone_to_owned() {
        cmd.stdout(std::process::Stdio::from(err));
    }
    eprintln!("building {name}: debootstrap {suite} (this downloads packages and takes minutes)");
    let result = match cmd.status() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("debootstrap is not installed (apt-get install debootstrap)".to_string())
        }
        Err(e) => Err(format!("debootstrap: {e}")),
        Ok(s) if !s.success() => {
            Err(format!("debootstrap failed ({s}); see {}/debootstrap/debootstrap.log", tree.display()))
        }
        Ok(_) => {
            let id = commit_layer(state, &tree)?;
            write_image(state, name, &Image { layers: vec![id.clone()], created: now() })?;
            eprintln!("built {name}: layer {id}");
            Ok(id)
        }
    };
    if result.is_ok() {
        let _ = remove_tree(&scratch);
    }
    result
}

fn list(state: &State) -> Result<Vec<(String, Image)>, String> {
    let entries = std::fs::read_dir(state.images()).map_err(|e| format!("{}: {e}", state.images().display()))?;
    let mut out: Vec<(String, Image)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            read_image(state, &n).ok().map(|i| (n, i))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Deletes layers no image lists and no running machine holds.
fn collect_garbage(state: &State) -> Result<(), String> {
    let used: BTreeSet<String> = list(state)?.into_iter().flat_map(|(_, i)| i.layers).collect();
    let entries = std::fs::read_dir(state.layers()).map_err(|e| e.to_string())?;
    for e in entries.flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if used.contains(&id) {
            continue;
        }
        let Ok(dir) = File::open(e.path()) else { continue };
        if wisp_kernel::host::flock(&dir, true) != Ok(true) {
            continue; // a machine still runs from it
        }
        let gone = state.tmp().join(format!("rm-{id}-{}", random_hex(4)));
        if std::fs::rename(e.path(), &gone).is_ok() {
            let _ = remove_tree(&gone);
        }
    }
    Ok(())
}

pub fn remove(state: &State, name: &str) -> Result<(), String> {
    check_name("image", name)?;
    std::fs::remove_file(state.images().join(name)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no image named {name}"),
        _ => format!("removing image {name}: {e}"),
    })?;
    collect_garbage(state)
}

pub fn main(state: Option<&Path>, args: ImageArgs) -> i32 {
    let r = State::open(state).and_then(|state| match args.command {
        ImageCommand::Import { source, name, oci } => {
            let name = match name {
                Some(n) => n,
                None => default_name(&source)?,
            };
            let r = if oci { import_oci(&state, &source, &name) } else { import_dir(&state, &source, &name) };
            r.map(|_| println!("{name}"))
        }
        ImageCommand::Build { debootstrap, include, name, mirror } => {
            let name = name.unwrap_or_else(|| debootstrap.clone());
            build_debootstrap(&state, &debootstrap, include.as_deref(), &name, mirror.as_deref())
                .map(|_| println!("{name}"))
        }
        ImageCommand::Ls => list(&state).map(|imgs| {
            println!("{:<24} {:>6} {:>10}  LAYER", "NAME", "LAYERS", "SIZE");
            for (n, i) in imgs {
                let size: u64 = i.layers.iter().map(|l| tree_bytes(&state.layers().join(l))).sum();
                let top = i.layers.last().map(|l| l.chars().take(19).collect::<String>()).unwrap_or_default();
                println!("{n:<24} {:>6} {:>10}  {top}", i.layers.len(), format_size(size));
            }
        }),
        ImageCommand::Rm { names } => crate::state::remove_each(&names, |n| remove(&state, n)),
    });
    crate::state::exit_status(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tag: &str) -> (PathBuf, State) {
        let root = std::env::temp_dir().join(format!("wisp-image-test-{tag}-{}", std::process::id()));
        let _ = remove_tree(&root);
        let s = State::open(Some(&root)).unwrap();
        (root, s)
    }

    fn sample(dir: &Path) {
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/motd"), "hello\n").unwrap();
        std::fs::hard_link(dir.join("etc/motd"), dir.join("etc/motd2")).unwrap();
        std::os::unix::fs::symlink("motd", dir.join("etc/link")).unwrap();
    }

    #[test]
    fn identical_trees_share_a_layer_and_rm_collects_it() {
        let (root, st) = state("dedup");
        let src = root.join("src");
        sample(&src);
        let a = import_dir(&st, &src, "a").unwrap();
        let b = import_dir(&st, &src, "b").unwrap();
        assert_eq!(a, b, "same content, same layer");
        assert_eq!(std::fs::read_dir(st.layers()).unwrap().count(), 1);
        let copy = st.layers().join(&a);
        assert_eq!(std::fs::read_to_string(copy.join("etc/motd")).unwrap(), "hello\n");
        assert_eq!(std::fs::read_link(copy.join("etc/link")).unwrap(), Path::new("motd"));
        assert_eq!(copy.join("etc/motd").metadata().unwrap().nlink(), 2, "hard link kept");
        assert!(import_dir(&st, &src, "a").unwrap_err().contains("already exists"));
        std::fs::write(src.join("etc/motd"), "changed\n").unwrap();
        let c = import_dir(&st, &src, "c").unwrap();
        assert_ne!(a, c, "content changes the digest");
        remove(&st, "a").unwrap();
        assert!(st.layers().join(&a).is_dir(), "b still uses it");
        remove(&st, "b").unwrap();
        assert!(!st.layers().join(&a).exists(), "collected");
        assert!(read_image(&st, "b").unwrap_err().contains("no image"));
        let _ = remove_tree(&root);
    }

    fn tar_of(files: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut h = tar::Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            match content {
                Some(c) if path.contains("..") => {
                    // The builder refuses `..`; a hostile archive has it anyway.
                    h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
                    h.set_size(c.len() as u64);
                    h.set_mode(0o644);
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_cksum();
                    b.append(&h, c.as_bytes()).unwrap();
                }
                Some(c) => {
                    h.set_size(c.len() as u64);
                    h.set_mode(0o644);
                    h.set_entry_type(tar::EntryType::Regular);
                    b.append_data(&mut h, path, c.as_bytes()).unwrap();
                }
                None => {
                    h.set_size(0);
                    h.set_mode(0o755);
                    h.set_entry_type(tar::EntryType::Directory);
                    b.append_data(&mut h, path, &[][..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn docker_save_layers_apply_with_whiteouts() {
        let (root, st) = state("oci");
        let l1 = tar_of(&[
            ("etc/", None),
            ("etc/keep", Some("k")),
            ("etc/gone", Some("g")),
            ("opq/", None),
            ("opq/old", Some("o")),
        ]);
        let l2 = tar_of(&[
            ("etc/.wh.gone", Some("")),
            ("opq/.wh..wh..opq", Some("")),
            ("opq/new", Some("n")),
            ("../escape", Some("x")),
            ("../../state-escape", Some("x")),
        ]);
        let manifest = r#"[{"Config":"c.json","RepoTags":["t:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]"#;
        let mut outer = tar::Builder::new(Vec::new());
        for (p, data) in [("manifest.json", manifest.as_bytes()), ("l1/layer.tar", &l1[..]), ("l2/layer.tar", &l2[..])]
        {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            outer.append_data(&mut h, p, data).unwrap();
        }
        let ball = root.join("img.tar");
        std::fs::write(&ball, outer.into_inner().unwrap()).unwrap();
        let id = import_oci(&st, &ball, "img").unwrap();
        let t = st.layers().join(id);
        assert_eq!(std::fs::read_to_string(t.join("etc/keep")).unwrap(), "k");
        assert!(!t.join("etc/gone").exists(), "whited out");
        assert!(!t.join("etc/.wh.gone").exists(), "markers are not files");
        assert!(!t.join("opq/old").exists(), "opaque directory hides the lower layer");
        assert_eq!(std::fs::read_to_string(t.join("opq/new")).unwrap(), "n");
        assert!(!root.join("escape").exists() && !root.join("state-escape").exists());
        let _ = remove_tree(&root);
    }
}
