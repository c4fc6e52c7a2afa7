//! wisp's Linux personality.
//!
//! A wisp machine has no guest kernel: programs run in guest ring 3 and every
//! syscall and fault comes here. The layers, bottom up:
//!
//! - [`platform`]: the seam to the hypervisor. `switch()` runs a thread until it
//!   traps; `wisp-vmm` implements it on KVM, tests use a mock.
//! - [`mm`]: guest physical memory, frames, page tables and VMAs, with the Linux
//!   mmap/munmap/mprotect/mremap/brk semantics.
//! - [`vfs`]: the machine's filesystem tree: a confined host root, a writable
//!   /tmp, and synthetic /proc and /dev.
//! - [`loader`]: ELF and `#!` loading, the initial stack and auxv.
//! - [`signal`]: signal state and the x86_64 signal frame.
//! - [`syscalls`]: the syscall table (data) and thin handlers, one file per family.
//! - [`task`]: a process and the loop that runs it.
//! - [`machine`]: the process table and the host threads processes run on.
//! - [`vdso`]: the TSC-based guest clock behind the vDSO and the clock syscalls.
//!
//! Unsafe code is confined to [`host`] (host syscalls), [`uring`] (volume
//! I/O through io_uring) and [`mm::phys`] (host remaps under guest memory).

#![deny(unsafe_code)]

pub mod errno;
pub mod fd;
pub mod host;
pub mod loader;
pub mod machine;
pub mod mm;
pub mod net;
pub mod platform;
pub mod seccomp;
pub mod signal;
pub mod stats;
pub mod syscalls;
pub mod task;
pub mod unix;
pub mod uring;
pub mod vdso;
pub mod vfs;

pub use errno::Errno;
pub use platform::{Context, Fault, Platform, PlatformError, SyscallEntry, Trap, UserRegs};
pub use task::{ExitStatus, Interrupts, Process, ProcessConfig};
