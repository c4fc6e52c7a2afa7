//! Services, grants, ingress and egress: the parts of a cloud's network that
//! cross its edge. Inside a cloud, machines talk over its own userspace
//! network in its host process. Every connection that leaves a cloud goes
//! through the daemon, which checks it and hands each side a host socket:
//!
//! - a granted service of another cloud: a socketpair, one end to the
//!   importing cloud's host (as the guest's connection), the other to the
//!   exporting cloud's host (as a connection to the service's listener);
//! - ingress: the daemon listens on 127.0.0.1:host_port and hands each
//!   accepted connection to the service's listener;
//! - egress: the daemon connects to an allowed host:port itself.
//!
//! The daemon keeps a duplicate of one socket of every such connection, so
//! revoking a grant, deleting a service or narrowing the egress list cuts
//! existing connections (shutdown acts on the socket, whoever else holds it),
//! without trusting either host process to do it.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::params;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::Request;
use super::{ApiError, Caller, Daemon, Scope, err};
use crate::proto::{NetConfig, Request as HostRequest, Target};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS services (
    cloud TEXT NOT NULL,
    name TEXT NOT NULL,
    machine TEXT NOT NULL,
    port INTEGER NOT NULL,
    host_port INTEGER UNIQUE,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (cloud, name)
);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY,
    cloud TEXT NOT NULL,
    service TEXT NOT NULL,
    grantee TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (cloud, service, grantee)
);
CREATE TABLE IF NOT EXISTS egress (
    cloud TEXT PRIMARY KEY,
    allow TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cloud_net (
    cloud TEXT PRIMARY KEY,
    subnet TEXT NOT NULL
);
";

/// A cloud's network unless it asks for another.
pub const DEFAULT_SUBNET: &str = crate::machine::DEFAULT_SUBNET;

/// Checks a cloud subnet (`a.b.c.d/n`, n 8 to 30) and gives it in its
/// canonical form (host bits cleared). It must stay clear of loopback,
/// link-local (the metadata address), the imports range and multicast.
pub fn parse_subnet(s: &str) -> Result<String, String> {
    let (a, n) = s.split_once('/').ok_or_else(|| format!("{s}: write a.b.c.d/n"))?;
    let addr: std::net::Ipv4Addr = a.parse().map_err(|_| format!("{s}: bad address"))?;
    let n: u32 = n.parse().ok().filter(|n| (8..=30).contains(n)).ok_or_else(|| format!("{s}: prefix is 8 to 30"))?;
    let mask = u32::MAX << (32 - n);
    let net = u32::from(addr) & mask;
    let overlaps = |base: [u8; 4], len: u32| {
        let m = u32::MAX << (32 - len.min(n));
        (net & m) == (u32::from_be_bytes(base) & m)
    };
    for (base, len, what) in [
        ([0, 0, 0, 0], 8, "0.0.0.0/8"),
        ([127, 0, 0, 0], 8, "loopback"),
        ([169, 254, 0, 0], 16, "link-local (metadata)"),
        ([100, 127, 0, 0], 16, "the imports range 100.127.0.0/16"),
        ([224, 0, 0, 0], 3, "multicast and reserved"),
    ] {
        if overlaps(base, len) {
            return Err(format!("{s} overlaps {what}"));
        }
    }
    Ok(format!("{}/{n}", std::net::Ipv4Addr::from(net)))
}

/// The cloud's subnet.
pub fn subnet_of(d: &Daemon, cloud: &str) -> Result<String, ApiError> {
    let s: Option<String> =
        d.store().db.query_row("SELECT subnet FROM cloud_net WHERE cloud = ?1", [cloud], |r| r.get(0)).ok();
    Ok(s.unwrap_or_else(|| DEFAULT_SUBNET.to_string()))
}

/// Seconds the daemon waits for an egress connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most connections out of (or into) one cloud the daemon tracks at once.
const MAX_TRACKED: usize = 1024;
/// Most dials of one cloud the daemon works on at once (more get ENOBUFS):
/// a cloud cannot tie up the daemon's threads.
const MAX_DIALS: usize = 64;
/// The address connections from outside a cloud come from, as its guests see it.
const OUTSIDE_PEER: &str = "100.127.255.254";

/// What a kept socket belongs to, to cut it when that goes.
#[derive(Clone, Debug, PartialEq)]
enum Owner {
    Grant(String),
    Ingress { cloud: String, service: String },
    Egress { cloud: String, to: (String, u16) },
}

/// The daemon's network state that is not in the store.
#[derive(Default)]
pub struct Edge {
    /// Ingress listeners by (cloud, service), kept to stop them.
    listeners: Mutex<HashMap<(String, String), Arc<TcpListener>>>,
    /// One socket of every connection crossing a cloud's edge.
    /// (the cloud it counts against, what it belongs to, the socket).
    kept: Mutex<Vec<(String, Owner, OwnedFd)>>,
    /// Dials in progress per cloud.
    dials: Mutex<HashMap<String, usize>>,
    next_port: std::sync::atomic::AtomicU16,
}

impl Edge {
    /// Keeps a duplicate of `fd`, counted against `cloud` (at most
    /// MAX_TRACKED each: one cloud cannot use up another's connections).
    fn keep(&self, cloud: &str, owner: Owner, fd: &impl AsFd) -> Result<(), String> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.iter().filter(|(c, _, _)| c == cloud).count() >= MAX_TRACKED {
            return Err(format!("cloud {cloud} has {MAX_TRACKED} connections across its edge"));
        }
        let dup = wisp_kernel::host::dup(fd.as_fd()).map_err(|e| format!("dup: {e}"))?;
        kept.push((cloud.to_string(), owner, dup));
        Ok(())
    }

    /// Counts a dial of `cloud` in (true) or refuses it (false: too many).
    pub fn start_dial(&self, cloud: &str) -> bool {
        let mut d = self.dials.lock().unwrap_or_else(|e| e.into_inner());
        let n = d.entry(cloud.to_string()).or_default();
        if *n >= MAX_DIALS {
            return false;
        }
        *n += 1;
        true
    }

    pub fn end_dial(&self, cloud: &str) {
        let mut d = self.dials.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = d.get_mut(cloud) {
            *n -= 1;
            if *n == 0 {
                d.remove(cloud);
            }
        }
    }

    /// Cuts every connection `cut` picks.
    fn cut(&self, cut: impl Fn(&Owner) -> bool) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(_, o, fd)| {
            if cut(o) {
                let _ = wisp_kernel::host::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR);
                return false;
            }
            true
        });
    }

    /// Forgets connections both sides have closed.
    pub fn sweep(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(_, _, fd)| {
            let mut p = [libc::pollfd { fd: fd.as_raw_fd(), events: 0, revents: 0 }];
            !matches!(wisp_kernel::host::poll(&mut p, 0), Ok(1) if p[0].revents & libc::POLLHUP != 0)
        });
    }

    fn peer(&self) -> (String, u16) {
        let n = self.next_port.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (OUTSIDE_PEER.to_string(), 32768 + n % 28000)
    }
}

