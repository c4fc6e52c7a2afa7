//! Host signal plumbing for the vCPU thread. The only unsafe code in wisp-vmm.
//!
//! A vCPU in KVM_RUN leaves the guest when its thread receives a signal. We use
//! SIGRTMIN with an empty handler (installed without SA_RESTART, so blocking
//! host calls on the vCPU thread also return EINTR). `Kicker` records the
//! thread and sends it that signal.

#![allow(unsafe_code)]

use crate::VmmError;

/// The signal used to kick a vCPU out of the guest.
pub fn kick_signal() -> i32 {
    libc::SIGRTMIN()
}

extern "C" fn on_kick(_: libc::c_int) {}

/// Host signals forwarded into the guest (handled by setting a flag).
static FORWARDED: std::sync::OnceLock<wisp_kernel::Interrupts> = std::sync::OnceLock::new();

extern "C" fn on_forwarded(sig: libc::c_int) {
    if let Some(i) = FORWARDED.get() {
        i.raise(sig);
    }
}

fn install(sig: i32, handler: extern "C" fn(libc::c_int)) -> Result<(), VmmError> {
    // SAFETY: zeroed sigaction is valid; we fill in a handler that is
    // async-signal-safe (it does nothing, or sets an atomic), with no SA_RESTART.
    let r = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut())
    };
    if r != 0 { Err(VmmError::Signal(std::io::Error::last_os_error())) } else { Ok(()) }
}

/// Installs the kick handler; call once per process before running a vCPU.
pub fn install_kick_handler() -> Result<(), VmmError> {
    install(kick_signal(), on_kick)
}

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT received by wisp to the guest
/// as pending signals; the caller must kick the vCPU to deliver them promptly.
pub fn forward_host_signals(interrupts: wisp_kernel::Interrupts) -> Result<(), VmmError> {
    let _ = FORWARDED.set(interrupts);
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        install(sig, on_forwarded)?;
    }
    Ok(())
}

/// Blocks the forwarded host signals on the calling thread, so they reach the
/// main thread (which runs the machine's first process); the kick stays open.
pub fn block_forwarded_signals() {
    // SAFETY: a zeroed sigset filled with sigaddset is valid; pthread_sigmask
    // only changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Blocks every signal on the calling thread (helper threads, so that
/// process-directed signals land on the vCPU thread).
pub fn block_all_signals() {
    // SAFETY: a zeroed sigset filled by sigfillset is valid; pthread_sigmask only
    // changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

thread_local! {
    /// The `immediate_exit` byte of the vCPU this thread runs (null when
    /// none), shared with every kicker made on this thread.
    static IMMEDIATE_EXIT: std::sync::Arc<std::sync::atomic::AtomicPtr<u8>> =
        std::sync::Arc::new(std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()));
}

/// The calling thread's immediate-exit slot; a vCPU bound to the thread
/// stores its `kvm_run.immediate_exit` address there (and null when unbound).
pub fn immediate_exit_slot() -> std::sync::Arc<std::sync::atomic::AtomicPtr<u8>> {
    IMMEDIATE_EXIT.with(|s| s.clone())
}

/// Clears the immediate-exit byte a slot points at (after a KVM_RUN return).
pub fn clear_immediate_exit(slot: &std::sync::atomic::AtomicPtr<u8>) {
    let flag = slot.load(std::sync::atomic::Ordering::SeqCst);
    if !flag.is_null() {
        // SAFETY: as in `Kicker::kick`: the byte lives in a mapped kvm_run page.
        unsafe { (*flag.cast::<std::sync::atomic::AtomicU8>()).store(0, std::sync::atomic::Ordering::SeqCst) };
    }
}

/// A handle that interrupts the vCPU running on a given thread.
///
/// A signal alone can be lost: sent after the thread last looked for work and
/// before it entered KVM_RUN, it runs the empty handler and the guest then
/// runs on. So the kicker first sets the vCPU's `immediate_exit`, which makes
/// the next KVM_RUN return at once; the vCPU clears it after every return.
#[derive(Clone, Debug)]
pub struct Kicker {
    thread: libc::pthread_t,
    immediate_exit: std::sync::Arc<std::sync::atomic::AtomicPtr<u8>>,
}

impl Kicker {
    /// A kicker for the calling thread.
    pub fn current() -> Kicker {
        // SAFETY: pthread_self has no preconditions.
        Kicker { thread: unsafe { libc::pthread_self() }, immediate_exit: immediate_exit_slot() }
    }

    pub fn kick(&self) {
        let flag = self.immediate_exit.load(std::sync::atomic::Ordering::SeqCst);
        if !flag.is_null() {
            // SAFETY: the slot holds the immediate_exit byte of a vCPU's kvm_run
            // page, which stays mapped as long as the vCPU exists; vCPUs are
            // only destroyed when the machine ends, after its threads (and so
            // their kickers' users) are gone. Writing 1 is what KVM expects.
            unsafe { (*flag.cast::<std::sync::atomic::AtomicU8>()).store(1, std::sync::atomic::Ordering::SeqCst) };
        }
        // SAFETY: the thread id came from pthread_self on a thread that lives as
        // long as the machine (the caller keeps it alive while kicking).
        unsafe { libc::pthread_kill(self.thread, kick_signal()) };
    }
}

// SAFETY: pthread_t is a plain identifier; sending a signal from any thread is allowed.
unsafe impl Send for Kicker {}
// SAFETY: as above; the slot is an atomic.
unsafe impl Sync for Kicker {}
