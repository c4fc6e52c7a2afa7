use super::*;

const RW: u32 = (libc::PROT_READ | libc::PROT_WRITE) as u32;
const R: u32 = libc::PROT_READ as u32;

fn mm(limit_pages: u64) -> AddressSpace {
    let phys = PhysMem::new(4096 * PAGE_SIZE).unwrap();
    AddressSpace::new(phys, MMAP_MIN_ADDR, limit_pages * PAGE_SIZE).unwrap()
}

#[test]
fn mmap_copy_and_munmap() {
    let mut m = mm(64);
    let a = m.mmap(Placement::Hint(0), 3 * PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    assert!(a >= MMAP_MIN_ADDR && a + 3 * PAGE_SIZE <= MMAP_BASE);
    m.copy_out(a + PAGE_SIZE - 2, b"abcd").unwrap();
    let mut b = [0u8; 4];
    m.copy_in(a + PAGE_SIZE - 2, &mut b).unwrap();
    assert_eq!(&b, b"abcd");
    assert_eq!(m.user_bytes(), 3 * PAGE_SIZE);
    m.munmap(a + PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(m.user_bytes(), 2 * PAGE_SIZE);
    assert_eq!(m.copy_in(a + PAGE_SIZE, &mut b), Err(Errno::EFAULT));
    assert_eq!(m.handle_fault(a + PAGE_SIZE, 0), FaultOutcome::Segv(SEGV_MAPERR));
    assert_eq!(m.vmas().iter().count(), 2, "munmap in the middle splits the area");
}

#[test]
fn limit_gives_enomem_not_partial_mappings() {
    let mut m = mm(4);
    assert_eq!(m.mmap(Placement::Hint(0), 8 * PAGE_SIZE, RW, Backing::Anon, None), Err(Errno::ENOMEM));
    assert_eq!(m.user_bytes(), 0, "a failed mmap leaves nothing behind");
    assert_eq!(m.vmas().iter().count(), 0);
    assert!(m.mmap(Placement::Hint(0), 4 * PAGE_SIZE, RW, Backing::Anon, None).is_ok());
}

#[test]
fn mprotect_checks_and_faults() {
    let mut m = mm(64);
    let a = m.mmap(Placement::Hint(0), 2 * PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    m.mprotect(a, PAGE_SIZE, R).unwrap();
    assert_eq!(m.copy_out(a, b"x"), Err(Errno::EFAULT));
    assert!(m.copy_out(a + PAGE_SIZE, b"x").is_ok());
    assert_eq!(m.handle_fault(a, 2), FaultOutcome::Segv(SEGV_ACCERR));
    assert_eq!(m.mprotect(a, 4 * PAGE_SIZE, R), Err(Errno::ENOMEM), "range runs past the mapping");
    assert_eq!(m.mprotect(a + 1, PAGE_SIZE, R), Err(Errno::EINVAL));
    m.mprotect(a, PAGE_SIZE, 0).unwrap();
    m.mprotect(a, PAGE_SIZE, RW).unwrap();
    m.copy_out(a, b"y").unwrap();
}

#[test]
fn prot_none_reservation_gets_frames_on_mprotect() {
    let mut m = mm(64);
    let a = m.mmap(Placement::Hint(0), 16 * PAGE_SIZE, 0, Backing::Anon, None).unwrap();
    assert_eq!(m.user_bytes(), 0);
    m.mprotect(a + 4 * PAGE_SIZE, 2 * PAGE_SIZE, RW).unwrap();
    assert_eq!(m.user_bytes(), 2 * PAGE_SIZE);
    m.copy_out(a + 4 * PAGE_SIZE, b"ok").unwrap();
}

#[test]
fn mremap_moves_without_copy_and_keeps_data() {
    let mut m = mm(64);
    let a = m.mmap(Placement::Hint(0), 2 * PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    // Block in-place growth.
    m.mmap(Placement::Fixed(a + 2 * PAGE_SIZE), PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    m.copy_out(a + 100, b"keep").unwrap();
    assert_eq!(m.mremap(a, 2 * PAGE_SIZE, 4 * PAGE_SIZE, false, None), Err(Errno::ENOMEM));
    let b = m.mremap(a, 2 * PAGE_SIZE, 4 * PAGE_SIZE, true, None).unwrap();
    assert_ne!(a, b);
    let mut buf = [0u8; 4];
    m.copy_in(b + 100, &mut buf).unwrap();
    assert_eq!(&buf, b"keep");
    assert_eq!(m.copy_in(a + 100, &mut buf), Err(Errno::EFAULT));
    assert_eq!(m.user_bytes(), 5 * PAGE_SIZE);
    let c = m.mremap(b, 4 * PAGE_SIZE, PAGE_SIZE, true, None).unwrap();
    assert_eq!(c, b);
    assert_eq!(m.user_bytes(), 2 * PAGE_SIZE);
}

#[test]
fn brk_grows_shrinks_and_refuses_abuse() {
    let mut m = mm(64);
    m.set_brk_start(0x40_0000);
    assert_eq!(m.brk(0), 0x40_0000);
    assert_eq!(m.brk(0x40_2010), 0x40_2010);
    m.copy_out(0x40_2000, b"z").unwrap();
    assert_eq!(m.brk(1 << 47), 0x40_2010, "absurd break is refused");
    assert_eq!(m.brk(0x1000), 0x40_2010, "below the start is refused");
    assert_eq!(m.brk(0x40_0000 + 1000 * PAGE_SIZE), 0x40_2010, "past the memory limit is refused");
    assert_eq!(m.brk(0x40_1000), 0x40_1000);
    assert_eq!(m.copy_out(0x40_2000, b"z"), Err(Errno::EFAULT));
    assert!(m.maps().contains("[heap]"));
}

#[test]
fn fixed_and_noreplace() {
    let mut m = mm(64);
    let a = m.mmap(Placement::Fixed(0x20_0000), PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    assert_eq!(a, 0x20_0000);
    m.copy_out(a, b"old").unwrap();
    assert_eq!(m.mmap(Placement::NoReplace(a), PAGE_SIZE, RW, Backing::Anon, None), Err(Errno::EEXIST));
    m.mmap(Placement::Fixed(a), PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    let mut b = [1u8; 3];
    m.copy_in(a, &mut b).unwrap();
    assert_eq!(b, [0; 3], "MAP_FIXED replaces the old pages");
    assert_eq!(m.mmap(Placement::Fixed(0x1000), PAGE_SIZE, RW, Backing::Anon, None), Err(Errno::EPERM));
    assert_eq!(m.mmap(Placement::Hint(0), 1 << 48, RW, Backing::Anon, None), Err(Errno::ENOMEM));
    assert_eq!(m.munmap(a + 1, 1), Err(Errno::EINVAL));
}

#[test]
fn wild_pointers_fault_cleanly() {
    let m = mm(4);
    let mut b = [0u8; 8];
    for p in [0u64, 1, 0xffff_8000_0000_0000, u64::MAX - 3, USER_END - 4] {
        assert_eq!(m.copy_in(p, &mut b), Err(Errno::EFAULT), "{p:#x}");
    }
    assert_eq!(m.read_cstr(0x1234_0000, 4096), Err(Errno::EFAULT));
}

#[test]
fn stack_populates_on_demand_and_is_charged_then() {
    let mut m = mm(64);
    m.map_stack(STACK_TOP, 32 * PAGE_SIZE, 4 * PAGE_SIZE).unwrap();
    assert_eq!(m.user_bytes(), 4 * PAGE_SIZE);
    let deep = STACK_TOP - 20 * PAGE_SIZE;
    assert_eq!(m.copy_out(deep, b"x"), Err(Errno::EFAULT), "not populated yet");
    assert_eq!(m.handle_fault(deep, 2), FaultOutcome::Retry);
    m.copy_out(deep, b"x").unwrap();
    assert_eq!(m.user_bytes(), 5 * PAGE_SIZE);
    assert_eq!(m.handle_fault(STACK_TOP - 40 * PAGE_SIZE, 2), FaultOutcome::Segv(SEGV_MAPERR), "below the stack");
    let deeper = STACK_TOP - 10 * PAGE_SIZE;
    m.ensure_stack(deeper);
    m.copy_out(deeper, b"y").unwrap();
    m.copy_out(STACK_TOP - 6 * PAGE_SIZE, b"z").unwrap();
}

#[test]
fn fork_shares_copy_on_write_and_frees_by_last_reference() {
    let mut parent = mm(64);
    let a = parent.mmap(Placement::Hint(0), 2 * PAGE_SIZE, RW, Backing::Anon, None).unwrap();
    let s = parent.mmap(Placement::Hint(0), PAGE_SIZE, RW, Backing::SharedAnon, None).unwrap();
    parent.copy_out(a, b"parent").unwrap();
    let used = parent.user_bytes();
    let mut child = parent.fork().unwrap();
    assert_eq!(child.user_bytes(), used, "fork copies nothing");
    assert_ne!(child.root(), parent.root());
    let mut b = [0u8; 6];
    child.copy_in(a, &mut b).unwrap();
    assert_eq!(&b, b"parent");
    // A write by the host on the child's behalf breaks copy-on-write...
    child.copy_out(a, b"child!").unwrap();
    assert_eq!(child.user_bytes(), used + PAGE_SIZE);
    parent.copy_in(a, &mut b).unwrap();
    assert_eq!(&b, b"parent", "the parent keeps its page");
    // ...and so does a guest write fault.
    assert_eq!(parent.handle_fault(a + PAGE_SIZE, 2), FaultOutcome::Retry);
    parent.copy_out(a + PAGE_SIZE, b"p2").unwrap();
    child.copy_in(a + PAGE_SIZE, &mut b[..2]).unwrap();
    assert_eq!(&b[..2], &[0, 0]);
    // Shared anonymous memory stays shared.
    child.copy_out(s, b"both").unwrap();
    parent.copy_in(s, &mut b[..4]).unwrap();
    assert_eq!(&b[..4], b"both");
    drop(child);
    assert_eq!(parent.user_bytes(), used, "the child's private copies went back");
    let root = parent.root();
    let fresh = parent.new_address_space().unwrap();
    assert_ne!(fresh.root(), root);
    assert_eq!(fresh.vmas().iter().count(), 0);
}

#[test]
fn fork_keeps_read_only_pages_read_only() {
    let mut parent = mm(64);
    let a = parent.mmap(Placement::Hint(0), PAGE_SIZE, R, Backing::Anon, None).unwrap();
    let mut child = parent.fork().unwrap();
    assert_eq!(child.handle_fault(a, 2), FaultOutcome::Segv(SEGV_ACCERR));
    assert_eq!(child.copy_out(a, b"x"), Err(Errno::EFAULT));
    child.mprotect(a, PAGE_SIZE, RW).unwrap();
    child.copy_out(a, b"x").unwrap();
    let mut b = [9u8; 1];
    parent.copy_in(a, &mut b).unwrap();
    assert_eq!(b, [0], "mprotect of a shared page must not expose the parent's frame");
}
