//! Processes inside one machine: pipelines, background jobs, subprocess,
//! fork limits, and the conformance programs in tests/procs.

mod common;

use common::*;

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/busybox".into(), "sh".into(), "-c".into(), script.into()]
}

fn py(script: &str) -> Vec<String> {
    vec!["/usr/bin/python3".into(), "-c".into(), script.into()]
}

#[test]
fn issue_acceptance_commands_match_native() {
    if !kvm_or_skip("issue_acceptance_commands_match_native") {
        return;
    }
    let cases = [
        sh("seq 1 2000 | grep 7 | sort -rn | head -3; echo $?"),
        vec![
            "/usr/bin/python3".into(),
            "-c".into(),
            r#"import subprocess;print(subprocess.run(["/bin/busybox","echo","hi"],capture_output=True,text=True).stdout.strip())"#
                .into(),
        ],
        sh("x=$(echo hi | tr a-z A-Z); echo $x; echo $(seq 3) | xargs -n1 echo; (exit 3); echo $?"),
        sh("/bin/busybox timeout 1 sh -c 'while :; do :; done'; echo $?"),
        py("import concurrent.futures, threading\n\
def work(n):\n    return sum(i * i for i in range(n))\n\
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:\n\
    print(sum(ex.map(work, [20000 + i for i in range(16)])), threading.active_count())"),
        py("import multiprocessing\n\
def sq(x):\n    return x * x\n\
if __name__ == '__main__':\n\
    with multiprocessing.Pool(2) as p:\n        print(p.map(sq, range(10)))"),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| compare(c)).collect();
    assert!(failures.is_empty(), "{} commands differ:\n{}", failures.len(), failures.join("\n"));
}

/// Background jobs finish in any order, natively too: compare the lines as a
/// set, and that `done` comes last.
#[test]
fn background_jobs_match_native_up_to_order() {
    if !kvm_or_skip("background_jobs_match_native_up_to_order") {
        return;
    }
    let cmd = sh("for i in 1 2 3; do (echo $i; sleep 0.1) & done; wait; echo done");
    let (n, w) = (native(&cmd), in_wisp(&[], &cmd));
    let lines = |o: &std::process::Output| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let mut v: Vec<String> = text.lines().map(String::from).collect();
        let last = v.pop();
        v.sort();
        (v, last)
    };
    assert_eq!(
        lines(&n),
        lines(&w),
        "native {:?} / wisp {:?}",
        String::from_utf8_lossy(&n.stdout),
        String::from_utf8_lossy(&w.stdout)
    );
    assert_eq!(lines(&w).1.as_deref(), Some("done"));
    assert_eq!(status(&n), status(&w));
}

#[test]
fn fork_bomb_hits_eagain_inside_its_machine() {
    if !kvm_or_skip("fork_bomb_hits_eagain_inside_its_machine") {
        return;
    }
    let src = build_dir().join("forkbomb.c");
    std::fs::write(
        &src,
        r#"#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    pid_t kids[64]; int n = 0;
    for (;;) {
        pid_t p = fork();
        if (p == 0) { pause(); _exit(0); }
        if (p < 0) { printf("fork failed with %s after %d children\n", errno == EAGAIN ? "EAGAIN" : "other", n); break; }
        if (n < 64) kids[n++] = p;
    }
    for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
    return 0;
}
"#,
    )
    .unwrap();
    let bin = build_c(&src);
    let o = in_wisp(&["--pids", "8", "--timeout", "20s"], &[bin.to_string_lossy().into_owned()]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "fork failed with EAGAIN after 7 children\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(status(&o), 0);
}

#[test]
fn process_programs_match_native() {
    if !kvm_or_skip("process_programs_match_native") {
        return;
    }
    if !repo().join("tests/procs").is_dir() {
        return;
    }
    let progs = programs("procs");
    let failures: Vec<String> = progs.iter().filter_map(|p| compare(&command_for(p))).collect();
    assert!(
        failures.is_empty(),
        "{} of {} process programs differ:\n{}",
        failures.len(),
        progs.len(),
        failures.join("\n")
    );
}

/// Orphans adopted by process 1 are reaped for it: 100 double-forks in a
/// machine limited to 16 processes must not run out of process slots.
#[test]
fn adopted_orphans_do_not_pile_up() {
    if !kvm_or_skip("adopted_orphans_do_not_pile_up") {
        return;
    }
    let script = "import os\nfor i in range(100):\n    if os.fork() == 0:\n        if os.fork() == 0:\n            os._exit(0)\n        os._exit(0)\n    os.wait()\nprint('ok')";
    let o = in_wisp(&["--pids", "16"], &["/usr/bin/python3".into(), "-c".into(), script.into()]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "ok\n", "{}", String::from_utf8_lossy(&o.stderr));
}

/// `ps` inside a machine sees the machine's processes (and only those).
#[test]
fn ps_lists_the_machines_processes() {
    if !kvm_or_skip("ps_lists_the_machines_processes") {
        return;
    }
    let o = in_wisp(&[], &sh("/bin/busybox sleep 5 & ps -o pid,ppid,comm; kill $!"));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "sh, sleep and ps:\n{text}");
    assert!(rows.iter().any(|r| r == &["1", "0", "busybox"]), "{text}");
    assert!(rows.iter().any(|r| r[1] == "1" && r[2] == "ps"), "{text}");
}

/// A long-lived machine runs far more processes than its memory could hold
/// page tables for: the tables of ended processes are recycled (after a
/// translation flush). 300 rounds of a subshell and md5sum are 600
/// processes, about 50 MiB of page tables in all; a 24 MiB machine without
/// recycling runs dry near 370 processes. Each round also checks that the
/// memory a process maps reads back as written.
#[test]
fn page_tables_of_ended_processes_are_recycled() {
    if !kvm_or_skip("page_tables_of_ended_processes_are_recycled") {
        return;
    }
    let script = "ref=$(/bin/busybox md5sum /bin/busybox); i=0; while [ $i -lt 300 ]; do \
                  h=$(/bin/busybox md5sum /bin/busybox); [ \"$h\" = \"$ref\" ] || { echo \"bad at $i\"; exit 1; }; \
                  i=$((i+1)); done; echo $i";
    let o = in_wisp(&["--mem", "24M"], &sh(script));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "300\n", "{}", String::from_utf8_lossy(&o.stderr));
}
