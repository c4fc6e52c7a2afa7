//! Conformance: every program in tests/compat behaves inside a machine exactly
//! as it does natively (stdout and exit status).

mod common;

use common::*;

#[test]
fn compat_programs_match_native() {
    if !kvm_or_skip("compat_programs_match_native") {
        return;
    }
    let progs = programs("compat");
    assert!(progs.len() >= 30, "expected at least 30 conformance programs, found {}", progs.len());
    let mut failures = Vec::new();
    for p in &progs {
        if let Some(diff) = compare(&command_for(p)) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance programs differ:\n{}",
        failures.len(),
        progs.len(),
        failures.join("\n")
    );
    eprintln!("compat: {} programs match native", progs.len());
}

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/busybox".into(), "sh".into(), "-c".into(), script.into()]
}

#[test]
fn acceptance_commands_match_native() {
    if !kvm_or_skip("acceptance_commands_match_native") {
        return;
    }
    let src = repo().join("tests/compat");
    let file = src.join("file_rw.c").to_string_lossy().into_owned();
    let dir = src.to_string_lossy().into_owned();
    let bb = |args: &[&str]| -> Vec<String> {
        std::iter::once("/bin/busybox").chain(args.iter().copied()).map(String::from).collect()
    };
    let cases: Vec<Vec<String>> = vec![
        bb(&["echo", "hello"]),
        sh("echo $((6*7)); x=abc; echo ${#x}"),
        vec![
            "/usr/bin/python3".into(),
            "-c".into(),
            r#"import json,re,hashlib,math,datetime; print(json.dumps({"a":[1,2]}), hashlib.sha256(b"x").hexdigest())"#
                .into(),
        ],
        bb(&["ls", &dir]),
        bb(&["cat", &file]),
        bb(&["wc", &file]),
        bb(&["sort", &file]),
        bb(&["sed", "-n", "s/int/INT/p", &file]),
        bb(&["awk", "{ n += NF } END { print n, NR }", &file]),
        bb(&["grep", "-n", "include", &file]),
        bb(&["head", "-n", "3", &file]),
        bb(&["tail", "-n", "3", &file]),
        bb(&["md5sum", &file]),
        bb(&["find", &dir, "-name", "*.py"]),
        bb(&["true"]),
        bb(&["false"]),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| compare(c)).collect();
    assert!(failures.is_empty(), "{} commands differ:\n{}", failures.len(), failures.join("\n"));
}
