//! futex(2): the wait queues live in `crate::machine`, keyed by the physical
//! address of the futex word (or its file position in a shared file mapping),
//! so private and shared futexes work alike.

use std::time::{Duration, Instant};

use super::{Args, read_timespec};
use crate::errno::{Errno, SysResult};
use crate::task::Process;

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE_BITSET: i32 = 10;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;

fn key(p: &Process, uaddr: u64) -> Result<u64, Errno> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    p.mm.futex_key(uaddr).ok_or(Errno::EFAULT)
}

fn read_u32(p: &Process, uaddr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    p.mm.copy_in(uaddr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// The host instant for a guest timeout: relative, or absolute on the guest's
/// monotonic or real-time clock.
fn deadline(p: &Process, ts: u64, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if ts == 0 {
        return Ok(None);
    }
    let t = read_timespec(p, ts)?;
    let want = Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
    if !absolute {
        return Ok(Some(Instant::now() + want));
    }
    let clock = if realtime { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
    let now = crate::host::clock_gettime(clock)?;
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    Ok(Some(Instant::now() + want.saturating_sub(now)))
}

/// Implements Linux `futex(2)`: WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE
/// and CMP_REQUEUE (private or shared). PI futexes are not supported.
pub fn sys_futex(p: &mut Process, a: &Args) -> SysResult {
    let (uaddr, op, val) = (a.u(0), a.i(1), a.u32(2));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let machine = p.machine.clone();
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT_BITSET { a.u32(5) } else { u32::MAX };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(p, uaddr)?;
            let when = deadline(p, a.u(3), cmd == FUTEX_WAIT_BITSET, op & FUTEX_CLOCK_REALTIME != 0)?;
            let Some(m) = machine else {
                // One thread and no machine: nobody could wake us.
                return if read_u32(p, uaddr)? != val { Err(Errno::EAGAIN) } else { Err(Errno::EDEADLK) };
            };
            let mm = p.mm.clone();
            let probe = p.interrupt_probe();
            m.futex_wait(
                k,
                bitset,
                || {
                    let mut b = [0u8; 4];
                    mm.copy_in(uaddr, &mut b).is_ok() && u32::from_le_bytes(b) == val
                },
                when,
                &probe,
            )
            .map(|_| 0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE_BITSET { a.u32(5) } else { u32::MAX };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(p, uaddr)?;
            Ok(machine.map(|m| m.futex_wake(k, val, bitset)).unwrap_or(0) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let k = key(p, uaddr)?;
            let k2 = key(p, a.u(4))?;
            if cmd == FUTEX_CMP_REQUEUE && read_u32(p, uaddr)? != a.u32(5) {
                return Err(Errno::EAGAIN);
            }
            let requeue = a.u(3) as u32;
            Ok(machine.map(|m| m.futex_requeue(k, val, u32::MAX, Some((k2, requeue)))).unwrap_or(0) as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}
