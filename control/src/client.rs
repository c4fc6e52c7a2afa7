//! The CLI side of the daemon's API: `wisp cloud`, `wisp machine`, `wisp
//! exec`, `wisp file`, `wisp token`, `wisp usage`, `wisp events`. Each sends
//! HTTP/1.1 over the daemon's Unix socket, as `curl --unix-socket` would.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args, Debug, Clone)]
pub struct Conn {
    /// The daemon's socket [default: $WISP_SOCKET, else the daemon's default].
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// API token [default: $WISP_TOKEN].
    #[arg(long, global = true, value_name = "TOKEN", env = "WISP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The cloud to act on [default: $WISP_CLOUD, else the token's own cloud].
    #[arg(long, global = true, value_name = "ID", env = "WISP_CLOUD")]
    cloud: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CloudCommand {
    /// Create a cloud (top-level with the admin token, else a child of the token's cloud); prints its id and owner token.
    Create {
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "ID")]
        parent: Option<String>,
        /// The cloud's private network [default: 100.64.0.0/24].
        #[arg(long, value_name = "A.B.C.D/N")]
        subnet: Option<String>,
    },
    /// List the clouds the token can see.
    Ls,
    /// Show a cloud.
    Show { id: Option<String> },
    /// Delete a cloud, its children, machines and volumes [default: the token's cloud].
    Rm { id: Option<String> },
}

