//! The classic-BPF program behind [`crate::host::seccomp_allowlist`]: an
//! allowlist of x86_64 system call numbers, searched as a balanced tree.
//!
//! A linear list of comparisons costs the kernel a lot when it loads the
//! filter: it runs the filter once per system call number to find the ones
//! it may allow without running it again (the action cache), so a list of
//! 200 numbers is some 90,000 instructions emulated at load, about 0.3 ms
//! of every cloud's start. A tree takes a handful of comparisons per number.

/// One classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const LD_ABS_W: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
const X32_BIT: u32 = 0x4000_0000;
/// Numbers tested one after another at a leaf of the tree.
const LEAF: usize = 4;

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// The filter: x86_64 calls whose number is in `allowed` pass, any other
/// returns `errno`, and another ABI (i386, x32) kills the process. None when
/// the list is empty or longer than 250 numbers (the jumps of one
/// program reach 255 instructions).
pub fn allowlist(allowed: &[i64], errno: i32) -> Option<Vec<Insn>> {
    let mut nrs =
        allowed.iter().map(|&n| u32::try_from(n).ok().filter(|n| n & X32_BIT == 0)).collect::<Option<Vec<u32>>>()?;
    nrs.sort_unstable();
    nrs.dedup();
    if nrs.is_empty() || nrs.len() > 250 {
        return None;
    }
    let deny = RET_ERRNO | (errno as u32 & 0xffff);
    let mut f = vec![
        insn(LD_ABS_W, 0, 0, 4), // seccomp_data.arch
        insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        insn(RET_K, 0, 0, RET_KILL_PROCESS),
        insn(LD_ABS_W, 0, 0, 0), // seccomp_data.nr
        // x32 numbers carry bit 30; they never match the list but must not
        // reach the errno default either.
        insn(JSET_K, 0, 1, X32_BIT),
        insn(RET_K, 0, 0, RET_KILL_PROCESS),
    ];
    tree(&nrs, deny, &mut f)?;
    (f.len() <= u16::MAX as usize).then_some(f)
}

/// Appends the search of `nrs` (sorted): at a leaf, a few equality tests,
/// each jumping to the allow at its end; above, "number >= pivot" jumps
/// over the lower half to the upper.
fn tree(nrs: &[u32], deny: u32, f: &mut Vec<Insn>) -> Option<()> {
    if nrs.len() <= LEAF {
        for (i, nr) in nrs.iter().enumerate() {
            // Over the remaining tests and the deny, to the allow.
            f.push(insn(JEQ_K, (nrs.len() - i) as u8, 0, *nr));
        }
        f.push(insn(RET_K, 0, 0, deny));
        f.push(insn(RET_K, 0, 0, RET_ALLOW));
        return Some(());
    }
    let (low, high) = nrs.split_at(nrs.len() / 2);
    let at = f.len();
    f.push(insn(JGE_K, 0, 0, high[0]));
    tree(low, deny, f)?;
    f[at].jt = u8::try_from(f.len() - at - 1).ok()?;
    tree(high, deny, f)
}

/// What the kernel would do with `prog` for a call of `arch` and `nr`, and
/// after how many instructions: a small interpreter of the instructions
/// `allowlist` emits, for tests.
pub fn run(prog: &[Insn], arch: u32, nr: u32) -> Option<(u32, usize)> {
    let (mut pc, mut a) = (0usize, 0u32);
    for steps in 1.. {
        let i = prog.get(pc)?;
        pc += 1;
        match i.code {
            LD_ABS_W => a = if i.k == 4 { arch } else { nr },
            RET_K => return Some((i.k, steps)),
            JEQ_K | JGE_K | JSET_K => {
                let taken = match i.code {
                    JEQ_K => a == i.k,
                    JGE_K => a >= i.k,
                    _ => a & i.k != 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(allowed: &[i64]) {
        let prog = allowlist(allowed, 1).expect("a program");
        let action = |arch, nr| run(&prog, arch, nr).map(|(a, _)| a);
        for nr in 0..1024u32 {
            let want = if allowed.contains(&(nr as i64)) { RET_ALLOW } else { RET_ERRNO | 1 };
            assert_eq!(action(AUDIT_ARCH_X86_64, nr), Some(want), "nr {nr} of {allowed:?}");
            assert_eq!(action(AUDIT_ARCH_X86_64, nr | X32_BIT), Some(RET_KILL_PROCESS), "x32 {nr}");
        }
        assert_eq!(action(0x4000_0003, 0), Some(RET_KILL_PROCESS), "i386");
    }

    #[test]
    fn the_tree_allows_exactly_the_list() {
        check(&[0]);
        check(&[1, 2, 3, 4, 5]);
        check(&[0, 1, 2, 3, 60, 231, 435]);
        let big: Vec<i64> = (0..250).map(|i| (i * 7 % 451) as i64).collect();
        check(&big);
        let odd: Vec<i64> = (0..450).filter(|i| i % 3 != 1).take(250).collect();
        check(&odd);
    }

    #[test]
    fn the_tree_is_shallow() {
        // A call is decided in a few comparisons, not one per listed number:
        // 6 for the ABI checks, 8 levels for 250 numbers, a leaf of 4, a return.
        let list: Vec<i64> = (0..250).map(|i| i * 2).collect();
        let prog = allowlist(&list, 1).unwrap();
        for nr in 0..600 {
            let (_, steps) = run(&prog, AUDIT_ARCH_X86_64, nr).unwrap();
            assert!(steps <= 6 + 8 + 4 + 1, "nr {nr}: {steps} instructions");
        }
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(allowlist(&[], 1).is_none());
        assert!(allowlist(&[-1], 1).is_none());
        assert!(allowlist(&[1 << 30], 1).is_none());
        let huge: Vec<i64> = (0..400).collect();
        assert!(allowlist(&huge, 1).is_none());
        // Repeats count once.
        assert!(allowlist(&[3, 3, 3], 1).is_some());
    }
}
