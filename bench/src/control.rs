//! `wisp-bench control` and `wisp-bench economics`: the daemon under load
//! and the metered cost of a task, each against a daemon this run starts.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ms, percentile, wisp_bin};

struct Daemon {
    sock: PathBuf,
    dir: PathBuf,
    child: Child,
    admin: String,
}

impl Daemon {
    fn start(name: &str) -> Daemon {
        let dir = bench_dir().join(format!("wisp-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench state directory");
        let sock = dir.join("wisp.sock");
        let child = Command::new(wisp_bin())
            .arg("--state")
            .arg(dir.join("state"))
            .args(["daemon", "--socket"])
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start wisp daemon");
        let t0 = Instant::now();
        while UnixStream::connect(&sock).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(20), "the daemon did not come up");
            std::thread::sleep(Duration::from_millis(10));
        }
        let admin = std::fs::read_to_string(dir.join("state/admin.token")).expect("admin token").trim().to_string();
        Daemon { sock, dir, child, admin }
    }
}

/// Where the bench's daemons keep their state: `WISP_BENCH_DIR`, else
/// /var/tmp, which like a deployment's /var/lib/wisp is on disk (/tmp is
/// often memory, which would flatter every figure).
pub fn bench_dir() -> PathBuf {
    match std::env::var_os("WISP_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None if std::path::Path::new("/var/tmp").is_dir() => PathBuf::from("/var/tmp"),
        None => std::env::temp_dir(),
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One request on a kept-alive connection; status and body.
fn call(s: &mut UnixStream, method: &str, path: &str, token: &str, body: impl AsRef<[u8]>) -> (u16, String) {
    let body = body.as_ref();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).and_then(|_| s.write_all(body)).expect("daemon write");
    // Buffered, so the client's own reads do not count in the latency (one
    // answer per request: nothing past it is buffered and lost).
    let mut r = std::io::BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match std::io::BufRead::read_line(&mut r, &mut line) {
            Ok(0) | Err(_) => return (0, String::new()),
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push_str(&line.to_ascii_lowercase()),
        }
    }
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn field(json: &str, key: &str) -> String {
    let pat = format!("\"{key}\":\"");
    json.split(&pat).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
}

fn number(json: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\":");
    json.split(&pat).nth(1).and_then(|r| r.split([',', '}']).next()).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0)
}

