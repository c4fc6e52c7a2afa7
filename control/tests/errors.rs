//! `wisp run` error handling: each failure gives one clear line and the exit
//! status a shell would use; faults and timeouts end the program properly.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_exec(name: &str, bytes: &[u8]) -> String {
    let p = build_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn bad_programs_get_shell_statuses() {
    if !kvm_or_skip("bad_programs_get_shell_statuses") {
        return;
    }
    let missing = in_wisp(&[], &["/no/such/program".into()]);
    assert_eq!(status(&missing), 127, "{}", stderr(&missing));
    assert_eq!(stderr(&missing).lines().count(), 1);
    let unknown = in_wisp(&[], &["no-such-command-anywhere".into()]);
    assert_eq!(status(&unknown), 127);
    assert!(stderr(&unknown).contains("command not found"));

    let text = write_exec("not-elf", b"hello, I am text\n");
    let o = in_wisp(&[], &[text]);
    assert_eq!(status(&o), 126, "{}", stderr(&o));
    assert!(stderr(&o).contains("not an ELF"), "{}", stderr(&o));

    let busybox = std::fs::read("/bin/busybox").unwrap();
    let mut arm = busybox.clone();
    arm[18] = 183; // EM_AARCH64
    let o = in_wisp(&[], &[write_exec("foreign-arch", &arm)]);
    assert_eq!(status(&o), 126);
    assert!(stderr(&o).contains("another architecture"), "{}", stderr(&o));

    let o = in_wisp(&[], &[write_exec("truncated", &busybox[..100])]);
    assert_eq!(status(&o), 126, "{}", stderr(&o));
    let o = in_wisp(&[], &[write_exec("truncated2", &busybox[..200_000])]);
    assert_eq!(status(&o), 126, "{}", stderr(&o));

    let mut hostile = busybox.clone();
    hostile[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
    let o = in_wisp(&[], &[write_exec("hostile-phoff", &hostile)]);
    assert_eq!(status(&o), 126, "{}", stderr(&o));

    let noexec = build_dir().join("noexec");
    std::fs::write(&noexec, &busybox).unwrap();
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = in_wisp(&[], &[noexec.to_string_lossy().into_owned()]);
    assert_eq!(status(&o), 126);

    let o = in_wisp(&[], &["/usr".into()]);
    assert_eq!(status(&o), 126);
}

#[test]
fn flags_are_validated() {
    let o = in_wisp(&["--mem", "12X"], &["/bin/true".into()]);
    assert_eq!(status(&o), 2, "clap usage error");
    let o = in_wisp(&["--root", "/no/such/dir"], &["/bin/busybox".into()]);
    assert_eq!(status(&o), 125);
    assert!(stderr(&o).contains("--root"));
    let o = in_wisp(&["--env", "NOEQUALS"], &["/bin/busybox".into()]);
    assert_eq!(status(&o), 125);
}

#[test]
fn faults_print_one_line_and_kill_with_the_signal() {
    if !kvm_or_skip("faults_print_one_line_and_kill_with_the_signal") {
        return;
    }
    let bin = build_c(&repo().join("tests/hostile/null_jump.c"));
    let o = in_wisp(&[], &[bin.to_string_lossy().into_owned()]);
    assert_eq!(status(&o), 139);
    let err = stderr(&o);
    assert!(err.contains("SIGSEGV") && err.contains("rip"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("wisp:")).count(), 1, "{err}");
}

#[test]
fn timeout_kills_a_pure_cpu_loop() {
    if !kvm_or_skip("timeout_kills_a_pure_cpu_loop") {
        return;
    }
    let src = build_dir().join("spin.c");
    std::fs::write(&src, "int main(void){ for(;;) __asm__ volatile(\"\"); }\n").unwrap();
    let bin = build_c(&src);
    let t = std::time::Instant::now();
    let o = in_wisp(&["--timeout", "1s"], &[bin.to_string_lossy().into_owned()]);
    assert_eq!(status(&o), 124, "{}", stderr(&o));
    assert!(t.elapsed().as_secs() < 30, "the timeout must end the run");
    assert!(stderr(&o).contains("timed out"));
}

#[test]
fn env_cwd_and_memory_limit() {
    if !kvm_or_skip("env_cwd_and_memory_limit") {
        return;
    }
    let sh = |s: &str| vec!["/bin/busybox".to_string(), "sh".into(), "-c".into(), s.into()];
    let o = in_wisp(&["--env", "GREETING=hi there", "--cwd", "/usr"], &sh("echo \"$GREETING\"; pwd"));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi there\n/usr\n");
    // Past --mem the guest sees ENOMEM (MemoryError), never the host OOM killer.
    let py = vec!["/usr/bin/python3".to_string(), "-c".into(), "b = bytearray(200 << 20)\nprint('allocated')".into()];
    let o = in_wisp(&["--mem", "64M"], &py);
    assert_eq!(status(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("MemoryError"), "{}", stderr(&o));
    let o = in_wisp(&["--mem", "512M"], &py);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "allocated\n", "{}", stderr(&o));
}

#[test]
fn host_signals_reach_the_guest() {
    if !kvm_or_skip("host_signals_reach_the_guest") {
        return;
    }
    let script = "import time\ntry:\n    time.sleep(20)\nexcept KeyboardInterrupt:\n    print('interrupted')\n";
    let child = std::process::Command::new(wisp())
        .args(["run", "--", "/usr/bin/python3", "-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "interrupted\n");
    assert_eq!(status(&out), 0);
}

/// Runs wisp where /dev/kvm is missing (an empty /dev in a private mount
/// namespace) and as a user without access to it. Needs root to set up.
#[test]
fn missing_or_forbidden_kvm_gives_one_clear_line() {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if !root || std::process::Command::new("unshare").arg("--version").output().is_err() {
        eprintln!("SKIPPED: needs root and util-linux to hide /dev/kvm");
        return;
    }
    let o = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs none /dev && exec \"$0\" run -- /bin/busybox true"])
        .arg(wisp())
        .output()
        .unwrap();
    assert_eq!(status(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("/dev/kvm: no such device"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);

    if std::path::Path::new("/dev/kvm").exists() {
        // A copy of wisp any user can run, outside directories nobody may enter.
        let dir = std::env::temp_dir().join(format!("wisp-perm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("wisp");
        std::fs::copy(wisp(), &bin).unwrap();
        let o = std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&bin)
            .args(["run", "--", "/bin/busybox", "true"])
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(status(&o), 125, "{}", stderr(&o));
        assert!(stderr(&o).contains("permission denied; add your user to the kvm group"), "{}", stderr(&o));
    }
}