#[derive(Subcommand, Debug)]
pub enum MachineCommand {
    /// Create and start a machine.
    Create {
        name: String,
        /// Root the machine at image NAME (default: the host's system directories, read-only).
        #[arg(long)]
        image: Option<String>,
        #[arg(long, default_value_t = 512, value_name = "MIB")]
        memory: u64,
        #[arg(long, default_value_t = 1)]
        vcpus: u64,
        #[arg(long = "env", short = 'e', value_name = "K=V")]
        env: Vec<String>,
        /// Mount cloud volume VOLUME at PATH (repeatable; add :ro for read-only).
        #[arg(long = "volume", short = 'v', value_name = "VOLUME:PATH")]
        volumes: Vec<String>,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    Ls,
    Show {
        name: String,
    },
    /// SIGTERM, then SIGKILL after the grace period.
    Stop {
        name: String,
        #[arg(long, default_value_t = 5000, value_name = "MS")]
        grace_ms: u64,
    },
    Rm {
        name: String,
    },
    /// Print the output of the machine's first process.
    Logs {
        name: String,
        #[arg(long, short = 'f')]
        follow: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum FileCommand {
    /// Write a file of a running machine (or, with --volume, of a volume) to stdout.
    Get {
        /// The machine; with --volume, the volume.
        target: String,
        path: String,
        /// TARGET names a volume of the cloud, not a machine.
        #[arg(long)]
        volume: bool,
    },
    /// Write stdin to a file of a running machine (or, with --volume, of a volume).
    Put {
        /// The machine; with --volume, the volume.
        target: String,
        path: String,
        #[arg(long, default_value = "644")]
        mode: String,
        /// TARGET names a volume of the cloud, not a machine.
        #[arg(long)]
        volume: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for the cloud: owner, exec (read plus exec, logs and reading files) or read.
    Create {
        #[arg(long, value_parser = ["owner", "exec", "read"])]
        scope: String,
        /// Lifetime in seconds.
        #[arg(long, value_name = "SECS")]
        ttl: Option<u64>,
    },
    Ls,
    Rm {
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Give MACHINE's PORT the name NAME (NAME.internal in the cloud).
    Expose {
        name: String,
        #[arg(long)]
        machine: String,
        #[arg(long)]
        port: u16,
        /// Also forward 127.0.0.1:HOST_PORT on the host to it.
        #[arg(long, value_name = "HOST_PORT")]
        host_port: Option<u16>,
    },
    Ls,
    Rm {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum GrantCommand {
    /// Let cloud CLOUD reach SERVICE (as SERVICE.THIS_CLOUD.clouds.internal).
    Create {
        service: String,
        /// The cloud to grant it to.
        #[arg(long = "to", value_name = "CLOUD")]
        grantee: String,
    },
    Ls,
    /// Revoke a grant: the grantee's open connections are cut.
    Revoke {
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum EgressCommand {
    /// Replace the allowlist with these HOST:PORT entries (PORT `*`: any); none turns egress off.
    Set {
        allow: Vec<String>,
    },
    Show,
}

/// Gets body pieces of a streamed answer; false stops reading.
type Sink<'a> = &'a mut dyn FnMut(&[u8]) -> bool;

/// One answer from the daemon.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Conn {
    fn token(&self) -> Result<&str, String> {
        self.token.as_deref().ok_or_else(|| "no token: pass --token or set WISP_TOKEN".into())
    }

    fn cloud(&self) -> Result<String, String> {
        if let Some(c) = &self.cloud {
            return Ok(c.clone());
        }
        match self.token.as_deref().and_then(crate::daemon::token_cloud) {
            Some(c) if c != "admin" => Ok(c.to_string()),
            _ => Err("which cloud? pass --cloud ID or set WISP_CLOUD".into()),
        }
    }

    fn connect(&self) -> Result<UnixStream, String> {
        let path = crate::daemon::socket_path(self.socket.as_deref());
        UnixStream::connect(&path)
            .map_err(|e| format!("cannot reach the daemon at {}: {e} (is `wisp daemon` running?)", path.display()))
    }

    /// Sends a request; with `stream`, body pieces go to it as they come.
    fn call(&self, method: &str, path: &str, body: Option<&[u8]>, stream: Option<Sink<'_>>) -> Result<Answer, String> {
        let mut s = self.connect()?;
        let body = body.unwrap_or(b"");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: wisp\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.token()?,
            body.len()
        );
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        s.write_all(&req).map_err(|e| format!("daemon: {e}"))?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| format!("daemon: {e}"))?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("daemon: malformed answer")?;
        let (mut len, mut chunked) = (None, false);
        loop {
            let mut h = String::new();
            r.read_line(&mut h).map_err(|e| format!("daemon: {e}"))?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse::<usize>().ok();
                } else if k.eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut out = Vec::new();
        if chunked {
            let mut sink = stream;
            loop {
                let mut size = String::new();
                r.read_line(&mut size).map_err(|e| format!("daemon: {e}"))?;
                let n = usize::from_str_radix(size.trim(), 16).map_err(|_| "daemon: malformed chunk")?;
                let mut chunk = vec![0u8; n + 2];
                r.read_exact(&mut chunk).map_err(|e| format!("daemon: {e}"))?;
                if n == 0 {
                    break;
                }
                match sink.as_mut() {
                    Some(f) => {
                        if !f(&chunk[..n]) {
                            break;
                        }
                    }
                    None => out.extend_from_slice(&chunk[..n]),
                }
            }
        } else if let Some(n) = len {
            out.resize(n, 0);
            r.read_exact(&mut out).map_err(|e| format!("daemon: {e}"))?;
        } else {
            r.read_to_end(&mut out).map_err(|e| format!("daemon: {e}"))?;
        }
        Ok(Answer { status, body: out })
    }

    /// A JSON call that must succeed.
    fn json(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let a = self.call(method, path, bytes.as_deref(), None)?;
        ok(a)
    }
}

fn ok(a: Answer) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(&a.body).unwrap_or_else(|_| json!({"message": String::from_utf8_lossy(&a.body)}));
    if (200..300).contains(&a.status) {
        Ok(v)
    } else {
        Err(format!("{} ({})", v["message"].as_str().unwrap_or("request failed"), a.status))
    }
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn finish(r: Result<i32, String>) -> i32 {
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wisp: {e}");
            1
        }
    }
}

pub fn cloud(conn: &Conn, cmd: CloudCommand) -> i32 {
    finish((|| {
        match cmd {
            CloudCommand::Create { name, parent, subnet } => {
                let v =
                    conn.json("POST", "/v1/clouds", Some(json!({"name": name, "parent": parent, "subnet": subnet})))?;
                print_json(&v);
            }
            CloudCommand::Ls => {
                let v = conn.json("GET", "/v1/clouds", None)?;
                println!("{:<16} {:<24} {:<16}", "ID", "NAME", "PARENT");
                for c in v["clouds"].as_array().into_iter().flatten() {
                    let parent = c["parent"].as_str().unwrap_or("-");
                    println!(
                        "{:<16} {:<24} {:<16}",
                        c["id"].as_str().unwrap_or(""),
                        c["name"].as_str().unwrap_or(""),
                        parent
                    );
                }
            }
            CloudCommand::Show { id } => {
                let id = match id {
                    Some(i) => i,
                    None => conn.cloud()?,
                };
                print_json(&conn.json("GET", &format!("/v1/clouds/{id}"), None)?);
            }
            CloudCommand::Rm { id } => {
                let id = match id {
                    Some(i) => i,
                    None => conn.cloud()?,
                };
                conn.json("DELETE", &format!("/v1/clouds/{id}"), None)?;
                println!("{id}");
            }
        }
        Ok(0)
    })())
}

pub fn machine(conn: &Conn, cmd: MachineCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        match cmd {
            MachineCommand::Create { name, image, memory, vcpus, env, volumes, command } => {
                let mut envs = serde_json::Map::new();
                for kv in env {
                    let (k, v) = kv.split_once('=').ok_or(format!("--env {kv:?}: expected K=V"))?;
                    envs.insert(k.into(), v.into());
                }
                let mut vols = serde_json::Map::new();
                for spec in volumes {
                    let (v, at) = spec.split_once(':').ok_or(format!("-v {spec:?}: expected VOLUME:PATH"))?;
                    vols.insert(v.into(), at.into());
                }
                let body = json!({"name": name, "image": image, "command": command, "env": envs,
                    "memory_mib": memory, "vcpus": vcpus, "volumes": vols});
                print_json(&conn.json("POST", &format!("/v1/clouds/{c}/machines"), Some(body))?);
            }
            MachineCommand::Ls => {
                let v = conn.json("GET", &format!("/v1/clouds/{c}/machines"), None)?;
                println!("{:<24} {:<10} {:>6} {:>8} {:>10}", "NAME", "STATE", "EXIT", "MEM_MIB", "CPU_MS");
                for m in v["machines"].as_array().into_iter().flatten() {
                    let exit = m["exit_code"].as_i64().map(|e| e.to_string()).unwrap_or("-".into());
                    println!(
                        "{:<24} {:<10} {:>6} {:>8} {:>10}",
                        m["name"].as_str().unwrap_or(""),
                        m["state"].as_str().unwrap_or(""),
                        exit,
                        m["memory_mib"].as_i64().unwrap_or(0),
                        m["cpu_ms"].as_i64().unwrap_or(0)
                    );
                }
            }
            MachineCommand::Show { name } => {
                print_json(&conn.json("GET", &format!("/v1/clouds/{c}/machines/{name}"), None)?)
            }
            MachineCommand::Stop { name, grace_ms } => {
                let path = format!("/v1/clouds/{c}/machines/{name}/stop");
                print_json(&conn.json("POST", &path, Some(json!({"grace_ms": grace_ms})))?);
            }
            MachineCommand::Rm { name } => {
                conn.json("DELETE", &format!("/v1/clouds/{c}/machines/{name}"), None)?;
                println!("{name}");
            }
            MachineCommand::Logs { name, follow } => {
                let path = format!("/v1/clouds/{c}/machines/{name}/logs{}", if follow { "?follow=1" } else { "" });
                let mut out = std::io::stdout();
                let mut sink = |b: &[u8]| out.write_all(b).and_then(|_| out.flush()).is_ok();
                let a = conn.call("GET", &path, None, Some(&mut sink))?;
                if !(200..300).contains(&a.status) {
                    ok(a)?;
                } else {
                    std::io::stdout().write_all(&a.body).map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(0)
    })())
}

/// `wisp exec MACHINE -- CMD...`: streams the output and exits with the
/// command's status.
pub fn exec(conn: &Conn, machine: &str, command: Vec<String>, stdin: bool) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let mut input = Vec::new();
        if stdin {
            std::io::stdin().read_to_end(&mut input).map_err(|e| format!("stdin: {e}"))?;
        }
        let input = String::from_utf8(input).map_err(|_| "stdin: only UTF-8 text can be passed".to_string())?;
        let body = json!({"command": command, "stream": true, "stdin": input}).to_string();
        let mut code = None;
        let mut failure = None;
        let mut pending = Vec::new();
        let mut sink = |b: &[u8]| {
            pending.extend_from_slice(b);
            while let Some(nl) = pending.iter().position(|&x| x == b'\n') {
                let line: Vec<u8> = pending.drain(..=nl).collect();
                let Ok(v) = serde_json::from_slice::<Value>(&line) else { continue };
                if let Some(data) = v["data"].as_str() {
                    if v["stream"] == "stderr" {
                        let _ = std::io::stderr().write_all(data.as_bytes());
                    } else {
                        let _ = std::io::stdout().write_all(data.as_bytes());
                        let _ = std::io::stdout().flush();
                    }
                } else if let Some(e) = v["exit_code"].as_i64() {
                    code = Some(e as i32);
                } else if let Some(e) = v["error"].as_str() {
                    failure = Some(e.to_string());
                }
            }
            true
        };
        let a = conn.call(
            "POST",
            &format!("/v1/clouds/{c}/machines/{machine}/exec"),
            Some(body.as_bytes()),
            Some(&mut sink),
        )?;
        if !(200..300).contains(&a.status) {
            ok(a)?;
        }
        match (code, failure) {
            (Some(c), _) => Ok(c),
            (None, Some(e)) => Err(e),
            (None, None) => Err("the daemon ended the stream without an exit status".into()),
        }
    })())
}