/// A cloud's network settings as its host needs them.
pub fn config(d: &Daemon, cloud: &str) -> Result<NetConfig, ApiError> {
    let s = d.store();
    let services =
        s.db.prepare_cached("SELECT name, machine FROM services WHERE cloud = ?1 ORDER BY name")?
            .query_map([cloud], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
    let imports = s
        .db
        .prepare_cached(
            "SELECT g.cloud, g.service, s.port FROM grants g JOIN services s ON s.cloud = g.cloud AND s.name = g.service \
             WHERE g.grantee = ?1 ORDER BY g.cloud, g.service",
        )?
        .query_map([cloud], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u16)))?
        .collect::<Result<_, _>>()?;
    let egress = egress_list(&s.db, cloud)?.into_iter().map(|e| (e.addr.to_string(), e.port)).collect();
    drop(s);
    Ok(NetConfig { services, imports, egress, subnet: subnet_of(d, cloud)? })
}

/// Sends `cloud`'s network settings to its host, if it runs.
pub fn push(d: &Daemon, cloud: &str) {
    let host = d.host_of(cloud);
    if let (Some(h), Ok(cfg)) = (host, config(d, cloud)) {
        let _ = h.call(HostRequest::Network(cfg), &mut |_, _| {});
    }
}

/// One egress allowlist entry, resolved.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Allowed {
    /// As the owner wrote it (host:port).
    entry: String,
    addr: std::net::Ipv4Addr,
    /// 0: any port.
    port: u16,
}

