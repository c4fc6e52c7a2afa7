//! Counters for `WISP_STATS=1`.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default)]
pub struct Stats {
    pub exits: u64,
    pub syscalls: u64,
    pub faults: u64,
    pub spurious_faults: u64,
    pub interrupts: u64,
    pub signals: u64,
    pub patched: u64,
    pub host_time: Duration,
    /// Calls per syscall number.
    pub per_nr: BTreeMap<u64, u64>,
    /// Calls that returned ENOSYS because the number is unknown or unsupported.
    pub unknown: BTreeMap<u64, u64>,
}

impl Stats {
    pub fn record(&mut self, nr: u64, took: Duration) {
        self.syscalls += 1;
        self.host_time += took;
        *self.per_nr.entry(nr).or_default() += 1;
    }

    /// One line for stderr.
    pub fn summary(&self) -> String {
        let mut top: Vec<(&u64, &u64)> = self.per_nr.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> =
            top.iter().take(8).map(|(nr, n)| format!("{}={n}", crate::syscalls::name(**nr))).collect();
        let unknown: Vec<String> =
            self.unknown.iter().map(|(nr, n)| format!("{}={n}", crate::syscalls::name(*nr))).collect();
        format!(
            "exits={} syscalls={} faults={} spurious={} signals={} patched_sites={} host_time={:.3}ms top=[{}] enosys=[{}]",
            self.exits,
            self.syscalls,
            self.faults,
            self.spurious_faults,
            self.signals,
            self.patched,
            self.host_time.as_secs_f64() * 1e3,
            top.join(" "),
            unknown.join(" ")
        )
    }
}