pub fn file(conn: &Conn, cmd: FileCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let q = |p: &str| {
            p.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"/._-".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        let base = |target: &str, volume: bool| {
            format!("/v1/clouds/{c}/{}/{target}/files", if volume { "volumes" } else { "machines" })
        };
        match cmd {
            FileCommand::Get { target, path, volume } => {
                let a = conn.call("GET", &format!("{}?path={}", base(&target, volume), q(&path)), None, None)?;
                if !(200..300).contains(&a.status) {
                    ok(a)?;
                    return Ok(1);
                }
                std::io::stdout().write_all(&a.body).map_err(|e| e.to_string())?;
            }
            FileCommand::Put { target, path, mode, volume } => {
                let mut data = Vec::new();
                std::io::stdin().read_to_end(&mut data).map_err(|e| format!("stdin: {e}"))?;
                let url = format!("{}?path={}&mode={mode}", base(&target, volume), q(&path));
                ok(conn.call("PUT", &url, Some(&data), None)?)?;
            }
        }
        Ok(0)
    })())
}

pub fn token(conn: &Conn, cmd: TokenCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        match cmd {
            TokenCommand::Create { scope, ttl } => {
                let body = json!({"scope": scope, "ttl_seconds": ttl});
                print_json(&conn.json("POST", &format!("/v1/clouds/{c}/tokens"), Some(body))?);
            }
            TokenCommand::Ls => print_json(&conn.json("GET", &format!("/v1/clouds/{c}/tokens"), None)?),
            TokenCommand::Rm { id } => {
                conn.json("DELETE", &format!("/v1/clouds/{c}/tokens/{id}"), None)?;
                println!("{id}");
            }
        }
        Ok(0)
    })())
}

