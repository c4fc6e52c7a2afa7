//! A KVM VM and its vCPUs; each vCPU implements the personality's `Platform`.
//!
//! The exit ABI (see wisp-guest): a syscall exits on port 0x10, either from the
//! entry stub (after `syscall`) or from a patched site in user code; exception
//! `v` exits on port 0x20+v from its ring-0 stub with the hardware frame on the
//! kernel stack. Registers travel through KVM_CAP_SYNC_REGS, so a syscall costs
//! one KVM_RUN and no other ioctl.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kvm_bindings::{CpuId, KVM_MAX_CPUID_ENTRIES, Msrs, kvm_fpu, kvm_msr_entry, kvm_regs, kvm_userspace_memory_region};
use kvm_ioctls::{Cap, Kvm, SyncReg, VcpuExit, VcpuFd, VmFd};
use wisp_guest as layout;
use wisp_kernel::mm::MemoryManager;
use wisp_kernel::mm::phys::PhysReader;
use wisp_kernel::platform::{Context, Fault, FpuState, Platform, PlatformError, SyscallEntry, Trap, UserRegs};

use crate::VmmError;
use crate::cpu;
use crate::exit::{self, ReturnPath, SyscallSite};
use crate::sys::Kicker;

/// What the next switch must restore besides the general registers.
#[derive(Default)]
struct Pending {
    segments: bool,
}

/// A KVM VM and its first vCPU, made before the machine's memory is known.
/// Making them is about half the cost of a VM (0.3-0.5 ms here), so a warm
/// cloud host makes one while it waits for a cloud ([`KvmVm::over`] then
/// gives it memory).
pub struct EmptyVm {
    kvm: Kvm,
    vm: VmFd,
    cpuid: CpuId,
    vcpu0: VcpuFd,
}

impl EmptyVm {
    pub fn new() -> Result<EmptyVm, VmmError> {
        let kvm = open_kvm()?;
        if !kvm.check_extension(Cap::SyncRegs) {
            return Err(VmmError::Setup("KVM lacks KVM_CAP_SYNC_REGS"));
        }
        let vm = kvm.create_vm().map_err(|e| VmmError::Kvm("create VM", e))?;
        let cpuid = kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES).map_err(|e| VmmError::Kvm("get CPUID", e))?;
        let vcpu0 = new_vcpu_fd(&vm, &cpuid, 0)?;
        Ok(EmptyVm { kvm, vm, cpuid, vcpu0 })
    }
}

fn new_vcpu_fd(vm: &VmFd, cpuid: &CpuId, id: u64) -> Result<VcpuFd, VmmError> {
    let vcpu = vm.create_vcpu(id).map_err(|e| VmmError::Kvm("create vCPU", e))?;
    vcpu.set_cpuid2(cpuid).map_err(|e| VmmError::Kvm("set CPUID", e))?;
    Ok(vcpu)
}

/// A VM over a machine's guest memory. vCPUs are created on demand, one per
/// running process, and reused when their process ends.
pub struct KvmVm {
    _kvm: Kvm,
    vm: VmFd,
    cpuid: CpuId,
    /// vCPU 0, made with the VM, until the first `vcpu()` takes it.
    vcpu0: Mutex<Option<VcpuFd>>,
    phys: PhysReader,
    root: u64,
    /// Whether this KVM advances RIP past `out` before exiting: 0 not known yet,
    /// 1 no, 2 yes (learnt at the first syscall through the entry stub).
    pio_advanced: AtomicU8,
    next_id: Mutex<u64>,
    /// The guest memory region, for re-registering it (see `flush_translations`).
    region: kvm_userspace_memory_region,
    /// While set, no vCPU enters the guest.
    gate_closed: AtomicBool,
    /// vCPUs attached to a thread: the thread's kicker and whether the vCPU
    /// is in KVM_RUN (or about to be).
    bound: Mutex<BTreeMap<u64, (Kicker, Arc<AtomicBool>)>>,
    flushing: Mutex<()>,
}

