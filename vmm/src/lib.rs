//! wisp's KVM platform.
//!
//! - [`vcpu`]: the VM, its one vCPU, and `Platform::switch` over KVM_RUN with
//!   synced registers.
//! - [`exit`]: pure decoding of exits (which stub, which return path), tested
//!   without KVM.
//! - [`cpu`]: initial segments, control registers, MSRs, and CPUID-derived facts.
//! - [`sys`]: host signals that interrupt a running vCPU (the only unsafe module
//!   besides the memory-slot registration).
//!
//! No in-kernel irqchip or PIT is created: a kernel-less machine needs neither,
//! and on our hosts they cost milliseconds at create and close (DESIGN.md).

#![deny(unsafe_code)]

pub mod cpu;
pub mod exit;
pub mod probe;
pub mod sys;
pub mod vcpu;

pub use sys::Kicker;

/// The vDSO image every process gets, and the physical page of its data.
pub fn vdso_image() -> &'static [u8] {
    wisp_guest::VDSO
}
pub const VVAR: u64 = wisp_guest::VVAR;

/// The first physical frame the memory manager may use; below it is the system area.
pub const FIRST_FRAME: u64 = wisp_guest::SYSTEM_END;
pub use vcpu::{EmptyVm, KvmVcpu, KvmVm};

mod host;
pub use host::KvmHost;

#[derive(Debug, thiserror::Error)]
pub enum VmmError {
    #[error("/dev/kvm: no such device; this host has no KVM (enable virtualization, or load the kvm module)")]
    NoKvm,
    #[error(
        "/dev/kvm: permission denied; add your user to the kvm group (sudo usermod -aG kvm $USER) and log in again"
    )]
    KvmPermission,
    #[error("KVM: {0} failed")]
    Kvm(&'static str, #[source] kvm_ioctls::Error),
    #[error("Machine setup failed: {0}")]
    Setup(&'static str),
    #[error("Guest memory setup failed: {0}")]
    Memory(wisp_kernel::Errno),
    #[error("Host signal setup failed")]
    Signal(#[source] std::io::Error),
}

/// True when /dev/kvm exists and opens; tests use it to decide whether to skip.
pub fn kvm_available() -> bool {
    kvm_ioctls::Kvm::new().is_ok()
}