pub fn service(conn: &Conn, cmd: ServiceCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let path = format!("/v1/clouds/{c}/services");
        match cmd {
            ServiceCommand::Expose { name, machine, port, host_port } => {
                let body = json!({"name": name, "machine": machine, "port": port, "host_port": host_port});
                print_json(&conn.json("POST", &path, Some(body))?);
            }
            ServiceCommand::Ls => print_json(&conn.json("GET", &path, None)?),
            ServiceCommand::Rm { name } => {
                conn.json("DELETE", &format!("{path}/{name}"), None)?;
                println!("{name}");
            }
        }
        Ok(0)
    })())
}

pub fn grant(conn: &Conn, cmd: GrantCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let path = format!("/v1/clouds/{c}/grants");
        match cmd {
            GrantCommand::Create { service, grantee } => {
                print_json(&conn.json("POST", &path, Some(json!({"service": service, "cloud": grantee})))?);
            }
            GrantCommand::Ls => print_json(&conn.json("GET", &path, None)?),
            GrantCommand::Revoke { id } => {
                conn.json("DELETE", &format!("{path}/{id}"), None)?;
                println!("{id}");
            }
        }
        Ok(0)
    })())
}

pub fn egress(conn: &Conn, cmd: EgressCommand) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let path = format!("/v1/clouds/{c}/egress");
        let v = match cmd {
            EgressCommand::Set { allow } => conn.json("PUT", &path, Some(json!({ "allow": allow })))?,
            EgressCommand::Show => conn.json("GET", &path, None)?,
        };
        print_json(&v);
        Ok(0)
    })())
}