fn egress_list(db: &rusqlite::Connection, cloud: &str) -> Result<Vec<Allowed>, ApiError> {
    let raw: Option<String> = db.query_row("SELECT allow FROM egress WHERE cloud = ?1", [cloud], |r| r.get(0)).ok();
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default())
}

/// Resolves `host:port` (port `*` for any) to IPv4 entries.
fn resolve(entry: &str) -> Result<Vec<Allowed>, String> {
    let (host, port) = entry.rsplit_once(':').ok_or_else(|| format!("{entry}: write host:port"))?;
    let port: u16 = match port {
        "*" => 0,
        p => p.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("{entry}: bad port"))?,
    };
    if host.is_empty() || host.len() > 253 {
        return Err(format!("{entry}: bad host"));
    }
    let addrs: Vec<std::net::Ipv4Addr> = match host.parse::<std::net::Ipv4Addr>() {
        Ok(a) => vec![a],
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host, port.max(1)))
            .map_err(|e| format!("{entry}: {e}"))?
            .filter_map(|a| match a.ip() {
                std::net::IpAddr::V4(v4) => Some(v4),
                _ => None,
            })
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{entry}: no IPv4 address"));
    }
    Ok(addrs.into_iter().map(|addr| Allowed { entry: entry.to_string(), addr, port }).collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewService {
    name: String,
    machine: String,
    port: u16,
    #[serde(default)]
    host_port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    service: String,
    cloud: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EgressBody {
    allow: Vec<String>,
}

fn service_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "name": r.get::<_, String>(0)?,
        "machine": r.get::<_, String>(1)?,
        "port": r.get::<_, i64>(2)?,
        "host_port": r.get::<_, Option<i64>>(3)?,
        "created_ms": r.get::<_, i64>(4)?,
    }))
}

pub fn create_service(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let b: NewService = super::api::parse(req, d.max_body)?;
    crate::state::check_name("service", &b.name).map_err(|e| err(400, "bad_name", e))?;
    if b.port == 0 || b.host_port == Some(0) {
        return Err(err(400, "bad_port", "ports are 1-65535"));
    }
    if d.store().machine(c, &b.machine)?.is_none() {
        return Err(err(404, "not_found", format!("no machine {}", b.machine)));
    }
    let exists: bool = d.store().db.query_row(
        "SELECT count(*) FROM services WHERE cloud = ?1 AND name = ?2",
        params![c, b.name],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if exists {
        return Err(err(409, "exists", format!("service {} exists", b.name)));
    }
    // The host port is taken before the row is written: a port in use is a
    // clear 409, never a service that silently has no ingress.
    let listener = match b.host_port {
        Some(p) => Some(Arc::new(
            TcpListener::bind(("127.0.0.1", p)).map_err(|e| err(409, "port_in_use", format!("127.0.0.1:{p}: {e}")))?,
        )),
        None => None,
    };
    d.store().db.execute(
        "INSERT INTO services (cloud, name, machine, port, host_port, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![c, b.name, b.machine, b.port, b.host_port, super::store::now_ms()],
    )?;
    if let Some(l) = listener {
        serve_ingress(d, c, &b.name, l);
    }
    push(d, c);
    d.emit(c, "service_created", Some(&b.machine), &b.name);
    let st = d.store();
    let row = st
        .db
        .prepare_cached(
            "SELECT name, machine, port, host_port, created_ms FROM services WHERE cloud = ?1 AND name = ?2",
        )?
        .query_row(params![c, b.name], service_json)?;
    drop(st);
    Ok(row)
}

pub fn list_services(d: &Arc<Daemon>, caller: &Caller, c: &str) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Read)?;
    let s = d.store();
    let rows: Vec<Value> =
        s.db.prepare_cached(
            "SELECT name, machine, port, host_port, created_ms FROM services WHERE cloud = ?1 ORDER BY name",
        )?
        .query_map([c], service_json)?
        .collect::<Result<_, _>>()?;
    Ok(json!({ "services": rows }))
}