/// One vCPU of a [`KvmVm`].
pub struct KvmVcpu {
    vm: Arc<KvmVm>,
    vcpu: VcpuFd,
    /// Index of this vCPU: selects its TSS and exception-frame stack.
    index: u64,
    /// Segment bases and CR3 last written to the vCPU.
    cur_fs: u64,
    cur_gs: u64,
    cur_cr3: u64,
    pending: Pending,
    /// The privilege level `syscall` left us at, once seen (PVM: 3, hardware: 0).
    pub syscall_cpl: Option<u8>,
    /// Set while this vCPU is in KVM_RUN or about to enter it.
    running: Arc<AtomicBool>,
    /// Registered with the VM as attached to the current thread.
    bound: bool,
    /// The bound thread's immediate-exit slot, holding our kvm_run's byte.
    exit_slot: Option<Arc<std::sync::atomic::AtomicPtr<u8>>>,
}

fn ioctl_err(what: &str, e: kvm_ioctls::Error) -> PlatformError {
    PlatformError::Ioctl(format!("{what}: {e}"))
}

fn open_kvm() -> Result<Kvm, VmmError> {
    Kvm::new().map_err(|e| match e.errno() {
        libc::ENOENT => VmmError::NoKvm,
        libc::EACCES | libc::EPERM => VmmError::KvmPermission,
        _ => VmmError::Kvm("open /dev/kvm", e),
    })
}

impl KvmVm {
    /// Creates the VM over `mm`'s physical memory, writes the system area and
    /// maps it into `mm`'s address space.
    pub fn new(mm: &mut MemoryManager) -> Result<Arc<KvmVm>, VmmError> {
        KvmVm::over(EmptyVm::new()?, mm)
    }