/// `wisp usage`: the cloud's metered use and its price.
pub fn usage(conn: &Conn, as_json: bool) -> i32 {
    finish((|| {
        let c = conn.cloud()?;
        let v = conn.json("GET", &format!("/v1/clouds/{c}/usage"), None)?;
        if as_json {
            print_json(&v);
            return Ok(0);
        }
        println!(
            "{:<24} {:<9} {:>12} {:>10} {:>14} {:>12} {:>14}",
            "MACHINE", "STATE", "LIFETIME_MS", "VCPU_MS", "MEM_GIB_S", "NET_BYTES", "MICRODOLLARS"
        );
        for m in v["machines"].as_array().into_iter().flatten() {
            println!(
                "{:<24} {:<9} {:>12} {:>10} {:>14.6} {:>12} {:>14.3}",
                m["machine"].as_str().unwrap_or(""),
                m["state"].as_str().unwrap_or(""),
                m["lifetime_ms"].as_i64().unwrap_or(0),
                m["vcpu_ms"].as_i64().unwrap_or(0),
                m["memory_gib_seconds"].as_f64().unwrap_or(0.0),
                m["net_rx_bytes"].as_i64().unwrap_or(0) + m["net_tx_bytes"].as_i64().unwrap_or(0),
                m["microdollars"].as_f64().unwrap_or(0.0)
            );
        }
        for vol in v["volumes"].as_array().into_iter().flatten() {
            println!(
                "volume {:<17} {:>14} bytes {:>10.6} GB-hours {:>14.3}",
                vol["volume"].as_str().unwrap_or(""),
                vol["size_bytes"].as_i64().unwrap_or(0),
                vol["gb_hours"].as_f64().unwrap_or(0.0),
                vol["microdollars"].as_f64().unwrap_or(0.0)
            );
        }
        let t = &v["totals"];
        println!(
            "total: {} vCPU-ms, {:.6} GiB-s, {:.6} volume GB-hours, {} network bytes: {:.3} micro-dollars (${:.8})",
            t["vcpu_ms"].as_i64().unwrap_or(0),
            t["memory_gib_seconds"].as_f64().unwrap_or(0.0),
            t["volume_gb_hours"].as_f64().unwrap_or(0.0),
            t["network_bytes"].as_i64().unwrap_or(0),
            t["total_microdollars"].as_f64().unwrap_or(0.0),
            t["total_microdollars"].as_f64().unwrap_or(0.0) / 1e6
        );
        Ok(0)
    })())
}

pub fn events(conn: &Conn, follow: bool) -> i32 {
    finish((|| {
        let path = if follow { "/v1/events?follow=1" } else { "/v1/events" };
        let mut out = std::io::stdout();
        let mut sink = |b: &[u8]| out.write_all(b).and_then(|_| out.flush()).is_ok();
        let a = conn.call("GET", path, None, Some(&mut sink))?;
        if !follow {
            let v = ok(a)?;
            for e in v["events"].as_array().into_iter().flatten() {
                println!("{e}");
            }
        }
        Ok(0)
    })())
}