pub fn delete_service(d: &Arc<Daemon>, caller: &Caller, c: &str, name: &str) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let (grants, grantees): (Vec<String>, Vec<String>) = {
        let s = d.store();
        let n = s.db.execute("DELETE FROM services WHERE cloud = ?1 AND name = ?2", params![c, name])?;
        if n == 0 {
            return Err(err(404, "not_found", format!("no service {name}")));
        }
        let rows: Vec<(String, String)> =
            s.db.prepare_cached("SELECT id, grantee FROM grants WHERE cloud = ?1 AND service = ?2")?
                .query_map(params![c, name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
        s.db.execute("DELETE FROM grants WHERE cloud = ?1 AND service = ?2", params![c, name])?;
        rows.into_iter().unzip()
    };
    stop_service(d, c, Some(name));
    d.edge.cut(|o| matches!(o, Owner::Grant(g) if grants.contains(g)));
    push(d, c);
    for g in grantees {
        push(d, &g);
    }
    Ok(json!({ "deleted": name }))
}

/// Stops the ingress of `cloud`'s service (every service: None) and cuts
/// the connections to it.
fn stop_service(d: &Daemon, cloud: &str, name: Option<&str>) {
    let mut ls = d.edge.listeners.lock().unwrap_or_else(|e| e.into_inner());
    ls.retain(|(c, s), l| {
        let gone = c == cloud && name.is_none_or(|n| n == s);
        if gone {
            // shutdown on a listening socket makes its accept() fail: the thread ends.
            let _ = wisp_kernel::host::shutdown(l.as_raw_fd(), libc::SHUT_RDWR);
        }
        !gone
    });
    drop(ls);
    d.edge
        .cut(|o| matches!(o, Owner::Ingress { cloud: c, service } if c == cloud && name.is_none_or(|n| n == service)));
}

/// Accepts on a service's host port and hands each connection to the
/// service's machine.
fn serve_ingress(d: &Arc<Daemon>, cloud: &str, service: &str, l: Arc<TcpListener>) {
    d.edge.listeners.lock().unwrap_or_else(|e| e.into_inner()).insert((cloud.into(), service.into()), l.clone());
    let (weak, cloud, service) = (Arc::downgrade(d), cloud.to_string(), service.to_string());
    let _ = std::thread::Builder::new().name(format!("ingress-{service}")).spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let Some(d) = weak.upgrade() else { return };
            if let Err(e) = ingress(&d, &cloud, &service, conn) {
                eprintln!("wisp daemon: ingress to {cloud}/{service}: {e}");
            }
        }
    });
}

fn ingress(d: &Daemon, cloud: &str, service: &str, conn: TcpStream) -> Result<(), String> {
    let (machine, port) = service_target(d, cloud, service).ok_or("the service is gone")?;
    let host = d.host_of(cloud).ok_or("its machine is not running")?;
    d.edge.keep(cloud, Owner::Ingress { cloud: cloud.into(), service: service.into() }, &conn)?;
    let peer = d.edge.peer();
    host.call_with_fd(|tag| HostRequest::Incoming { machine, port, peer, tag }, conn.as_fd()).map(|_| ())
}