    /// `new` with a VM made earlier (by this process).
    pub fn over(empty: EmptyVm, mm: &mut MemoryManager) -> Result<Arc<KvmVm>, VmmError> {
        let EmptyVm { kvm, vm, cpuid, vcpu0 } = empty;
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: mm.phys.size(),
            userspace_addr: mm.phys.host_base(),
        };
        // SAFETY: the region is `mm.phys`'s own mapping. The VM keeps a reader
        // (an Arc of the same mapping) below, so the memory outlives the VM.
        #[allow(unsafe_code)]
        unsafe { vm.set_user_memory_region(region) }.map_err(|e| VmmError::Kvm("register guest memory", e))?;
        let mut write_err = None;
        layout::build(|pa, bytes| {
            if let Err(e) = mm.phys.write(pa, bytes) {
                write_err = Some(e);
            }
        });
        if let Some(e) = write_err {
            return Err(VmmError::Memory(e));
        }
        for p in layout::SYSTEM_PAGES {
            mm.map_system_page(p.addr, p.user, p.write, p.exec).map_err(VmmError::Memory)?;
        }
        Ok(Arc::new(KvmVm {
            _kvm: kvm,
            vm,
            cpuid,
            vcpu0: Mutex::new(Some(vcpu0)),
            phys: mm.phys.reader(),
            root: mm.root(),
            pio_advanced: AtomicU8::new(0),
            next_id: Mutex::new(0),
            region,
            gate_closed: AtomicBool::new(false),
            bound: Mutex::new(BTreeMap::new()),
            flushing: Mutex::new(()),
        }))
    }

    /// A new vCPU ready to run user code.
    pub fn vcpu(self: &Arc<Self>) -> Result<KvmVcpu, VmmError> {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n - 1
        };
        if id >= layout::MAX_VCPUS {
            return Err(VmmError::Setup("the machine has no vCPU left"));
        }
        let made = if id == 0 { self.vcpu0.lock().unwrap_or_else(|p| p.into_inner()).take() } else { None };
        let mut vcpu = match made {
            Some(v) => v,
            None => new_vcpu_fd(&self.vm, &self.cpuid, id)?,
        };
        let sregs = cpu::initial_sregs(vcpu.get_sregs().map_err(|e| VmmError::Kvm("get sregs", e))?, self.root, id);
        vcpu.set_sregs(&sregs).map_err(|e| VmmError::Kvm("set sregs", e))?;
        // KVM fills the sync area only after the first exit; seed it so the
        // first switch's partial updates start from these values.
        vcpu.sync_regs_mut().sregs = sregs;
        let msrs = Msrs::from_entries(&[
            kvm_msr_entry { index: cpu::MSR_STAR, data: layout::STAR, ..Default::default() },
            kvm_msr_entry { index: cpu::MSR_LSTAR, data: layout::SYSCALL_ENTRY, ..Default::default() },
            kvm_msr_entry { index: cpu::MSR_FMASK, data: layout::FMASK, ..Default::default() },
        ])
        .map_err(|_| VmmError::Setup("MSR list"))?;
        let n = vcpu.set_msrs(&msrs).map_err(|e| VmmError::Kvm("set MSRs", e))?;
        if n != 3 {
            return Err(VmmError::Setup("KVM refused the syscall MSRs"));
        }
        vcpu.set_sync_valid_reg(SyncReg::Register);
        vcpu.set_sync_valid_reg(SyncReg::SystemRegister);
        Ok(KvmVcpu {
            vm: self.clone(),
            vcpu,
            index: id,
            cur_fs: 0,
            cur_gs: 0,
            cur_cr3: self.root,
            pending: Pending { segments: true },
            syscall_cpl: None,
            running: Arc::new(AtomicBool::new(false)),
            bound: false,
            exit_slot: None,
        })
    }

    /// Makes KVM drop every shadow translation it holds for the guest: every
    /// vCPU is held out of the guest (kicked out if it is in), the memory slot
    /// is deleted and registered again (which zaps all shadow pages), and the
    /// vCPUs go on. Page-table frames of ended processes are reused only after
    /// this, so a reused frame never meets a cached shadow of its old contents.
    pub fn flush_translations(&self) -> Result<(), VmmError> {
        let _one = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        self.gate_closed.store(true, Ordering::SeqCst);
        let r = self.wait_out_of_guest().and_then(|_| self.reregister_memory());
        self.gate_closed.store(false, Ordering::SeqCst);
        r
    }

    fn wait_out_of_guest(&self) -> Result<(), VmmError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            {
                // Kicking under the lock: a bound thread cannot detach (and
                // exit) meanwhile. A kick that lands just before KVM_RUN is lost,
                // hence the repeats.
                let bound = self.bound.lock().unwrap_or_else(|p| p.into_inner());
                let busy: Vec<&Kicker> =
                    bound.values().filter(|(_, r)| r.load(Ordering::SeqCst)).map(|(k, _)| k).collect();
                if busy.is_empty() {
                    return Ok(());
                }
                busy.iter().for_each(|k| k.kick());
            }
            if Instant::now() > deadline {
                return Err(VmmError::Setup("a vCPU did not leave the guest for a translation flush"));
            }
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    fn reregister_memory(&self) -> Result<(), VmmError> {
        let gone = kvm_userspace_memory_region { memory_size: 0, ..self.region };
        // SAFETY: deleting our own slot, then registering the same region as at
        // creation (`self.phys` keeps the mapping alive); no vCPU is in the guest.
        #[allow(unsafe_code)]
        unsafe {
            self.vm.set_user_memory_region(gone).map_err(|e| VmmError::Kvm("delete guest memory", e))?;
            self.vm.set_user_memory_region(self.region).map_err(|e| VmmError::Kvm("register guest memory", e))
        }
    }

    pub fn cpuinfo(&self) -> String {
        cpu::cpuinfo(&self.cpuid)
    }

    pub fn hwcap(&self) -> u64 {
        cpu::hwcap(&self.cpuid)
    }
}

