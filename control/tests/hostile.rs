//! Hostile guests: crashes, wild pointers, memory abuse and root escapes. The
//! host process must survive each, and give the right errno or signal.

mod common;

use std::path::Path;

use common::*;

fn expectation(src: &Path) -> String {
    let text = std::fs::read_to_string(src).unwrap();
    text.lines().find_map(|l| l.strip_prefix("// expect: ")).unwrap_or("native").trim().to_string()
}

#[test]
fn hostile_programs_behave_as_natively() {
    if !kvm_or_skip("hostile_programs_behave_as_natively") {
        return;
    }
    let progs: Vec<_> = programs("hostile").into_iter().filter(|p| expectation(p) == "native").collect();
    assert!(progs.len() >= 10);
    let failures: Vec<String> = progs.iter().filter_map(|p| compare(&command_for(p))).collect();
    assert!(failures.is_empty(), "{} hostile programs differ from native:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn root_escapes_are_refused() {
    if !kvm_or_skip("root_escapes_are_refused") {
        return;
    }
    // A secret outside the machine's root that no technique may read or change.
    let secret = std::env::temp_dir().join("wisp-hostile-secret");
    std::fs::write(&secret, b"top secret\n").unwrap();
    let progs: Vec<_> = programs("hostile").into_iter().filter(|p| expectation(p) == "escape").collect();
    assert!(progs.len() >= 5);
    let mut failures = Vec::new();
    for p in &progs {
        let bin = build_c(p);
        let root = build_dir().join(format!("root-{}", p.file_stem().unwrap().to_string_lossy()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::copy(&bin, root.join("prog")).unwrap();
        let out = in_wisp(&["--root", root.to_str().unwrap()], &["/prog".to_string()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.contains("LEAK") || status(&out) != 0 || !stdout.contains("blocked") {
            failures.push(format!(
                "{}: status {}\n{}{}",
                p.display(),
                status(&out),
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert_eq!(std::fs::read(&secret).unwrap(), b"top secret\n", "the secret outside the root changed");
    assert!(failures.is_empty(), "escapes not refused:\n{}", failures.join("\n"));
}