fn service_target(d: &Daemon, cloud: &str, service: &str) -> Option<(String, u16)> {
    d.store()
        .db
        .query_row("SELECT machine, port FROM services WHERE cloud = ?1 AND name = ?2", params![cloud, service], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u16))
        })
        .ok()
}

/// Starts the ingress listeners of every service (at daemon start).
pub fn restore(d: &Arc<Daemon>) {
    let rows: Vec<(String, String, i64)> = {
        let s = d.store();
        let mut st = match s.db.prepare("SELECT cloud, name, host_port FROM services WHERE host_port IS NOT NULL") {
            Ok(st) => st,
            Err(_) => return,
        };
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default()
    };
    for (cloud, name, port) in rows {
        match TcpListener::bind(("127.0.0.1", port as u16)) {
            Ok(l) => serve_ingress(d, &cloud, &name, Arc::new(l)),
            Err(e) => eprintln!("wisp daemon: service {cloud}/{name}: 127.0.0.1:{port}: {e}"),
        }
    }
}

pub fn create_grant(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let b: NewGrant = super::api::parse(req, d.max_body)?;
    if service_target(d, c, &b.service).is_none() {
        return Err(err(404, "not_found", format!("no service {}", b.service)));
    }
    if d.store().cloud(&b.cloud)?.is_none() {
        return Err(err(404, "not_found", format!("no cloud {}", b.cloud)));
    }
    if b.cloud == c {
        return Err(err(400, "same_cloud", "a cloud reaches its own services as SERVICE.internal"));
    }
    let id = format!("g{}", crate::state::random_hex(6));
    let n = d.store().db.execute(
        "INSERT OR IGNORE INTO grants (id, cloud, service, grantee, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, c, b.service, b.cloud, super::store::now_ms()],
    )?;
    if n == 0 {
        return Err(err(409, "exists", format!("service {} is already granted to {}", b.service, b.cloud)));
    }
    push(d, &b.cloud);
    d.emit(c, "grant_created", None, &format!("{} to {}", b.service, b.cloud));
    Ok(json!({"id": id, "service": b.service, "cloud": b.cloud,
              "name": format!("{}.{}.clouds.internal", b.service, c)}))
}

pub fn list_grants(d: &Arc<Daemon>, caller: &Caller, c: &str) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Read)?;
    let s = d.store();
    let rows: Vec<Value> = s
        .db
        .prepare_cached("SELECT id, service, grantee, created_ms FROM grants WHERE cloud = ?1 ORDER BY created_ms, id")?
        .query_map([c], |r| {
            Ok(json!({"id": r.get::<_, String>(0)?, "service": r.get::<_, String>(1)?,
                      "cloud": r.get::<_, String>(2)?, "created_ms": r.get::<_, i64>(3)?}))
        })?
        .collect::<Result<_, _>>()?;
    Ok(json!({ "grants": rows }))
}

pub fn delete_grant(d: &Arc<Daemon>, caller: &Caller, c: &str, id: &str) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let grantee: Option<String> = d
        .store()
        .db
        .query_row("SELECT grantee FROM grants WHERE id = ?1 AND cloud = ?2", params![id, c], |r| r.get(0))
        .ok();
    let grantee = grantee.ok_or_else(|| err(404, "not_found", format!("no grant {id}")))?;
    d.store().db.execute("DELETE FROM grants WHERE id = ?1", [id])?;
    // The row is gone first: no new connection passes the check from now on.
    d.edge.cut(|o| *o == Owner::Grant(id.to_string()));
    push(d, &grantee);
    d.emit(c, "grant_revoked", None, id);
    Ok(json!({ "revoked": id }))
}

