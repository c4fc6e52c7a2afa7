//! The guest clock behind the vDSO.
//!
//! The vDSO computes time from the guest TSC and the parameters here, written
//! into the vvar page under it (layout in guest/vdso/vdso.c). The host's own
//! clock syscalls use the same formula, so vDSO and syscall paths agree and the
//! monotonic clock never steps backwards between them.

use crate::host;

/// TSC-to-nanosecond conversion anchored at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Guest TSC minus host TSC.
    pub tsc_offset: i64,
    pub tsc_base: u64,
    /// Nanoseconds per tick, 32.32 fixed point.
    pub mult: u64,
    pub mono_base: u64,
    pub real_base: u64,
}

fn ns(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

impl Clock {
    /// Anchors a clock now, for a guest whose TSC runs at `khz` and reads
    /// `tsc_offset` ahead of the host's.
    pub fn new(tsc_offset: i64, khz: u64) -> Option<Clock> {
        if khz == 0 {
            return None;
        }
        let mono = host::clock_gettime(libc::CLOCK_MONOTONIC).ok()?;
        let real = host::clock_gettime(libc::CLOCK_REALTIME).ok()?;
        let tsc = host::rdtsc().wrapping_add(tsc_offset as u64);
        let mult = ((1_000_000u128 << 32) / khz as u128) as u64;
        Some(Clock { tsc_offset, tsc_base: tsc, mult, mono_base: ns(&mono), real_base: ns(&real) })
    }

    /// Nanoseconds of the monotonic or real-time clock at guest TSC `tsc`.
    pub fn at(&self, tsc: u64, real: bool) -> u64 {
        let d = ((tsc.saturating_sub(self.tsc_base) as u128 * self.mult as u128) >> 32) as u64;
        (if real { self.real_base } else { self.mono_base }).wrapping_add(d)
    }

    /// The clock now, read on the host.
    pub fn now(&self, real: bool) -> u64 {
        self.at(host::rdtsc().wrapping_add(self.tsc_offset as u64), real)
    }

    /// The vvar page contents.
    pub fn vvar(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        b[8..16].copy_from_slice(&self.tsc_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.mult.to_le_bytes());
        b[24..32].copy_from_slice(&self.mono_base.to_le_bytes());
        b[32..40].copy_from_slice(&self.real_base.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_and_monotonicity() {
        let c = Clock {
            tsc_offset: 0,
            tsc_base: 1000,
            mult: ((1_000_000u128 << 32) / 2_000_000) as u64,
            mono_base: 5,
            real_base: 7,
        };
        assert_eq!(c.at(1000, false), 5);
        assert_eq!(c.at(3000, false), 5 + 1000, "2 GHz: 2000 ticks = 1000 ns");
        assert_eq!(c.at(500, true), 7, "never before the base");
        assert_eq!(c.at(2_000_001_000, false), 5 + 1_000_000_000);
        let live = Clock::new(0, 2_000_000).unwrap();
        let a = live.now(false);
        let b = live.now(false);
        assert!(b >= a);
        assert_eq!(&live.vvar()[4..8], &1u32.to_le_bytes());
    }
}