impl KvmVcpu {
    fn load(&mut self, ctx: &Context) {
        let reload = self.pending.segments
            || ctx.regs.fs_base != self.cur_fs
            || ctx.regs.gs_base != self.cur_gs
            || ctx.cr3 != self.cur_cr3;
        let sr = self.vcpu.sync_regs_mut();
        sr.regs = to_kvm(&ctx.regs);
        if reload {
            sr.sregs.cs = cpu::user_cs();
            sr.sregs.ss = cpu::user_ds();
            sr.sregs.fs.base = ctx.regs.fs_base;
            sr.sregs.gs.base = ctx.regs.gs_base;
            sr.sregs.cr3 = ctx.cr3;
        }
        self.vcpu.set_sync_dirty_reg(SyncReg::Register);
        if reload {
            self.vcpu.set_sync_dirty_reg(SyncReg::SystemRegister);
            self.cur_fs = ctx.regs.fs_base;
            self.cur_gs = ctx.regs.gs_base;
            self.cur_cr3 = ctx.cr3;
            self.pending.segments = false;
        }
    }

    fn syscall_exit(&mut self, ctx: &mut Context) -> Trap {
        let sr = self.vcpu.sync_regs_mut();
        let (regs, cpl, fs, gs) = (sr.regs, sr.sregs.cs.dpl, sr.sregs.fs.base, sr.sregs.gs.base);
        let mut u = from_kvm(&regs, fs, gs);
        let advanced = self.vm.pio_advanced.load(Ordering::Relaxed) == 2;
        let entry = match exit::syscall_site(regs.rip, advanced) {
            SyscallSite::EntryStub => {
                self.syscall_cpl = Some(cpl);
                let learnt = if exit::pio_advances_rip(regs.rip) { 2 } else { 1 };
                self.vm.pio_advanced.store(learnt, Ordering::Relaxed);
                if exit::syscall_return(cpl) == ReturnPath::ReloadSegments {
                    self.pending.segments = true;
                }
                u.rip = regs.rcx;
                u.rflags = regs.r11;
                SyscallEntry::Instruction
            }
            SyscallSite::Patched { resume } => {
                u.rip = resume;
                u.rcx = resume;
                u.r11 = regs.rflags;
                SyscallEntry::Patched
            }
        };
        ctx.regs = u;
        Trap::Syscall(entry)
    }

    fn exception_exit(&mut self, ctx: &mut Context, vector: u8) -> Result<Trap, PlatformError> {
        let sr = self.vcpu.sync_regs_mut();
        let (regs, cpl, cr2, fs, gs) = (sr.regs, sr.sregs.cs.dpl, sr.sregs.cr2, sr.sregs.fs.base, sr.sregs.gs.base);
        if cpl != 0 {
            return Err(PlatformError::UnexpectedExit(format!("exception port {vector} reached from ring {cpl}")));
        }
        let frame = exit::exception_frame(regs.rsp, vector, self.index)
            .ok_or_else(|| PlatformError::UnexpectedExit(format!("bad exception stack {:#x}", regs.rsp)))?;
        let err = if layout::has_error_code(vector) { self.vm.phys.read_u64(regs.rsp) } else { 0 };
        let w = |i: u64| self.vm.phys.read_u64(frame + 8 * i);
        let (rip, cs, rflags, rsp) = (w(0), w(1), w(2), w(3));
        if cs & 3 != 3 {
            return Err(PlatformError::UnexpectedExit(format!(
                "exception {vector} in wisp's own code at {rip:#x} (cr2 {cr2:#x})"
            )));
        }
        let mut u = from_kvm(&regs, fs, gs);
        u.rip = rip;
        u.rsp = rsp;
        u.rflags = rflags;
        ctx.regs = u;
        self.pending.segments = true;
        let addr = if vector == 14 { cr2 } else { 0 };
        Ok(Trap::Fault(Fault { vector, error_code: err, addr }))
    }