pub fn put_egress(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let b: EgressBody = super::api::parse(req, d.max_body)?;
    if b.allow.len() > 256 {
        return Err(err(400, "too_many", "at most 256 egress entries"));
    }
    let mut allowed = Vec::new();
    for e in &b.allow {
        allowed.extend(resolve(e).map_err(|m| err(400, "bad_egress", m))?);
    }
    let text = serde_json::to_string(&allowed).map_err(|e| err(500, "json", e.to_string()))?;
    d.store().db.execute(
        "INSERT INTO egress (cloud, allow) VALUES (?1, ?2) ON CONFLICT (cloud) DO UPDATE SET allow = ?2",
        params![c, text],
    )?;
    // Connections the new list no longer allows are cut.
    d.edge.cut(|o| match o {
        Owner::Egress { cloud, to } => {
            cloud == c && !allowed.iter().any(|a| a.addr.to_string() == to.0 && (a.port == 0 || a.port == to.1))
        }
        _ => false,
    });
    push(d, c);
    d.emit(c, "egress_set", None, &b.allow.join(" "));
    get_egress(d, caller, c)
}

pub fn get_egress(d: &Arc<Daemon>, caller: &Caller, c: &str) -> Result<Value, ApiError> {
    d.authorize(caller, c, Scope::Read)?;
    let list = egress_list(&d.store().db, c)?;
    let mut entries: Vec<&str> = list.iter().map(|a| a.entry.as_str()).collect();
    entries.dedup();
    let resolved: Vec<String> = list
        .iter()
        .map(|a| format!("{}:{}", a.addr, if a.port == 0 { "*".into() } else { a.port.to_string() }))
        .collect();
    Ok(json!({ "allow": entries, "resolved": resolved }))
}

