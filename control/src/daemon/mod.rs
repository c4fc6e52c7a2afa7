//! `wisp daemon`: the control plane. It serves the REST/JSON API on a Unix
//! socket (and optionally loopback TCP), keeps state in SQLite, and runs
//! each cloud's machines in a confined host process of its own. The daemon
//! never runs guest-facing code itself.

mod api;
mod hosts;
pub mod http;
mod identity;
mod network;
mod store;

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use clap::Args;
use sha2::Digest;

use crate::state::State;
use hosts::{HostConn, Spawner};
use store::{Store, now_ms};

#[derive(Args, Debug)]
pub struct DaemonArgs {
    /// Unix socket to serve the API on [default: /run/wisp/wisp.sock as
    /// root, else $XDG_RUNTIME_DIR/wisp/wisp.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also serve on this loopback TCP address (e.g. 127.0.0.1:7070).
    #[arg(long, value_name = "ADDR")]
    tcp: Option<std::net::SocketAddr>,
    /// How hard every acknowledged change is committed: `full` (fsync: survives
    /// power loss) or `normal` (survives a crash of the daemon or its host
    /// processes, not of the machine).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    sync: String,
    /// Largest JSON request body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// Cloud host processes kept started ahead of need, so a cloud's first
    /// machine does not wait for one (about 1.2 MiB of memory each).
    #[arg(long, default_value_t = 8, value_name = "N")]
    warm_hosts: usize,
    /// Price sheet (JSON, see docs/control.md) [default: DIR/prices.json if
    /// present, else built-in prices].
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

/// Prices in micro-dollars.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub vcpu_second: f64,
    pub gib_second: f64,
    pub volume_gb_hour: f64,
    /// Per GB (10^9 bytes) a machine sends or receives on the network.
    #[serde(default = "default_network_gb")]
    pub network_gb: f64,
}

fn default_network_gb() -> f64 {
    // $0.01 per GB, the usual price of traffic between zones of a cloud.
    10_000.0
}

impl Default for Prices {
    fn default() -> Self {
        // E2B's public list prices, so bills compare like for like: what
        // differs is what is metered (CPU used and memory resident, not
        // reserved).
        Prices { vcpu_second: 14.0, gib_second: 4.5, volume_gb_hour: 0.0, network_gb: default_network_gb() }
    }
}

/// Who is calling.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    Admin,
    Cloud { cloud: String, scope: Scope },
}

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// GET only.
    Read,
    /// GET, plus exec and reading logs and files.
    Exec,
    /// Everything in the cloud and its children.
    Owner,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Exec => "exec",
            Scope::Owner => "owner",
        }
    }
    fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "exec" => Some(Scope::Exec),
            "owner" => Some(Scope::Owner),
            _ => None,
        }
    }
}

pub struct Daemon {
    store: Mutex<Store>,
    state: State,
    hosts: Mutex<HashMap<String, Arc<HostConn>>>,
    /// Serializes starting a cloud's host.
    host_start: Mutex<()>,
    /// Serializes quota admission with the row it admits.
    admission: Mutex<()>,
    spawner: Spawner,
    events: (Mutex<i64>, Condvar),
    prices: Prices,
    max_body: usize,
    /// Connections across clouds' edges, and ingress listeners.
    edge: network::Edge,
    /// Signs machines' identity tokens.
    identity: identity::Identity,
    /// Metadata connections being served.
    metadata_live: std::sync::atomic::AtomicUsize,
}

/// An API failure: HTTP status, stable code and message.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub fn err(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { status, code, message: message.into() }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        err(500, "store", format!("state store: {e}"))
    }
}

