//! The confinement of a cloud host process, set up before it reads its first
//! request: whatever a guest manages to do to this process, it reaches only
//! its own cloud's files and no host network.
//!
//! - Landlock: the system directories a machine's root needs (read and
//!   execute), the host-wide image layers (read), `/dev/kvm`, and the cloud's
//!   own state directory (everything). Other clouds' volumes and layers, the
//!   daemon's database and token file are out of reach.
//! - Namespaces: a private mount namespace (for overlay roots), and where the
//!   host allows, fresh network, IPC and UTS namespaces.
//! - No new privileges, no core dumps, and death with the daemon.
//! - Image roots are mounted by a helper process started just before the
//!   confinement (mounter.rs), which mounts only image layers under
//!   directories of this cloud.

use std::path::Path;

use wisp_kernel::host::{self, landlock};

use crate::state::State;

/// Directories a machine rooted at the host's `/` reads programs from.
const SYSTEM_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc"];
/// Devices a cloud host opens for reading and writing.
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full"];

pub fn confine(state: &State, cloud: &str) -> Result<(), String> {
    // The daemon starts cloud hosts from one long-lived thread, so this fires
    // only when the daemon itself is gone.
    host::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64).map_err(|e| format!("PR_SET_PDEATHSIG: {e}"))?;
    host::set_rlimit(libc::RLIMIT_CORE, 0).map_err(|e| format!("RLIMIT_CORE: {e}"))?;
    host::enter_mount_namespace().map_err(|e| format!("mount namespace: {e}"))?;
    // Best effort: machines have no host network in any case, but a
    // compromised host process then has none either.
    let _ = host::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS);
    // Image roots are mounted by a helper outside the confinement.
    let shared = state.images().parent().map(Path::to_path_buf).unwrap_or_default();
    crate::mounter::start_helper(&shared, cloud)?;
    let rw = landlock::all(5);
    let mut rules: Vec<(&Path, u64)> = SYSTEM_DIRS.iter().map(|d| (Path::new(*d), landlock::READ)).collect();
    let (images, layers) = (state.images(), state.layers());
    rules.push((&images, landlock::READ));
    rules.push((&layers, landlock::READ));
    rules.push((state.root(), rw));
    rules.push((Path::new("/dev/kvm"), landlock::READ_FILE | landlock::WRITE_FILE | landlock::IOCTL_DEV));
    for d in DEVICES {
        rules.push((Path::new(d), landlock::READ_FILE | landlock::WRITE_FILE));
    }
    match host::landlock_restrict(&rules) {
        Ok(()) => Ok(()),
        Err(wisp_kernel::Errno::ENOSYS) if std::env::var_os("WISP_ALLOW_NO_LANDLOCK").is_some() => {
            eprintln!("wisp cloud-host: warning: no Landlock on this kernel; clouds are not confined");
            Ok(())
        }
        Err(e) => Err(format!("Landlock: {e} (set WISP_ALLOW_NO_LANDLOCK=1 to run unconfined)")),
    }
}