/// Everything of `cloud` at the edge goes (the cloud is being deleted).
pub fn forget_cloud(d: &Daemon, cloud: &str) -> Result<(), ApiError> {
    stop_service(d, cloud, None);
    let (grants, grantees): (Vec<String>, Vec<String>) = {
        let s = d.store();
        let rows: Vec<(String, String)> =
            s.db.prepare("SELECT id, grantee FROM grants WHERE cloud = ?1 OR grantee = ?1")?
                .query_map([cloud], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
        s.db.execute("DELETE FROM grants WHERE cloud = ?1 OR grantee = ?1", [cloud])?;
        s.db.execute("DELETE FROM services WHERE cloud = ?1", [cloud])?;
        s.db.execute("DELETE FROM egress WHERE cloud = ?1", [cloud])?;
        s.db.execute("DELETE FROM cloud_net WHERE cloud = ?1", [cloud])?;
        rows.into_iter().unzip()
    };
    d.edge.cut(|o| match o {
        Owner::Grant(g) => grants.contains(g),
        Owner::Egress { cloud: c, .. } => c == cloud,
        Owner::Ingress { .. } => false,
    });
    for g in grantees.iter().filter(|g| *g != cloud) {
        push(d, g);
    }
    Ok(())
}

/// A guest of `cloud` asks to connect out: checks, connects, answers.
pub fn dial(d: &Arc<Daemon>, cloud: &str, dial: u64, machine: &str, target: Target) {
    let Some(host) = d.host_of(cloud) else { return };
    let answer = match connect(d, cloud, machine, &target) {
        Ok(fd) => host.call_with_fd(|tag| HostRequest::Dialed { dial, result: Ok(tag) }, fd.as_fd()),
        Err(errno) => host.call(HostRequest::Dialed { dial, result: Err(errno) }, &mut |_, _| {}),
    };
    if let Err(e) = answer {
        eprintln!("wisp daemon: cloud {cloud}: answering a connection: {e}");
    }
}

/// Answers a dial of `cloud` with ENOBUFS at once (too many in flight),
/// without waiting: this runs on the host's reader thread.
pub fn refuse(d: &Daemon, cloud: &str, dial: u64) {
    if let Some(host) = d.host_of(cloud) {
        let _ = host.tell(HostRequest::Dialed { dial, result: Err(libc::ENOBUFS) });
    }
}

/// The connection `target` for a guest of `cloud`, or the errno it gets.
fn connect(d: &Arc<Daemon>, cloud: &str, machine: &str, target: &Target) -> Result<OwnedFd, i32> {
    match target {
        Target::Metadata => {
            use std::sync::atomic::Ordering;
            let row = d.store().machine(cloud, machine).ok().flatten().ok_or(libc::ECONNREFUSED)?;
            if d.metadata_live.fetch_add(1, Ordering::SeqCst) >= super::identity::MAX_METADATA {
                d.metadata_live.fetch_sub(1, Ordering::SeqCst);
                return Err(libc::ECONNREFUSED);
            }
            let (ours, theirs) = match std::os::unix::net::UnixStream::pair() {
                Ok(p) => p,
                Err(e) => {
                    d.metadata_live.fetch_sub(1, Ordering::SeqCst);
                    return Err(e.raw_os_error().unwrap_or(libc::ENOBUFS));
                }
            };
            let (cloud, machine, address) = (cloud.to_string(), machine.to_string(), row.address.unwrap_or_default());
            let d2 = d.clone();
            let spawned = std::thread::Builder::new().name("metadata".into()).spawn(move || {
                super::identity::serve(ours, &d2.identity, &cloud, &machine, &address, super::store::now_ms());
                d2.metadata_live.fetch_sub(1, Ordering::SeqCst);
            });
            if spawned.is_err() {
                d.metadata_live.fetch_sub(1, Ordering::SeqCst);
                return Err(libc::ENOBUFS);
            }
            Ok(OwnedFd::from(theirs))
        }
        Target::Service { cloud: exporter, service, port } => {
            let grant: Option<String> = d
                .store()
                .db
                .query_row(
                    "SELECT id FROM grants WHERE cloud = ?1 AND service = ?2 AND grantee = ?3",
                    params![exporter, service, cloud],
                    |r| r.get(0),
                )
                .ok();
            let grant = grant.ok_or(libc::ECONNREFUSED)?;
            let (machine, sport) = service_target(d, exporter, service).ok_or(libc::ECONNREFUSED)?;
            if sport != *port {
                return Err(libc::ECONNREFUSED);
            }
            let host = d.host_of(exporter);
            let host = host.ok_or(libc::ECONNREFUSED)?;
            let (ours, theirs) = wisp_kernel::host::socketpair(libc::SOCK_STREAM).map_err(|e| e.0)?;
            d.edge.keep(cloud, Owner::Grant(grant), &ours).map_err(|_| libc::ENOBUFS)?;
            let peer = d.edge.peer();
            host.call_with_fd(|tag| HostRequest::Incoming { machine, port: sport, peer, tag }, theirs.as_fd())
                .map_err(|_| libc::ECONNREFUSED)?;
            Ok(ours)
        }
        Target::Egress { addr, port } => {
            let ip: std::net::Ipv4Addr = addr.parse().map_err(|_| libc::ENETUNREACH)?;
            let allowed = egress_list(&d.store().db, cloud)
                .map_err(|_| libc::ENETUNREACH)?
                .iter()
                .any(|a| a.addr == ip && (a.port == 0 || a.port == *port));
            if !allowed {
                return Err(libc::ENETUNREACH);
            }
            let s = TcpStream::connect_timeout(&SocketAddr::from((ip, *port)), CONNECT_TIMEOUT)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::ECONNREFUSED))?;
            d.edge
                .keep(cloud, Owner::Egress { cloud: cloud.into(), to: (addr.clone(), *port) }, &s)
                .map_err(|_| libc::ENOBUFS)?;
            Ok(OwnedFd::from(s))
        }
    }
}
