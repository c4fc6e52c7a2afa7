//! Mounting image roots for a confined cloud host.
//!
//! Landlock forbids a confined process to mount anything, and machines from
//! images need an overlay mount each. So before confining itself a cloud host
//! forks this helper, which stays in its mount namespace, unconfined.
//! The helper does exactly two things on request, each checked:
//!
//! - mount an overlay whose lower layers are image layers of the state
//!   directory and whose upper, work and target directories lie inside the
//!   cloud's own directory;
//! - detach a mount inside the cloud's own directory.
//!
//! Paths are opened beneath their allowed root with no symlinks followed, and
//! the mount is made through the opened descriptors (`/proc/self/fd/N`), so a
//! compromised host cannot swap a path for a symlink between the check and
//! the mount. Everything it mounts stays in the cloud's private namespace.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
enum Op {
    /// The first request: the cloud whose directory bounds the others.
    Bind {
        cloud: String,
    },
    Overlay {
        lower: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        target: PathBuf,
    },
    Umount {
        target: PathBuf,
    },
}

/// The host's connection to its helper; None in `wisp run` (which mounts
/// itself).
static HELPER: OnceLock<Mutex<Helper>> = OnceLock::new();

struct Helper {
    sock: UnixStream,
    /// The answer to `Bind` is not read yet (see `bind`).
    bind_unread: bool,
}
/// The helper's pid.
static HELPER_PID: OnceLock<i32> = OnceLock::new();

/// Starts the helper, a forked copy of this still single-threaded process
/// (so it shares the mount namespace the machines use); `bind` then tells
/// it the cloud. Call before confinement.
pub fn start_helper(state_dir: &Path) -> Result<(), String> {
    let (ours, theirs) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    match wisp_kernel::host::fork_single_threaded().map_err(|e| format!("cannot start the mount helper: {e}"))? {
        None => {
            drop(ours);
            crate::sandbox::release_control_socket();
            let code = match crate::state::State::open(Some(state_dir)) {
                Ok(shared) => serve(&shared, theirs),
                Err(e) => {
                    eprintln!("wisp mount helper: {e}");
                    1
                }
            };
            std::process::exit(code);
        }
        Some(pid) => {
            drop(theirs);
            let _ = HELPER_PID.set(pid);
            // The helper ends when our end of the socket closes (with this
            // process), or with it through its parent-death signal.
            HELPER
                .set(Mutex::new(Helper { sock: ours, bind_unread: false }))
                .map_err(|_| "the mount helper is already running".to_string())
        }
    }
}

fn call(op: Op) -> Result<(), String> {
    let mut h = helper()?;
    if std::mem::take(&mut h.bind_unread) {
        h.answer()?;
    }
    h.send(&op)?;
    h.answer()
}

fn helper() -> Result<std::sync::MutexGuard<'static, Helper>, String> {
    let Some(h) = HELPER.get() else { return Err("no mount helper".into()) };
    Ok(h.lock().unwrap_or_else(|e| e.into_inner()))
}

impl Helper {
    fn send(&mut self, op: &Op) -> Result<(), String> {
        crate::proto::send(&mut self.sock, op).map_err(|e| format!("mount helper: {e}"))
    }

    fn answer(&mut self) -> Result<(), String> {
        match crate::proto::recv::<Result<(), String>>(&mut self.sock) {
            Ok(Some(r)) => r,
            Ok(None) => Err("the mount helper is gone".into()),
            Err(e) => Err(format!("mount helper: {e}")),
        }
    }
}

/// Gives the helper of a warm host (made at low priority) normal priority.
pub fn renice() {
    if let Some(pid) = HELPER_PID.get() {
        let _ = wisp_kernel::host::set_nice(*pid, 0);
    }
}

/// Tells the helper which cloud it serves. Its answer is read with the
/// first mount's (a refusal fails that mount): nothing needs it before,
/// and a cloud's first machine need not wait for it.
pub fn bind(cloud: &str) -> Result<(), String> {
    let mut h = helper()?;
    h.send(&Op::Bind { cloud: cloud.to_string() })?;
    h.bind_unread = true;
    Ok(())
}