    /// Runs the vCPU until the next trap.
    fn run(&mut self, ctx: &mut Context) -> Result<Trap, PlatformError> {
        self.load(ctx);
        if !self.bound {
            let mut bound = self.vm.bound.lock().unwrap_or_else(|p| p.into_inner());
            bound.insert(self.index, (Kicker::current(), self.running.clone()));
            self.bound = true;
            let slot = crate::sys::immediate_exit_slot();
            let byte: *mut u8 = &mut self.vcpu.get_kvm_run().immediate_exit;
            slot.store(byte, Ordering::SeqCst);
            self.exit_slot = Some(slot);
        }
        loop {
            self.enter_guest();
            let result = self.vcpu.run();
            self.running.store(false, Ordering::SeqCst);
            // A kick asked for this exit (or the next one): it is taken now,
            // and the caller looks at its signals before entering again.
            if let Some(slot) = &self.exit_slot {
                crate::sys::clear_immediate_exit(slot);
            }
            let port = match result {
                Ok(VcpuExit::IoOut(port, _)) => port,
                Ok(VcpuExit::Hlt) => return Err(self.unexpected("HLT")),
                Ok(VcpuExit::Shutdown) => {
                    let rip = self.vcpu.sync_regs_mut().regs.rip;
                    return Err(PlatformError::TripleFault { rip });
                }
                Ok(other) => {
                    let what = format!("{other:?}");
                    return Err(self.unexpected(&what));
                }
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                    let sr = self.vcpu.sync_regs_mut();
                    let (regs, cpl, fs, gs) = (sr.regs, sr.sregs.cs.dpl, sr.sregs.fs.base, sr.sregs.gs.base);
                    if exit::in_system_code(regs.rip, cpl) {
                        // Mid-stub: let it finish its exit first.
                        continue;
                    }
                    ctx.regs = from_kvm(&regs, fs, gs);
                    return Ok(Trap::Interrupted);
                }
                Err(e) => return Err(ioctl_err("KVM_RUN", e)),
            };
            if port == layout::PORT_SYSCALL {
                return Ok(self.syscall_exit(ctx));
            }
            if let Some(v) = exit::exception_vector(port) {
                return self.exception_exit(ctx, v);
            }
            return Err(self.unexpected(&format!("I/O to port {port:#x}")));
        }
    }

    /// Waits while a translation flush holds vCPUs out of the guest, then
    /// marks this one as entering (the flush waits for it to leave).
    fn enter_guest(&self) {
        loop {
            self.running.store(true, Ordering::SeqCst);
            if !self.vm.gate_closed.load(Ordering::SeqCst) {
                return;
            }
            self.running.store(false, Ordering::SeqCst);
            while self.vm.gate_closed.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    fn unbind(&mut self) {
        if std::mem::take(&mut self.bound) {
            self.vm.bound.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.index);
        }
        if let Some(slot) = self.exit_slot.take() {
            slot.store(std::ptr::null_mut(), Ordering::SeqCst);
        }
    }

    fn unexpected(&mut self, what: &str) -> PlatformError {
        let sr = self.vcpu.sync_regs_mut();
        PlatformError::UnexpectedExit(format!("{what} at rip {:#x} (cpl {})", sr.regs.rip, sr.sregs.cs.dpl))
    }
}

impl Drop for KvmVcpu {
    fn drop(&mut self) {
        self.unbind();
    }
}

impl Platform for KvmVcpu {
    fn detach(&mut self) {
        self.unbind();
    }

    fn switch(&mut self, ctx: &mut Context) -> Result<Trap, PlatformError> {
        self.run(ctx)
    }

    fn fpu(&mut self) -> Result<FpuState, PlatformError> {
        let f = self.vcpu.get_fpu().map_err(|e| ioctl_err("get FPU", e))?;
        Ok(fpu_to_fxsave(&f))
    }

    fn set_fpu(&mut self, fpu: &FpuState) -> Result<(), PlatformError> {
        self.vcpu.set_fpu(&fxsave_to_fpu(fpu)).map_err(|e| ioctl_err("set FPU", e))
    }

    fn tsc(&mut self) -> Option<(i64, u64)> {
        let khz = self.vcpu.get_tsc_khz().ok()? as u64;
        let mut msrs = Msrs::from_entries(&[kvm_msr_entry { index: cpu::MSR_TSC, ..Default::default() }]).ok()?;
        // Bracket the read with host TSC samples and take the midpoint.
        let before = wisp_kernel::host::rdtsc();
        let n = self.vcpu.get_msrs(&mut msrs).ok()?;
        let after = wisp_kernel::host::rdtsc();
        if n != 1 {
            return None;
        }
        let guest = msrs.as_slice()[0].data;
        let host = before + (after - before) / 2;
        Some((guest.wrapping_sub(host) as i64, khz))
    }
}