pub fn hash_token(token: &str) -> String {
    let d = sha2::Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new secret token for `cloud` ("admin" for the admin token).
fn new_token(cloud: &str) -> String {
    format!("wisp_{cloud}_{}", crate::state::random_hex(20))
}

/// The cloud a token names, if it is one of ours.
pub fn token_cloud(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("wisp_")?;
    let (cloud, _) = rest.rsplit_once('_')?;
    Some(cloud)
}

fn default_socket() -> PathBuf {
    if wisp_kernel::host::ids().0 == 0 {
        return PathBuf::from("/run/wisp/wisp.sock");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("wisp/wisp.sock"),
        None => std::env::temp_dir().join(format!("wisp-{}/wisp.sock", wisp_kernel::host::ids().0)),
    }
}

/// Where clients look for the daemon.
pub fn socket_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("WISP_SOCKET").filter(|s| !s.is_empty()).map(PathBuf::from))
        .unwrap_or_else(default_socket)
}

pub fn main(state_dir: Option<&Path>, args: DaemonArgs) -> i32 {
    match run(state_dir, args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wisp daemon: {e}");
            1
        }
    }
}

fn run(state_dir: Option<&Path>, args: DaemonArgs) -> Result<(), String> {
    let state = State::open(state_dir)?;
    let store = Store::open(&state.root().join("wisp.db"), args.sync == "full")?;
    let prices = load_prices(args.prices.as_deref(), &state)?;
    let admin_path = state.root().join("admin.token");
    ensure_admin_token(&store, &admin_path)?;
    recover(&store, &state)?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the wisp binary: {e}"))?;
    let identity = identity::Identity::open(&state.root().join("identity.key"))?;
    let daemon = Arc::new(Daemon {
        store: Mutex::new(store),
        spawner: Spawner::new(exe, state.root().to_path_buf(), args.warm_hosts.min(64)),
        state,
        hosts: Mutex::new(HashMap::new()),
        host_start: Mutex::new(()),
        admission: Mutex::new(()),
        events: (Mutex::new(0), Condvar::new()),
        prices,
        max_body: args.max_body,
        edge: network::Edge::default(),
        identity,
        metadata_live: Default::default(),
    });
    network::restore(&daemon);
    let socket = socket_path(args.socket.as_deref());
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // A socket file left by a daemon that died is replaced; a live one is not.
    if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
        return Err(format!("{}: another daemon is serving this socket", socket.display()));
    }
    let _ = std::fs::remove_file(&socket);
    let listener = std::os::unix::net::UnixListener::bind(&socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        // Tokens guard every call; the socket itself is the owner's and root's.
        let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
    }
    if let Some(addr) = args.tcp {
        if !addr.ip().is_loopback() {
            return Err(format!("--tcp {addr}: only loopback addresses are served"));
        }
        let tcp = std::net::TcpListener::bind(addr).map_err(|e| format!("--tcp {addr}: {e}"))?;
        let d = daemon.clone();
        std::thread::spawn(move || {
            for s in tcp.incoming().flatten() {
                let d = d.clone();
                let _ = std::thread::Builder::new().name("conn".into()).spawn(move || {
                    if let Ok(r) = s.try_clone() {
                        serve_conn(&d, BufReader::new(r), s);
                    }
                });
            }
        });
    }
    let d = daemon.clone();
    std::thread::Builder::new()
        .name("meter".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                d.sample();
                d.edge.sweep();
            }
        })
        .map_err(|e| format!("cannot start the metering thread: {e}"))?;
    eprintln!(
        "wisp daemon: serving on {} (state {}, admin token in {})",
        socket.display(),
        daemon.state.root().display(),
        admin_path.display()
    );
    for s in listener.incoming() {
        let s = match s {
            Ok(s) => s,
            Err(e) => {
                eprintln!("wisp daemon: accept: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let d = daemon.clone();
        let spawned = std::thread::Builder::new().name("conn".into()).spawn(move || {
            if let Ok(r) = s.try_clone() {
                serve_conn(&d, BufReader::new(r), s);
            }
        });
        if let Err(e) = spawned {
            eprintln!("wisp daemon: cannot start a connection thread: {e}");
        }
    }
    Ok(())
}

fn load_prices(flag: Option<&Path>, state: &State) -> Result<Prices, String> {
    let default = state.root().join("prices.json");
    let path = match flag {
        Some(p) => p.to_path_buf(),
        None if default.exists() => default,
        None => return Ok(Prices::default()),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("price sheet {}: {e}", path.display()))?;
    let p: Prices = serde_json::from_str(&text).map_err(|e| format!("price sheet {}: {e}", path.display()))?;
    if [p.vcpu_second, p.gib_second, p.volume_gb_hour, p.network_gb].iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(format!("price sheet {}: prices must be finite and not negative", path.display()));
    }
    Ok(p)
}

/// Writes `data` to `PATH.tmp`, mode 0600, synced; the caller renames it
/// over `path` once whatever goes with it is committed.
fn write_secret_tmp(path: &Path, data: &[u8]) -> Result<PathBuf, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let fail = |e: std::io::Error| format!("{}: {e}", tmp.display());
    let mut f =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(fail)?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(fail)?;
    Ok(tmp)
}