/// Mounts an overlay, through the helper when this process has one.
pub fn overlay(lower: &[&Path], upper: &Path, work: &Path, target: &Path) -> Result<(), String> {
    if HELPER.get().is_some() {
        let lower = lower.iter().map(|p| p.to_path_buf()).collect();
        return call(Op::Overlay { lower, upper: upper.into(), work: work.into(), target: target.into() });
    }
    wisp_kernel::host::enter_mount_namespace()
        .map_err(|e| format!("cannot make a private mount namespace for the image root: {e:?}"))?;
    wisp_kernel::host::mount_overlay(lower, upper, work, target).map_err(|e| format!("{e:?}"))
}

/// Detaches a mount, through the helper when this process has one.
pub fn umount(target: &Path) -> Result<(), String> {
    if HELPER.get().is_some() {
        return call(Op::Umount { target: target.into() });
    }
    wisp_kernel::host::umount(target).map_err(|e| format!("{e:?}"))
}

/// Opens `path`, which must lie beneath `root`, as an O_PATH directory
/// without following any symlink on the way.
fn open_beneath(root: &OwnedFd, root_path: &Path, path: &Path) -> Result<OwnedFd, String> {
    let rel =
        path.strip_prefix(root_path).map_err(|_| format!("{} is outside {}", path.display(), root_path.display()))?;
    let rel = rel.as_os_str().as_encoded_bytes();
    let rel = if rel.is_empty() { &b"."[..] } else { rel };
    const RESOLVE_BENEATH: u64 = 0x08;
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    let flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
    wisp_kernel::host::openat2(
        root.as_fd(),
        rel,
        flags,
        0,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

fn fd_path(fd: &OwnedFd) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The helper's loop: serve requests on `sock` until it closes.
fn serve(shared: &crate::state::State, sock: UnixStream) -> i32 {
    let _ = wisp_kernel::host::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64);
    let Ok(mut input) = sock.try_clone() else { return 1 };
    let mut output = sock;
    // (cloud directory, its handle, layers directory, its handle), once bound.
    let mut roots: Option<(PathBuf, OwnedFd, PathBuf, OwnedFd)> = None;
    while let Ok(Some(op)) = crate::proto::recv::<Op>(&mut input) {
        let result = match (op, &roots) {
            (Op::Bind { cloud }, None) => (|| {
                let state = shared.cloud(&cloud)?;
                let cloud = state.root().canonicalize().map_err(|e| e.to_string())?;
                let layers = state.layers().canonicalize().map_err(|e| e.to_string())?;
                let cloud_fd = wisp_kernel::host::open_dir_path(&cloud).map_err(|e| e.to_string())?;
                let layers_fd = wisp_kernel::host::open_dir_path(&layers).map_err(|e| e.to_string())?;
                roots = Some((cloud, cloud_fd, layers, layers_fd));
                Ok(())
            })(),
            (Op::Bind { .. }, Some(_)) => Err("the mount helper is already bound".into()),
            (_, None) => Err("the mount helper is not bound to a cloud".into()),
            (Op::Overlay { lower, upper, work, target }, Some((cloud, cloud_fd, layers, layers_fd))) => (|| {
                let mut lower_fds = Vec::new();
                for l in &lower {
                    // A layer is a direct child of the layers directory.
                    if l.parent() != Some(layers.as_path()) {
                        return Err(format!("{} is not an image layer", l.display()));
                    }
                    lower_fds.push(open_beneath(layers_fd, layers, l)?);
                }
                let upper = open_beneath(cloud_fd, cloud, &upper)?;
                let work = open_beneath(cloud_fd, cloud, &work)?;
                let target = open_beneath(cloud_fd, cloud, &target)?;
                let lower_paths: Vec<PathBuf> = lower_fds.iter().map(fd_path).collect();
                let lower_refs: Vec<&Path> = lower_paths.iter().map(|p| p.as_path()).collect();
                wisp_kernel::host::mount_overlay(&lower_refs, &fd_path(&upper), &fd_path(&work), &fd_path(&target))
                    .map_err(|e| format!("overlay mount: {e:?}"))
            })(
            ),
            (Op::Umount { target }, Some((cloud, cloud_fd, _, _))) => open_beneath(cloud_fd, cloud, &target)
                .and_then(|t| wisp_kernel::host::umount(&fd_path(&t)).map_err(|e| format!("umount: {e:?}"))),
        };
        if crate::proto::send(&mut output, &result).is_err() {
            break;
        }
    }
    0
}
