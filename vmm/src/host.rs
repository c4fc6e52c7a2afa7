//! The personality's `Host`: vCPUs on demand (reused when a process ends)
//! and thread kicks.

use std::sync::{Arc, Mutex};

use wisp_kernel::machine::{Host, Kick};
use wisp_kernel::platform::{Platform, PlatformError};

use crate::sys::{self, Kicker};
use crate::vcpu::KvmVm;

impl Kick for Kicker {
    fn kick(&self) {
        Kicker::kick(self);
    }
}

/// Runs a machine's processes on vCPUs of one VM.
pub struct KvmHost {
    pub vm: Arc<KvmVm>,
    idle: Mutex<Vec<Box<dyn Platform + Send>>>,
}

impl KvmHost {
    pub fn new(vm: Arc<KvmVm>) -> KvmHost {
        KvmHost { vm, idle: Mutex::new(Vec::new()) }
    }
}

impl Host for KvmHost {
    fn new_vcpu(&self) -> Result<Box<dyn Platform + Send>, PlatformError> {
        if let Some(v) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(v);
        }
        self.vm.vcpu().map(|v| Box::new(v) as Box<dyn Platform + Send>).map_err(|e| PlatformError::Ioctl(e.to_string()))
    }

    fn recycle(&self, mut vcpu: Box<dyn Platform + Send>) {
        vcpu.detach();
        // Creating a vCPU costs about half a millisecond; a finished process's
        // vCPU serves the next one (its first switch reloads every register).
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(vcpu);
    }

    fn kicker(&self) -> Arc<dyn Kick> {
        Arc::new(Kicker::current())
    }

    fn thread_init(&self) {
        sys::block_forwarded_signals();
    }

    fn flush_translations(&self) -> bool {
        match self.vm.flush_translations() {
            Ok(()) => true,
            Err(e) => {
                eprintln!("wisp: page-table frames not recycled: {e}");
                false
            }
        }
    }
}