fn report(what: &str, mut lat: Vec<Duration>, target: &str) {
    lat.sort();
    if lat.is_empty() {
        println!("  {what:<24} no samples");
        return;
    }
    println!(
        "  {what:<24} n={:<5} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   {target}",
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
}

/// Creates `n` clouds and one machine in each (busybox sh waiting on its
/// stdin), one request at a time on the socket, then stops them all.
pub fn control(n: usize) {
    println!("control plane: {n} clouds, one machine each (busybox sh on stdin), sequential on the Unix socket");
    println!("  daemon state in {} (WISP_BENCH_DIR)", bench_dir().display());
    let d = Daemon::start("control");
    let mut s = UnixStream::connect(&d.sock).expect("connect");
    let (mut clouds, mut machines, mut stops) = (Vec::new(), Vec::new(), Vec::new());
    let mut made = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let (st, body) = call(&mut s, "POST", "/v1/clouds", &d.admin, "{}");
        clouds.push(t.elapsed());
        if st != 201 {
            eprintln!("  create cloud failed ({st}): {body}");
            break;
        }
        made.push((field(&body, "id"), field(&body, "token")));
    }
    let machine = r#"{"name":"sh","command":["/bin/busybox","sh"],"memory_mib":16,"pids":4}"#;
    for (id, token) in &made {
        let t = Instant::now();
        let (st, body) = call(&mut s, "POST", &format!("/v1/clouds/{id}/machines"), token, machine);
        machines.push(t.elapsed());
        if st != 201 {
            eprintln!("  create machine failed ({st}): {body}");
            break;
        }
    }
    let rss = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    for (id, token) in &made {
        let t = Instant::now();
        let (st, _) = call(&mut s, "POST", &format!("/v1/clouds/{id}/machines/sh/stop"), token, r#"{"grace_ms":1000}"#);
        if st == 200 {
            stops.push(t.elapsed());
        }
    }
    if machines.len() >= 200 {
        let tail = machines.len() - 100;
        report("  first 100 machines", machines[..100].to_vec(), "");
        report("  last 100 machines", machines[tail..].to_vec(), "");
    }
    report("create cloud", clouds, "(target p50 <= 1 ms)");
    report("create+start machine", machines, "(target p50 <= 5 ms)");
    report("stop machine", stops, "");
    if let Some(kb) = rss {
        println!("  host MemAvailable with all machines running: {} MiB", kb / 1024);
    }
}

/// The metered cost of a 30-second python task beside E2B's list price for
/// the same task (same vCPUs and memory size, same measured lifetime).
pub fn economics() {
    const E2B_VCPU_SECOND: f64 = 0.000014;
    const E2B_GIB_SECOND: f64 = 0.0000045;
    let d = Daemon::start("economics");
    let mut s = UnixStream::connect(&d.sock).expect("connect");
    let (_, body) = call(&mut s, "POST", "/v1/clouds", &d.admin, "{}");
    let (id, token) = (field(&body, "id"), field(&body, "token"));
    let task = "import time\nt=time.time()\nsum(i*i for i in range(3_000_000))\ntime.sleep(max(0, 30-(time.time()-t)))";
    let spec = format!(
        r#"{{"name":"task","command":["python3","-c",{}],"memory_mib":512,"vcpus":1}}"#,
        serde_like_string(task)
    );
    let (st, body) = call(&mut s, "POST", &format!("/v1/clouds/{id}/machines"), &token, &spec);
    if st != 201 {
        eprintln!("economics: cannot start the task ({st}): {body}");
        return;
    }
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let (_, m) = call(&mut s, "GET", &format!("/v1/clouds/{id}/machines/task"), &token, "");
        if field(&m, "state") != "running" {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    let (_, usage) = call(&mut s, "GET", &format!("/v1/clouds/{id}/usage"), &token, "");
    let lifetime_s = number(&usage, "lifetime_ms") / 1000.0;
    let cpu_s = number(&usage, "vcpu_ms") / 1000.0;
    let gib_s = number(&usage, "memory_gib_seconds");
    let wisp_usd = number(&usage, "total_microdollars") / 1e6;
    let e2b_usd = lifetime_s * (E2B_VCPU_SECOND + 0.5 * E2B_GIB_SECOND);
    println!("economics: a 30-second python task (1 vCPU, 512 MiB), priced per second");
    println!(
        "  wisp metered  lifetime {lifetime_s:.2} s, vCPU {cpu_s:.3} s, memory {gib_s:.4} GiB-s  = ${wisp_usd:.8}"
    );
    println!(
        "  E2B list      {lifetime_s:.2} s x (1 vCPU x $0.000014 + 0.5 GiB x $0.0000045)       = ${e2b_usd:.8}   ({:.1}x wisp)",
        e2b_usd / wisp_usd.max(1e-12)
    );
}

/// A JSON string literal.
fn serde_like_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// TCP between two machines of one cloud (a server machine and a client
/// machine running bench/guest/tcp.c), beside the same two programs as host
/// processes over 127.0.0.1, in the same run. (Gbit/s, round trip p50 µs),
/// medians of `runs`, or why not.
pub fn two_machines(prog: &std::path::Path, runs: usize) -> Result<[(f64, f64); 2], String> {
    let port = 7000 + (std::process::id() % 2000) as u16;
    let bin = std::fs::read(prog).map_err(|e| format!("{}: {e}", prog.display()))?;
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let parse = |out: std::process::Output| -> Result<f64, String> {
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| format!("bench client failed: {out:?}"))
    };
    // Native: the same two programs as host processes.
    let mut server = Command::new(prog).args(["serve", &port.to_string()]).spawn().map_err(|e| e.to_string())?;
    let native = (|| -> Result<(f64, f64), String> {
        let client = |args: &[&str]| {
            Command::new(prog)
                .args(["client", "127.0.0.1", &port.to_string()])
                .args(args)
                .output()
                .map_err(|e| e.to_string())
        };
        let (mut t, mut l) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            t.push(parse(client(&["stream", "256"])?)?);
            l.push(parse(client(&["rr", "2000"])?)?);
        }
        Ok((med(t), med(l)))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let native = native?;
    // In a cloud: both programs uploaded into their machines, run there.
    let d = Daemon::start("network");
    let mut s = UnixStream::connect(&d.sock).map_err(|e| e.to_string())?;
    let (st, body) = call(&mut s, "POST", "/v1/clouds", &d.admin, "{}");
    if st != 201 {
        return Err(format!("create cloud: {st} {body}"));
    }
    let (cloud, token) = (field(&body, "id"), field(&body, "token"));
    let wait = "while [ ! -x /tmp/tcp ]; do sleep 0.05; done; exec /tmp/tcp serve ".to_string() + &port.to_string();
    let mut addr = String::new();
    for (name, script) in [("srv", wait.as_str()), ("cli", "read x")] {
        let m = format!(r#"{{"name":"{name}","command":["/bin/busybox","sh","-c","{script}"]}}"#);
        let (st, body) = call(&mut s, "POST", &format!("/v1/clouds/{cloud}/machines"), &token, &m);
        if st != 201 {
            return Err(format!("create machine: {st} {body}"));
        }
        if name == "srv" {
            addr = field(&body, "address");
        }
        let (st, body) = call(
            &mut s,
            "PUT",
            &format!("/v1/clouds/{cloud}/machines/{name}/files?path=/tmp/tcp&mode=755"),
            &token,
            &bin,
        );
        if !(200..300).contains(&st) {
            return Err(format!("upload: {st} {body}"));
        }
    }
    let mut exec = |args: &[&str]| -> Result<f64, String> {
        let argv: Vec<String> =
            ["/tmp/tcp", "client", &addr, &port.to_string()].iter().chain(args).map(|a| format!("\"{a}\"")).collect();
        let (st, body) = call(
            &mut s,
            "POST",
            &format!("/v1/clouds/{cloud}/machines/cli/exec"),
            &token,
            format!(r#"{{"command":[{}]}}"#, argv.join(",")),
        );
        let out = field(&body, "stdout");
        out.trim_end_matches("\\n").trim().parse().map_err(|_| format!("exec in the client machine: {st} {body}"))
    };
    let (mut t, mut l) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        t.push(exec(&["stream", "256"])?);
        l.push(exec(&["rr", "2000"])?);
    }
    Ok([native, (med(t), med(l))])
}
