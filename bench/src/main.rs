//! wisp benchmarks. Every figure is measured beside its baseline in the same
//! run (native execution, the bare KVM exit) and reported as a ratio.
//!
//! Usage: wisp-bench [startup|syscall|spawn|all] [-n RUNS]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod control;

fn wisp_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("wisp")
}

fn time_once(argv: &[&str]) -> Duration {
    let t = Instant::now();
    let st = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let d = t.elapsed();
    match st {
        Ok(s) if s.success() => d,
        Ok(s) => {
            eprintln!("wisp-bench: {} exited with {s}", argv.join(" "));
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("wisp-bench: cannot run {}: {e}", argv[0]);
            std::process::exit(1);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Interleaves native and wisp runs so machine noise hits both alike.
fn startup(runs: usize) {
    let wisp = wisp_bin();
    let wisp = wisp.to_str().unwrap_or("wisp");
    let cases: [(&str, &[&str]); 3] = [
        ("busybox true", &["/bin/busybox", "true"]),
        ("busybox echo", &["/bin/busybox", "echo", "hello"]),
        ("python3 -c pass", &["/usr/bin/python3", "-c", "pass"]),
    ];
    println!("startup: {runs} runs each, native and `wisp run` interleaved");
    println!(
        "{:<18} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "program", "native p50", "native p90", "wisp p50", "wisp p90", "ratio"
    );
    for (name, argv) in cases {
        let mut native = Vec::new();
        let mut inside = Vec::new();
        let mut wargv = vec![wisp, "run", "--"];
        wargv.extend_from_slice(argv);
        for _ in 0..runs {
            native.push(time_once(argv));
            inside.push(time_once(&wargv));
        }
        native.sort();
        inside.sort();
        let (n50, w50) = (percentile(&native, 0.5), percentile(&inside, 0.5));
        println!(
            "{:<18} {:>10.2}ms {:>10.2}ms {:>10.2}ms {:>10.2}ms {:>7.2}x",
            name,
            ms(n50),
            ms(percentile(&native, 0.9)),
            ms(w50),
            ms(percentile(&inside, 0.9)),
            w50.as_secs_f64() / n50.as_secs_f64()
        );
    }
}

fn build_guest(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest").join(format!("{name}.c"));
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let _ = std::fs::create_dir_all(&out_dir);
    let out = out_dir.join(name);
    let st = Command::new("musl-gcc").args(["-static", "-O2", "-o"]).arg(&out).arg(&src).status();
    if !st.is_ok_and(|s| s.success()) {
        eprintln!("wisp-bench: cannot build {} with musl-gcc (run .ci/setup)", src.display());
        std::process::exit(1);
    }
    out
}

fn output_f64(argv: &[&str]) -> f64 {
    let out = Command::new(argv[0]).args(&argv[1..]).stderr(Stdio::inherit()).output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    text.trim().parse().unwrap_or_else(|_| {
        eprintln!("wisp-bench: unexpected output from {}: {text:?}", argv.join(" "));
        std::process::exit(1)
    })
}

fn syscall(runs: usize) {
    let prog = build_guest("getppid_loop");
    let prog = prog.to_str().unwrap_or_default();
    let wisp = wisp_bin();
    let wisp = wisp.to_str().unwrap_or("wisp");
    let iters = "20000";
    let mut bare = Vec::new();
    let mut inside = Vec::new();
    let mut native = Vec::new();
    for _ in 0..runs.clamp(1, 5) {
        match wisp_vmm::probe::bare_exit_round_trip(20_000) {
            Ok(d) => bare.push(d.as_secs_f64() * 1e9),
            Err(e) => {
                eprintln!("wisp-bench: {e}");
                std::process::exit(1);
            }
        }
        inside.push(output_f64(&[wisp, "run", "--", prog, iters]));
        native.push(output_f64(&[prog, iters]));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (b, w, n) = (med(&mut bare), med(&mut inside), med(&mut native));
    println!("syscall: getppid in a loop, median of {} runs", bare.len());
    println!("  native getppid          {:>10.0} ns", n);
    println!("  bare VM exit round trip {:>10.0} ns   (baseline: ring-3 `out`, nothing done)", b);
    println!("  getppid in wisp         {:>10.0} ns   = {:.2}x the bare exit (target <= 1.15x)", w, w / b);
}

fn spawn(runs: usize) {
    let prog = build_guest("spawn");
    let prog = prog.to_str().unwrap_or_default();
    let wisp = wisp_bin();
    let wisp = wisp.to_str().unwrap_or("wisp");
    let n = "30";
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (mut sn, mut sw, mut fn_, mut fw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.clamp(1, 5) {
        sn.push(output_f64(&[prog, "spawn", n]));
        sw.push(output_f64(&[wisp, "run", "--", prog, "spawn", n]));
        fn_.push(output_f64(&[prog, "fork100", n]));
        fw.push(output_f64(&[wisp, "run", "--", prog, "fork100", n]));
    }
    let (sn, sw, fn_, fw) = (med(&mut sn), med(&mut sw), med(&mut fn_), med(&mut fw));
    println!("spawn: fork+exec+wait of busybox true from a process, median of {} runs", runs.clamp(1, 5));
    println!("  native  {:>10.0} us", sn);
    println!("  wisp    {:>10.0} us   = {:.1}x native", sw, sw / sn);
    println!(
        "  fork of a 100 MiB-resident process + exit + wait: native {:.0} us, wisp {:.0} us ({:.1}x)",
        fn_,
        fw,
        fw / fn_
    );
}

/// Sequential and random throughput on a volume inside a machine, beside the
/// same program on the same host file natively, alternating run by run.
fn storage(runs: usize) {
    let prog = build_guest("storage");
    let prog = prog.to_str().unwrap_or_default();
    let wisp = wisp_bin();
    let wisp = wisp.to_str().unwrap_or("wisp");
    let state = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench/state");
    let state = state.to_str().unwrap_or_default();
    let _ = Command::new(wisp).args(["--state", state, "volume", "create", "bench", "--size", "2G"]).output();
    let host_file = format!("{state}/volumes/bench/data/file");
    if !Path::new(&host_file).parent().is_some_and(|p| p.is_dir()) {
        eprintln!("wisp-bench: cannot create the bench volume under {state}");
        std::process::exit(1);
    }
    let size = "256";
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!("storage: one 256 MiB file on a volume, MiB/s, median of {} runs (higher is better)", runs.clamp(1, 5));
    for mode in ["seqwrite", "seqread", "randread", "randwrite"] {
        let (mut n, mut w) = (Vec::new(), Vec::new());
        for _ in 0..runs.clamp(1, 5) {
            n.push(output_f64(&[prog, mode, &host_file, size]));
            w.push(output_f64(&[wisp, "--state", state, "run", "-v", "bench:/v", "--", prog, mode, "/v/file", size]));
        }
        let (n, w) = (med(&mut n), med(&mut w));
        let target = if mode == "seqread" { "   (target >= 50%)" } else { "" };
        println!("  {mode:<10} native {n:>9.1}   wisp {w:>9.1}   = {:>5.1}% of native{target}", 100.0 * w / n);
    }
    let _ = std::fs::remove_file(&host_file);
}

/// TCP over the cloud network against host loopback, in the same run:
/// throughput and 1-byte round trips of one program (tcp.c, a process and
/// its child over 127.0.0.1), natively and in a machine; and the raw
/// throughput of two machine stacks.
fn network(runs: usize) {
    let prog = build_guest("tcp");
    let wisp = wisp_bin();
    let (prog, wisp) = (prog.to_str().unwrap_or_default(), wisp.to_str().unwrap_or_default());
    let runs = runs.clamp(1, 5);
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (mut tn, mut tw, mut ln, mut lw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        tn.push(output_f64(&[prog, "stream", "256"]));
        tw.push(output_f64(&[wisp, "run", "--", prog, "stream", "256"]));
        ln.push(output_f64(&[prog, "rr", "2000"]));
        lw.push(output_f64(&[wisp, "run", "--", prog, "rr", "2000"]));
    }
    let (tn, tw, ln, lw) = (med(&mut tn), med(&mut tw), med(&mut ln), med(&mut lw));
    report_tcp(&format!("TCP over 127.0.0.1, a process and its child (median of {runs})"), (tn, ln), (tw, lw));
    match control::two_machines(std::path::Path::new(prog), runs) {
        Ok([native, wisp]) => {
            report_tcp("TCP between two machines of one cloud, beside two host processes over 127.0.0.1", native, wisp)
        }
        Err(e) => println!("  two machines: failed: {e}"),
    }
    // A round trip is at least four guest system calls (each side's write
    // and its read), each a VM exit: the floor this host allows.
    if let Ok(d) = wisp_vmm::probe::bare_exit_round_trip(20_000) {
        let exit_us = d.as_secs_f64() * 1e6;
        println!(
            "  floor: 4 bare VM exits = {:.1} us (one exit {:.1} us, this run): a round trip is four guest system calls",
            4.0 * exit_us,
            exit_us
        );
    }
    match wisp_netstack::transfer_time(256 << 20) {
        Ok(d) => println!(
            "  two machine stacks on one thread, no guests: {:.2} Gbit/s",
            (256u64 << 20) as f64 * 8.0 / d.as_secs_f64() / 1e9
        ),
        Err(e) => println!("  two machine stacks: failed: {e}"),
    }
}

/// Prints (throughput Gbit/s, round trip us) of wisp beside native.
fn report_tcp(title: &str, (tn, ln): (f64, f64), (tw, lw): (f64, f64)) {
    println!("network: {title}");
    println!(
        "  throughput, 256 MiB   native {tn:>7.2} Gbit/s   wisp {tw:>7.2} Gbit/s   = {:>5.1}% (target >= 1 Gbit/s)",
        100.0 * tw / tn
    );
    println!(
        "  1-byte round trip p50 native {ln:>7.1} us       wisp {lw:>7.1} us       = {:>5.1}x (target <= 5x)",
        lw / ln
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut what = "all".to_string();
    let mut runs = 20usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "startup" | "syscall" | "spawn" | "storage" | "control" | "economics" | "network" | "all" => {
                what = a.clone()
            }
            "-h" | "--help" => {
                println!(
                    "usage: wisp-bench [startup|syscall|spawn|storage|control|economics|network|all] [-n RUNS]\n\
                     control: -n clouds and machines (default 1000); economics: a 30-second task"
                );
                return;
            }
            other => {
                eprintln!("wisp-bench: unknown argument {other:?}; try --help");
                std::process::exit(2);
            }
        }
    }
    if !wisp_bin().exists() {
        eprintln!("wisp-bench: {} not found; build with `cargo build --release`", wisp_bin().display());
        std::process::exit(1);
    }
    if what == "startup" || what == "all" {
        startup(runs);
    }
    if what == "syscall" || what == "all" {
        syscall(runs);
    }
    if what == "spawn" || what == "all" {
        spawn(runs);
    }
    if what == "storage" || what == "all" {
        storage(runs);
    }
    if what == "control" {
        control::control(if args.iter().any(|a| a == "-n") { runs } else { 1000 });
    }
    if what == "economics" || what == "all" {
        control::economics();
    }
    if what == "network" || what == "all" {
        network(runs);
    }
}