fn to_kvm(u: &UserRegs) -> kvm_regs {
    kvm_regs {
        rax: u.rax,
        rbx: u.rbx,
        rcx: u.rcx,
        rdx: u.rdx,
        rsi: u.rsi,
        rdi: u.rdi,
        rsp: u.rsp,
        rbp: u.rbp,
        r8: u.r8,
        r9: u.r9,
        r10: u.r10,
        r11: u.r11,
        r12: u.r12,
        r13: u.r13,
        r14: u.r14,
        r15: u.r15,
        rip: u.rip,
        rflags: u.rflags,
    }
}

fn from_kvm(r: &kvm_regs, fs_base: u64, gs_base: u64) -> UserRegs {
    UserRegs {
        rax: r.rax,
        rbx: r.rbx,
        rcx: r.rcx,
        rdx: r.rdx,
        rsi: r.rsi,
        rdi: r.rdi,
        rbp: r.rbp,
        rsp: r.rsp,
        r8: r.r8,
        r9: r.r9,
        r10: r.r10,
        r11: r.r11,
        r12: r.r12,
        r13: r.r13,
        r14: r.r14,
        r15: r.r15,
        rip: r.rip,
        rflags: r.rflags,
        fs_base,
        gs_base,
    }
}

/// KVM's `kvm_fpu` to the FXSAVE image signal frames carry.
pub fn fpu_to_fxsave(f: &kvm_fpu) -> FpuState {
    let mut b = [0u8; 512];
    b[0..2].copy_from_slice(&f.fcw.to_le_bytes());
    b[2..4].copy_from_slice(&f.fsw.to_le_bytes());
    b[4] = f.ftwx;
    b[6..8].copy_from_slice(&f.last_opcode.to_le_bytes());
    b[8..16].copy_from_slice(&f.last_ip.to_le_bytes());
    b[16..24].copy_from_slice(&f.last_dp.to_le_bytes());
    b[24..28].copy_from_slice(&f.mxcsr.to_le_bytes());
    b[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    for i in 0..8 {
        b[32 + 16 * i..48 + 16 * i].copy_from_slice(&f.fpr[i]);
    }
    for i in 0..16 {
        b[160 + 16 * i..176 + 16 * i].copy_from_slice(&f.xmm[i]);
    }
    FpuState(b)
}

pub fn fxsave_to_fpu(s: &FpuState) -> kvm_fpu {
    let b = &s.0;
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let mut f = kvm_fpu {
        fcw: u16_at(0),
        fsw: u16_at(2),
        ftwx: b[4],
        last_opcode: u16_at(6),
        last_ip: u64_at(8),
        last_dp: u64_at(16),
        ..Default::default()
    };
    f.mxcsr = u32::from_le_bytes(b[24..28].try_into().unwrap_or([0; 4]));
    for i in 0..8 {
        f.fpr[i].copy_from_slice(&b[32 + 16 * i..48 + 16 * i]);
    }
    for i in 0..16 {
        f.xmm[i].copy_from_slice(&b[160 + 16 * i..176 + 16 * i]);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fxsave_round_trip() {
        let mut s = FpuState::default();
        s.0[160] = 0xaa;
        s.0[32] = 0x55;
        let back = fpu_to_fxsave(&fxsave_to_fpu(&s));
        assert_eq!(back.0[..416], s.0[..416]);
    }

    #[test]
    fn regs_round_trip() {
        let u = UserRegs { rax: 1, r15: 15, rip: 0x1000, rflags: 0x202, fs_base: 7, gs_base: 8, ..Default::default() };
        assert_eq!(from_kvm(&to_kvm(&u), 7, 8), u);
    }
}