/// Creates the admin token at first start (file mode 0600); later starts
/// keep it, as long as the file and the stored hash agree.
fn ensure_admin_token(store: &Store, path: &Path) -> Result<(), String> {
    let stored: i64 = store
        .db
        .query_row("SELECT count(*) FROM tokens WHERE scope = 'admin'", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if stored > 0 && path.exists() {
        return Ok(());
    }
    let token = new_token("admin");
    let tmp = write_secret_tmp(path, format!("{token}\n").as_bytes())?;
    store
        .db
        .execute_batch("BEGIN; DELETE FROM tokens WHERE scope = 'admin';")
        .and_then(|_| {
            store.db.execute(
                "INSERT INTO tokens (id, cloud, hash, scope, created_ms) VALUES ('admin', '', ?1, 'admin', ?2)",
                rusqlite::params![hash_token(&token), now_ms()],
            )
        })
        .and_then(|_| store.db.execute_batch("COMMIT"))
        .map_err(|e| format!("storing the admin token: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

/// After a restart: host processes died with the old daemon (their
/// parent-death signal), so machines that were running are lost; cloud
/// directories without a cloud are leftovers of a delete cut short.
fn recover(store: &Store, state: &State) -> Result<(), String> {
    let lost: Vec<(String, String)> = {
        let mut st = store
            .db
            .prepare("SELECT cloud, name FROM machines WHERE state IN ('starting', 'running')")
            .map_err(|e| e.to_string())?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).and_then(|r| r.collect()).map_err(|e| e.to_string())?
    };
    for (cloud, name) in &lost {
        store
            .db
            .execute(
                "UPDATE machines SET state = 'lost', ended_ms = ?3 WHERE cloud = ?1 AND name = ?2",
                rusqlite::params![cloud, name, now_ms()],
            )
            .map_err(|e| e.to_string())?;
        let _ = store.event(cloud, "lost", Some(name), "the daemon restarted while it ran");
    }
    let known: std::collections::HashSet<String> =
        store.all_clouds().map_err(|e| e.to_string())?.into_iter().map(|c| c.id).collect();
    if let Ok(entries) = std::fs::read_dir(state.root().join("clouds")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                let _ = crate::image::remove_tree(&e.path());
            }
        }
    }
    // Directories warm hosts of the last run made ahead (State::skeleton).
    let _ = crate::image::remove_tree(&state.root().join("warm"));
    Ok(())
}

/// Serves requests on one connection until it closes.
fn serve_conn(d: &Arc<Daemon>, mut r: BufReader<impl std::io::Read>, mut w: impl Write) {
    loop {
        // File uploads may be larger than JSON bodies.
        let req = match http::read_request(&mut r, d.max_body.max(crate::proto::MAX_FRAME - (1 << 20))) {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(e) if e.status == 0 => return,
            Err(e) => {
                let body = api::error_body(&err(e.status, "bad_request", e.message));
                let _ = http::write_response(&mut w, e.status, "application/json", &body, false);
                return;
            }
        };
        let keep = req.keep_alive;
        if !api::handle(d, req, &mut w) || !keep {
            return;
        }
    }
}

impl Daemon {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who a bearer token belongs to.
    fn authenticate(&self, token: Option<&str>) -> Result<Caller, ApiError> {
        let token = token.ok_or_else(|| err(401, "unauthenticated", "send Authorization: Bearer TOKEN"))?;
        let row: Option<(String, String, Option<i64>)> = {
            use rusqlite::OptionalExtension;
            self.store()
                .db
                .prepare_cached("SELECT cloud, scope, expires_ms FROM tokens WHERE hash = ?1")?
                .query_row([hash_token(token)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?
        };
        let (cloud, scope, expires) = row.ok_or_else(|| err(401, "bad_token", "unknown or revoked token"))?;
        if expires.is_some_and(|t| t <= now_ms()) {
            return Err(err(401, "expired_token", "the token has expired"));
        }
        if scope == "admin" {
            return Ok(Caller::Admin);
        }
        let scope = Scope::parse(&scope).ok_or_else(|| err(401, "bad_token", "token of an unknown scope"))?;
        Ok(Caller::Cloud { cloud, scope })
    }

    /// Checks that `caller` may act on `cloud` with at least `need`; a cloud
    /// outside the caller's reach is reported as not found.
    fn authorize(&self, caller: &Caller, cloud: &str, need: Scope) -> Result<store::Cloud, ApiError> {
        let found = self.store().cloud(cloud)?;
        let not_found = || err(404, "not_found", format!("no cloud {cloud}"));
        let c = found.ok_or_else(not_found)?;
        match caller {
            Caller::Admin => Ok(c),
            Caller::Cloud { cloud: own, scope } => {
                if !self.store().within(cloud, own)? {
                    return Err(not_found());
                }
                if *scope < need {
                    return Err(err(
                        403,
                        "forbidden",
                        format!("a {} token cannot do this (needs {})", scope.as_str(), need.as_str()),
                    ));
                }
                Ok(c)
            }
        }
    }

    fn emit(&self, cloud: &str, kind: &str, machine: Option<&str>, detail: &str) {
        let seq = self.store().event(cloud, kind, machine, detail);
        if let Ok(seq) = seq {
            self.notify(seq);
        }
    }

    /// Wakes event followers: event `seq` is committed.
    fn notify(&self, seq: i64) {
        let (m, cv) = &self.events;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = seq;
        cv.notify_all();
    }

    /// The cloud's host process if one was started (alive or not).
    fn host_of(&self, cloud: &str) -> Option<Arc<HostConn>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).get(cloud).cloned()
    }

    /// The cloud's host process, started if it is not running.
    fn host(self: &Arc<Self>, cloud: &str) -> Result<Arc<HostConn>, ApiError> {
        if let Some(h) = self.host_of(cloud).filter(|h| h.alive()) {
            return Ok(h);
        }
        let _one = self.host_start.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = self.host_of(cloud).filter(|h| h.alive()) {
            return Ok(h);
        }
        let started = self.spawner.start(cloud).map_err(|e| err(500, "host", e))?;
        let (d1, d2) = (Arc::downgrade(self), Arc::downgrade(self));
        let conn = HostConn::new(
            cloud,
            started,
            move |cloud, m| {
                if let Some(d) = d1.upgrade() {
                    d.host_message(cloud, m);
                }
            },
            move |cloud| {
                if let Some(d) = d2.upgrade() {
                    d.host_died(cloud);
                }
            },
        )
        .map_err(|e| err(500, "host", e))?;
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).insert(cloud.to_string(), conn.clone());
        let cfg = network::config(self, cloud)?;
        // Requests are handled in order: it has its settings before any
        // machine. A cloud with none (most) needs no message.
        if !cfg.is_default() {
            conn.tell(crate::proto::Request::Network(cfg)).map_err(|e| err(500, "host", e))?;
        }
        Ok(conn)
    }

    fn host_message(self: &Arc<Self>, cloud: &str, m: crate::proto::Message) {
        if let crate::proto::Message::Dial { dial, machine, target } = m {
            // Dialling may take seconds (egress): never on the host's reader
            // thread, and a bounded number at once per cloud.
            if !self.edge.start_dial(cloud) {
                network::refuse(self, cloud, dial);
                return;
            }
            let (d, c) = (self.clone(), cloud.to_string());
            let spawned = std::thread::Builder::new().name("dial".into()).spawn(move || {
                network::dial(&d, &c, dial, &machine, target);
                d.edge.end_dial(&c);
            });
            if spawned.is_err() {
                self.edge.end_dial(cloud);
                network::refuse(self, cloud, dial);
            }
            return;
        }
        if let crate::proto::Message::Exited { machine, status, usage } = m {
            let now = now_ms();
            {
                let s = self.store();
                let _ = record_usage(&s, cloud, &usage, now);
                let _ = s.db.execute(
                    "UPDATE machines SET state = 'exited', exit_code = ?3, ended_ms = ?4, address = NULL \
                     WHERE cloud = ?1 AND name = ?2 AND state IN ('starting', 'running')",
                    rusqlite::params![cloud, machine, status, now],
                );
            }
            self.emit(cloud, "exited", Some(&machine), &format!("status {status}"));
        }
    }

    fn host_died(&self, cloud: &str) {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).remove(cloud);
        let lost: Vec<String> = {
            let s = self.store();
            let names = s
                .machines(cloud)
                .map(|m| m.into_iter().filter(|m| m.state == "running" || m.state == "starting").map(|m| m.name))
                .map(|i| i.collect())
                .unwrap_or_default();
            let _ = s.db.execute(
                "UPDATE machines SET state = 'lost', ended_ms = ?2 WHERE cloud = ?1 AND state IN ('starting', 'running')",
                rusqlite::params![cloud, now_ms()],
            );
            names
        };
        for name in lost {
            self.emit(cloud, "lost", Some(&name), "the cloud's host process ended");
        }
    }

    /// One metering round: CPU and resident memory of every running
    /// machine, provisioned bytes of every volume.
    fn sample(&self) {
        let hosts: Vec<Arc<HostConn>> =
            self.hosts.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        // Ask every host at once, then record every answer in one commit:
        // the store lock is taken once a round, however many clouds run.
        let asked: Vec<_> =
            hosts.iter().filter_map(|h| h.send(crate::proto::Request::Usage).ok().map(|p| (h, p))).collect();
        let mut rows = Vec::new();
        for (h, p) in asked {
            if let Ok(crate::proto::ReplyBody::Usage { machines }) =
                h.finish(p, &mut |_, _| {}, Some(Duration::from_secs(2)))
            {
                rows.extend(machines.into_iter().filter(|u| u.running).map(|u| (h.cloud.clone(), u)));
            }
        }
        let s = self.store();
        let now = now_ms();
        let _ = s.db.execute_batch("BEGIN");
        for (cloud, u) in &rows {
            let _ = record_usage(&s, cloud, u, now);
        }
        let _ = s.db.execute(
            "UPDATE volumes SET gb_ms = gb_ms + size_bytes / 1000000 * (?1 - sampled_ms) / 1000, sampled_ms = ?1",
            [now],
        );
        let _ = s.db.execute_batch("COMMIT");
    }
}

/// Folds a usage sample into a machine's row: CPU time as reported, memory
/// as resident KiB times the time since the last sample.
fn record_usage(s: &Store, cloud: &str, u: &crate::proto::MachineUsage, now: i64) -> rusqlite::Result<usize> {
    s.db.prepare_cached(
        "UPDATE machines SET cpu_ms = max(cpu_ms, ?3), \
         mem_kib_ms = mem_kib_ms + ?4 * (?5 - coalesce(sampled_ms, started_ms, ?5)), sampled_ms = ?5, \
         net_rx_bytes = max(net_rx_bytes, ?6), net_tx_bytes = max(net_tx_bytes, ?7) \
         WHERE cloud = ?1 AND name = ?2",
    )?
    .execute(rusqlite::params![
        cloud,
        u.machine,
        (u.cpu_ns / 1_000_000) as i64,
        (u.resident_bytes >> 10) as i64,
        now,
        u.net_rx_bytes.min(i64::MAX as u64) as i64,
        u.net_tx_bytes.min(i64::MAX as u64) as i64
    ])
}
