//! Shared helpers for the integration tests: building guest programs, running
//! them natively and inside a machine, and the /dev/kvm gate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn wisp() -> &'static str {
    env!("CARGO_BIN_EXE_wisp")
}

/// True when KVM tests can run; otherwise prints the loud skip line. Either
/// way the outcome goes to $WISP_KVM_GATE_LOG, which .ci/run counts.
pub fn kvm_or_skip(test: &str) -> bool {
    let ran = wisp_vmm::kvm_available();
    let line = if ran { format!("RAN {test}") } else { format!("SKIPPED: no /dev/kvm ({test})") };
    if !ran {
        eprintln!("{line}");
        println!("{line}");
    }
    if let Some(log) = std::env::var_os("WISP_KVM_GATE_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            // One write per line: tests run in parallel and append to the same file.
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
    ran
}

/// Where built guest programs go (inside the repo, so inside the default root).
pub fn build_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest-programs");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Builds a C program following its `// build:` line; returns the binary.
pub fn build_c(src: &Path) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    let first = text.lines().next().unwrap_or("");
    let (cc, static_flag): (&str, &[&str]) = if first.starts_with("// build: gcc-static") {
        ("gcc", &["-static"])
    } else if first.starts_with("// build: gcc") {
        ("gcc", &[])
    } else {
        ("musl-gcc", &["-static"])
    };
    let out = build_dir().join(src.file_stem().unwrap());
    let fresh = out.metadata().and_then(|o| Ok(o.modified()? >= src.metadata()?.modified()?)).unwrap_or(false);
    if !fresh {
        let st = Command::new(cc)
            .args(static_flag)
            .args(["-O1", "-w", "-o"])
            .arg(&out)
            .arg(src)
            .status()
            .unwrap_or_else(|e| panic!("{cc}: {e}"));
        assert!(st.success(), "building {} with {cc} failed", src.display());
    }
    out
}

/// Builds a Rust program with rustc, statically linked.
pub fn build_rs(src: &Path) -> PathBuf {
    let out = build_dir().join(src.file_stem().unwrap());
    let fresh = out.metadata().and_then(|o| Ok(o.modified()? >= src.metadata()?.modified()?)).unwrap_or(false);
    if !fresh {
        let st = Command::new("rustc")
            .args(["-O", "-C", "target-feature=+crt-static", "--edition", "2021", "-o"])
            .arg(&out)
            .arg(src)
            .status()
            .unwrap_or_else(|e| panic!("rustc: {e}"));
        assert!(st.success(), "building {} with rustc failed", src.display());
    }
    out
}

/// The command line that runs `src` (built if C or Rust).
pub fn command_for(src: &Path) -> Vec<String> {
    match src.extension().and_then(|e| e.to_str()) {
        Some("c") => vec![build_c(src).to_string_lossy().into_owned()],
        Some("rs") => vec![build_rs(src).to_string_lossy().into_owned()],
        Some("sh") => vec!["/bin/busybox".into(), "sh".into(), src.to_string_lossy().into_owned()],
        Some("py") => vec!["/usr/bin/python3".into(), src.to_string_lossy().into_owned()],
        _ => panic!("unknown program kind {}", src.display()),
    }
}

/// Exit status as a shell reports it.
pub fn status(o: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    o.status.code().unwrap_or_else(|| 128 + o.status.signal().unwrap_or(0))
}

fn with_timeout(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let out = child.wait_with_output().expect("wait");
    let _ = tx.send(());
    out
}

/// Runs natively with the same clean environment wisp gives its guests.
pub fn native(argv: &[String]) -> Output {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).env_clear().env("PATH", PATH).env("HOME", "/").env("HOSTNAME", "wisp").current_dir("/");
    with_timeout(c, Duration::from_secs(60))
}

/// Runs inside a fresh machine. When the checkout itself lives under /tmp (some
/// CI runners), the machine's /tmp must be the host's or it could not see the
/// programs; otherwise each machine gets its private /tmp.
pub fn in_wisp(flags: &[&str], argv: &[String]) -> Output {
    let mut c = Command::new(wisp());
    c.arg("run").args(flags);
    if repo().starts_with("/tmp") && !flags.contains(&"--root") {
        c.args(["--tmp", "/tmp"]);
    }
    c.arg("--").args(argv).env_remove("TERM").env_remove("WISP_STATS");
    with_timeout(c, Duration::from_secs(60))
}

/// Compares a program inside a machine with the same program run natively.
/// Returns a description of the difference, if any.
pub fn compare(argv: &[String]) -> Option<String> {
    let n = native(argv);
    let w = in_wisp(&[], argv);
    if n.stdout == w.stdout && status(&n) == status(&w) {
        return None;
    }
    Some(format!(
        "{}: native status {} / wisp status {}\n--- native stdout\n{}--- wisp stdout\n{}--- wisp stderr\n{}",
        argv.join(" "),
        status(&n),
        status(&w),
        String::from_utf8_lossy(&n.stdout),
        String::from_utf8_lossy(&w.stdout),
        String::from_utf8_lossy(&w.stderr)
    ))
}

/// Programs in a tests/ subdirectory, sorted.
pub fn programs(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("tests").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("c" | "rs" | "sh" | "py")))
        .collect();
    v.sort();
    v
}
