//! The bare VM-exit round trip, the baseline for syscall overhead: a ring-3
//! guest loop `out 0x10, al ; jmp back`, each exit answered with nothing.

use std::time::{Duration, Instant};

use wisp_kernel::mm::phys::PhysMem;
use wisp_kernel::mm::{Backing, MemoryManager, Placement};
use wisp_kernel::platform::{Context, Platform, RFLAGS_FIXED, Trap, UserRegs};

use crate::{FIRST_FRAME, KvmVm, VmmError};

const CODE: u64 = 0x40_0000;

/// Mean time of one exit round trip over `iters` exits.
pub fn bare_exit_round_trip(iters: u64) -> Result<Duration, VmmError> {
    let phys = PhysMem::new(16 << 20).map_err(|_| VmmError::Setup("guest memory"))?;
    let mut mm = MemoryManager::new(phys, FIRST_FRAME, 8 << 20).map_err(VmmError::Memory)?;
    let vm = KvmVm::new(&mut mm)?;
    let mut machine = vm.vcpu()?;
    let rx = (libc::PROT_READ | libc::PROT_EXEC) as u32;
    mm.mmap(Placement::Fixed(CODE), 4096, rx, Backing::Anon, None).map_err(VmmError::Memory)?;
    // syscall (one trip through the entry stub teaches the exit decoder how this
    // KVM reports RIP), then: out 0x10, al ; jmp -4
    mm.poke(CODE, &[0x0f, 0x05, 0xe6, 0x10, 0xeb, 0xfc]).map_err(VmmError::Memory)?;
    let mut ctx = Context { regs: UserRegs { rip: CODE, rflags: RFLAGS_FIXED, ..Default::default() }, cr3: mm.root() };
    let mut run = |ctx: &mut Context| -> Result<(), VmmError> {
        match machine.switch(ctx) {
            Ok(Trap::Syscall(_)) => Ok(()),
            Ok(Trap::Interrupted) => Ok(()),
            _ => Err(VmmError::Setup("probe guest did not exit on its port")),
        }
    };
    for _ in 0..100 {
        run(&mut ctx)?;
    }
    let t = Instant::now();
    for _ in 0..iters {
        run(&mut ctx)?;
    }
    Ok(t.elapsed() / iters.max(1) as u32)
}
