//! The REST/JSON API: routing, request bodies, and one function per
//! endpoint. docs/openapi.json describes the same surface.

use std::io::Write;
use std::sync::Arc;

use rusqlite::params;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{Chunked, Request, write_response};
use super::store::{Quota, now_ms};
use super::{ApiError, Caller, Daemon, Scope, err, hash_token, network, new_token};
use crate::proto::{MachineSpec, ReplyBody, Request as HostRequest};

pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");
/// Largest file the files API moves in one request.
const MAX_FILE: u64 = 64 << 20;
/// Exec output kept for a non-streaming answer, per stream.
const MAX_EXEC_OUTPUT: usize = 16 << 20;

pub fn error_body(e: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&json!({"code": e.code, "message": e.message})).unwrap_or_default()
}

enum Answer {
    Json(u16, Value),
    Bytes(u16, &'static str, Vec<u8>),
    /// The handler wrote the answer itself (a stream).
    Streamed,
}

/// Answers one request; false when the connection must close.
pub fn handle(d: &Arc<Daemon>, req: Request, w: &mut impl Write) -> bool {
    let keep = req.keep_alive;
    let result = route(d, &req, w);
    let written = match result {
        Ok(Answer::Json(status, v)) => {
            let body = serde_json::to_vec(&v).unwrap_or_default();
            write_response(w, status, "application/json", &body, keep)
        }
        Ok(Answer::Bytes(status, ct, body)) => write_response(w, status, ct, &body, keep),
        Ok(Answer::Streamed) => return false,
        Err(e) => write_response(w, e.status, "application/json", &error_body(&e), keep),
    };
    written.is_ok()
}

pub(super) fn parse<T: for<'de> Deserialize<'de>>(req: &Request, max: usize) -> Result<T, ApiError> {
    if req.body.len() > max {
        return Err(err(413, "too_large", format!("JSON bodies are limited to {max} bytes")));
    }
    if let Some(ct) = req.header("content-type") {
        let ct = ct.split(';').next().unwrap_or("").trim();
        if !ct.eq_ignore_ascii_case("application/json") && !ct.is_empty() {
            // curl -d sends form encoding by default; JSON is all we read.
            if !ct.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
                return Err(err(415, "unsupported_media_type", "send application/json"));
            }
        }
    }
    let body: &[u8] = if req.body.iter().all(|b| b.is_ascii_whitespace()) { b"{}" } else { &req.body };
    serde_json::from_slice(body).map_err(|e| err(400, "bad_json", format!("request body: {e}")))
}

fn bearer(req: &Request) -> Option<&str> {
    let h = req.header("authorization")?;
    let (kind, token) = h.split_once(' ')?;
    kind.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn route(d: &Arc<Daemon>, req: &Request, w: &mut impl Write) -> Result<Answer, ApiError> {
    let segs: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
    let m = req.method.as_str();
    if segs.first() != Some(&"v1") {
        return Err(err(404, "not_found", format!("no such path {}", req.path)));
    }
    if segs.get(1..) == Some(&["openapi.json"]) {
        return match m {
            "GET" => Ok(Answer::Bytes(200, "application/json", OPENAPI.as_bytes().to_vec())),
            _ => Err(method(m)),
        };
    }
    let caller = d.authenticate(bearer(req))?;
    match (m, &segs[1..]) {
        ("POST", ["clouds"]) => create_cloud(d, &caller, req),
        ("GET", ["clouds"]) => list_clouds(d, &caller),
        ("GET", ["clouds", c]) => {
            let cloud = d.authorize(&caller, c, Scope::Read)?;
            Ok(Answer::Json(200, cloud_json(d, &cloud)?))
        }
        ("DELETE", ["clouds", c]) => delete_cloud(d, &caller, c),
        ("POST", ["clouds", c, "machines"]) => create_machine(d, &caller, c, req),
        ("GET", ["clouds", c, "machines"]) => {
            d.authorize(&caller, c, Scope::Read)?;
            Ok(Answer::Json(200, json!({"machines": d.store().machines(c)?})))
        }
        ("GET", ["clouds", c, "machines", name]) => {
            d.authorize(&caller, c, Scope::Read)?;
            Ok(Answer::Json(200, json!(machine_row(d, c, name)?)))
        }
        ("DELETE", ["clouds", c, "machines", name]) => delete_machine(d, &caller, c, name),
        ("POST", ["clouds", c, "machines", name, "stop"]) => stop_machine(d, &caller, c, name, req),
        ("POST", ["clouds", c, "machines", name, "exec"]) => exec(d, &caller, c, name, req, w),
        ("GET", ["clouds", c, "machines", name, "logs"]) => logs(d, &caller, c, name, req, w),
        ("GET", ["clouds", c, "machines", name, "files"]) => read_file(d, &caller, c, name, req),
        ("PUT", ["clouds", c, "machines", name, "files"]) => write_file(d, &caller, c, name, req),
        ("POST", ["clouds", c, "volumes"]) => create_volume(d, &caller, c, req),
        ("GET", ["clouds", c, "volumes"]) => list_volumes(d, &caller, c),
        ("DELETE", ["clouds", c, "volumes", v]) => delete_volume(d, &caller, c, v),
        ("GET", ["clouds", c, "volumes", v, "files"]) => volume_file(d, &caller, c, v, req, false),
        ("PUT", ["clouds", c, "volumes", v, "files"]) => volume_file(d, &caller, c, v, req, true),
        ("POST", ["clouds", c, "tokens"]) => create_token(d, &caller, c, req),
        ("GET", ["clouds", c, "tokens"]) => list_tokens(d, &caller, c),
        ("DELETE", ["clouds", c, "tokens", t]) => delete_token(d, &caller, c, t),
        ("GET", ["clouds", c, "usage"]) => {
            d.authorize(&caller, c, Scope::Read)?;
            Ok(Answer::Json(200, usage(d, c)?))
        }
        ("POST", ["clouds", c, "services"]) => {
            network::create_service(d, &caller, c, req).map(|v| Answer::Json(201, v))
        }
        ("GET", ["clouds", c, "services"]) => network::list_services(d, &caller, c).map(|v| Answer::Json(200, v)),
        ("DELETE", ["clouds", c, "services", s]) => {
            network::delete_service(d, &caller, c, s).map(|v| Answer::Json(200, v))
        }
        ("POST", ["clouds", c, "grants"]) => network::create_grant(d, &caller, c, req).map(|v| Answer::Json(201, v)),
        ("GET", ["clouds", c, "grants"]) => network::list_grants(d, &caller, c).map(|v| Answer::Json(200, v)),
        ("DELETE", ["clouds", c, "grants", g]) => network::delete_grant(d, &caller, c, g).map(|v| Answer::Json(200, v)),
        ("PUT", ["clouds", c, "egress"]) => network::put_egress(d, &caller, c, req).map(|v| Answer::Json(200, v)),
        ("GET", ["clouds", c, "egress"]) => network::get_egress(d, &caller, c).map(|v| Answer::Json(200, v)),
        ("POST", ["identity", "verify"]) => verify_identity(d, req),
        ("GET", ["events"]) => events(d, &caller, req, w),
        (_, path) if known_path(path) => Err(method(m)),
        _ => Err(err(404, "not_found", format!("no such path {}", req.path))),
    }
}

fn known_path(p: &[&str]) -> bool {
    matches!(
        p,
        ["clouds"]
            | ["clouds", _]
            | ["clouds", _, "machines" | "volumes" | "tokens" | "usage" | "services" | "grants" | "egress"]
            | ["clouds", _, "machines" | "volumes" | "tokens" | "services" | "grants", _]
            | ["clouds", _, "machines", _, "stop" | "exec" | "logs" | "files"]
            | ["clouds", _, "volumes", _, "files"]
            | ["events"]
            | ["identity", "verify"]
    )
}

fn method(m: &str) -> ApiError {
    err(405, "method_not_allowed", format!("{m} is not allowed here"))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewCloud {
    #[serde(default)]
    name: Option<String>,
    /// Make a child of this cloud (a cloud token's own cloud by default).
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    quota: Option<Quota>,
    /// The cloud's private network, e.g. "10.20.0.0/16" (default 100.64.0.0/24).
    #[serde(default)]
    subnet: Option<String>,
}

fn cloud_json(d: &Daemon, c: &super::store::Cloud) -> Result<Value, ApiError> {
    let s = d.store();
    let machines = s.machines(&c.id)?;
    let running = machines.iter().filter(|m| m.state == "running" || m.state == "starting").count();
    drop(s);
    Ok(json!({
        "id": c.id, "name": c.name, "parent": c.parent, "created_ms": c.created_ms,
        "quota": c.quota, "machines": machines.len(), "running": running,
        "subnet": network::subnet_of(d, &c.id)?,
    }))
}

/// What a cloud holds against its quota: its live machines and volumes,
/// and the whole quotas of its children.
fn committed(d: &Daemon, cloud: &str) -> Result<Quota, ApiError> {
    let s = d.store();
    let (machines, mem, vcpus, pids, disk): (i64, i64, i64, i64, i64) = s.db.query_row(
        "SELECT count(*), coalesce(sum(memory_mib), 0), coalesce(sum(vcpus), 0), coalesce(sum(pids), 0), \
         coalesce(sum(disk_mib), 0) FROM machines WHERE cloud = ?1 AND state IN ('starting', 'running')",
        [cloud],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let vol: i64 =
        s.db.query_row("SELECT coalesce(sum(size_bytes), 0) FROM volumes WHERE cloud = ?1", [cloud], |r| r.get(0))?;
    let mut q = Quota {
        machines: machines as u64,
        memory_mib: mem as u64,
        vcpus: vcpus as u64,
        pids: pids as u64,
        volume_bytes: vol as u64 + ((disk as u64) << 20),
    };
    for c in s.clouds(Some(cloud))? {
        q.machines += c.quota.machines;
        q.memory_mib += c.quota.memory_mib;
        q.vcpus += c.quota.vcpus;
        q.pids += c.quota.pids;
        q.volume_bytes += c.quota.volume_bytes;
    }
    Ok(q)
}

/// Refuses `add` when it does not fit in `cloud`'s quota; records the hit.
fn admit(d: &Daemon, cloud: &super::store::Cloud, add: Quota) -> Result<(), ApiError> {
    let used = committed(d, &cloud.id)?;
    let q = cloud.quota;
    let over = [
        ("machines", used.machines + add.machines, q.machines),
        ("memory_mib", used.memory_mib + add.memory_mib, q.memory_mib),
        ("vcpus", used.vcpus + add.vcpus, q.vcpus),
        ("pids", used.pids + add.pids, q.pids),
        ("volume_bytes", used.volume_bytes + add.volume_bytes, q.volume_bytes),
    ]
    .into_iter()
    .find(|(_, want, max)| want > max);
    if let Some((what, want, max)) = over {
        let msg = format!("quota: {what} would be {want}, past the cloud's limit of {max}");
        d.emit(&cloud.id, "quota", None, &msg);
        return Err(err(429, "quota_exceeded", msg));
    }
    Ok(())
}

fn create_cloud(d: &Arc<Daemon>, caller: &Caller, req: &Request) -> Result<Answer, ApiError> {
    let body: NewCloud = parse(req, d.max_body)?;
    let parent = match (caller, &body.parent) {
        (Caller::Admin, p) => p.clone(),
        (Caller::Cloud { cloud, .. }, None) => Some(cloud.clone()),
        (Caller::Cloud { .. }, Some(p)) => Some(p.clone()),
    };
    let parent_cloud = match &parent {
        Some(p) => Some(d.authorize(caller, p, Scope::Owner)?),
        None => None,
    };
    if let Some(n) = &body.name {
        crate::state::check_name("cloud", n).map_err(|e| err(400, "bad_name", e))?;
    }
    let subnet = match &body.subnet {
        Some(s) => Some(network::parse_subnet(s).map_err(|e| err(400, "bad_subnet", e))?),
        None => None,
    };
    let quota = match (&parent_cloud, body.quota) {
        (_, Some(q)) => q,
        // A child gets a tenth of its parent's quota unless it asks.
        (Some(p), None) => Quota {
            machines: (p.quota.machines / 10).max(1),
            memory_mib: p.quota.memory_mib / 10,
            vcpus: (p.quota.vcpus / 10).max(1),
            pids: p.quota.pids / 10,
            volume_bytes: p.quota.volume_bytes / 10,
        },
        (None, None) => Quota::default(),
    };
    if let Some(p) = &parent_cloud {
        admit(d, p, quota)?;
    }
    let id = format!("c{}", crate::state::random_hex(6));
    let token = new_token(&id);
    let now = now_ms();
    {
        let s = d.store();
        let tx = s.db.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO clouds (id, parent, name, created_ms, max_machines, max_memory_mib, max_vcpus, max_pids, \
             max_volume_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                parent,
                body.name.clone().unwrap_or_else(|| id.clone()),
                now,
                quota.machines as i64,
                quota.memory_mib as i64,
                quota.vcpus as i64,
                quota.pids as i64,
                quota.volume_bytes as i64
            ],
        )?;
        tx.execute(
            "INSERT INTO tokens (id, cloud, hash, scope, created_ms) VALUES (?1, ?2, ?3, 'owner', ?4)",
            params![format!("t{}", crate::state::random_hex(6)), id, hash_token(&token), now],
        )?;
        if let Some(subnet) = &subnet {
            tx.execute("INSERT INTO cloud_net (cloud, subnet) VALUES (?1, ?2)", params![id, subnet])?;
        }
        tx.execute(
            "INSERT INTO events (time_ms, cloud, kind, detail) VALUES (?1, ?2, 'cloud_created', '')",
            params![now, id],
        )?;
        tx.commit()?;
    }
    let subnet = subnet.unwrap_or_else(|| network::DEFAULT_SUBNET.to_string());
    Ok(Answer::Json(201, json!({"id": id, "token": token, "parent": parent, "quota": quota, "subnet": subnet})))
}

fn list_clouds(d: &Arc<Daemon>, caller: &Caller) -> Result<Answer, ApiError> {
    let all = d.store().all_clouds()?;
    let mut out = Vec::new();
    for c in all {
        let visible = match caller {
            Caller::Admin => true,
            Caller::Cloud { cloud, .. } => d.store().within(&c.id, cloud)?,
        };
        if visible {
            out.push(json!({"id": c.id, "name": c.name, "parent": c.parent, "created_ms": c.created_ms}));
        }
    }
    Ok(Answer::Json(200, json!({"clouds": out})))
}

fn delete_cloud(d: &Arc<Daemon>, caller: &Caller, id: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, id, Scope::Owner)?;
    // Children first, deepest first.
    let mut order = vec![id.to_string()];
    let mut i = 0;
    while i < order.len() {
        let kids = d.store().clouds(Some(&order[i]))?;
        order.extend(kids.into_iter().map(|c| c.id));
        i += 1;
    }
    for c in order.iter().rev() {
        super::network::forget_cloud(d, c)?;
        if let Some(h) = d.hosts.lock().unwrap_or_else(|e| e.into_inner()).remove(c) {
            h.kill();
        }
        {
            let s = d.store();
            let tx = s.db.unchecked_transaction()?;
            for table in ["machines", "volumes", "usage_closed"] {
                tx.execute(&format!("DELETE FROM {table} WHERE cloud = ?1"), [c])?;
            }
            tx.execute("DELETE FROM tokens WHERE cloud = ?1", [c])?;
            tx.execute("DELETE FROM clouds WHERE id = ?1", [c])?;
            tx.commit()?;
        }
        d.emit(c, "cloud_deleted", None, "");
        // The rows are gone first: a crash here leaves a directory that the
        // next start sweeps, never a cloud without its files.
        let dir = d.state.root().join("clouds").join(c);
        for _ in 0..50 {
            if crate::image::remove_tree(&dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    Ok(Answer::Json(200, json!({"deleted": order})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMachine {
    name: String,
    #[serde(default)]
    image: Option<String>,
    command: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    memory_mib: Option<u64>,
    #[serde(default)]
    vcpus: Option<u64>,
    /// Most processes and threads at once (1-64).
    #[serde(default)]
    pids: Option<u64>,
    /// Most MiB the machine's writable layer, /tmp and /dev/shm may take
    /// (charged to the cloud's volume_bytes).
    #[serde(default)]
    disk_mib: Option<u64>,
    /// `{"VOLUME": "/path"}` or `{"VOLUME": "/path:ro"}`.
    #[serde(default)]
    volumes: std::collections::BTreeMap<String, String>,
    /// Most sockets the machine holds at once (default 1024).
    #[serde(default)]
    max_connections: Option<u32>,
    /// Most megabits per second it sends to other machines (default: no limit).
    #[serde(default)]
    net_mbps: Option<u32>,
}

fn machine_row(d: &Daemon, cloud: &str, name: &str) -> Result<super::store::MachineRow, ApiError> {
    d.store().machine(cloud, name)?.ok_or_else(|| err(404, "not_found", format!("no machine {name}")))
}

fn create_machine(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Answer, ApiError> {
    let cloud = d.authorize(caller, c, Scope::Owner)?;
    let b: NewMachine = parse(req, d.max_body)?;
    crate::state::check_name("machine", &b.name).map_err(|e| err(400, "bad_name", e))?;
    if b.command.is_empty() || b.command.iter().any(|a| a.contains('\0')) {
        return Err(err(400, "bad_command", "command must be a non-empty list of strings without NUL"));
    }
    let memory_mib = b.memory_mib.unwrap_or(crate::proto::DEFAULT_MEMORY_MIB);
    if !(4..=1 << 20).contains(&memory_mib) {
        return Err(err(400, "bad_memory", "memory_mib must be 4 to 1048576"));
    }
    let vcpus = b.vcpus.unwrap_or(1);
    if !(1..=64).contains(&vcpus) {
        return Err(err(400, "bad_vcpus", "vcpus must be 1 to 64"));
    }
    let pids = b.pids.unwrap_or(64);
    if !(1..=64).contains(&pids) {
        return Err(err(400, "bad_pids", "pids must be 1 to 64"));
    }
    let disk_mib = b.disk_mib.unwrap_or(1024);
    if !(1..=1 << 20).contains(&disk_mib) {
        return Err(err(400, "bad_disk", "disk_mib must be 1 to 1048576"));
    }
    let max_connections = b.max_connections.unwrap_or(1024);
    if !(1..=65536).contains(&max_connections) {
        return Err(err(400, "bad_max_connections", "max_connections must be 1 to 65536"));
    }
    if b.net_mbps.is_some_and(|m| !(1..=1_000_000).contains(&m)) {
        return Err(err(400, "bad_net_mbps", "net_mbps must be 1 to 1000000"));
    }
    let mut env = Vec::new();
    for (k, v) in &b.env {
        if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
            return Err(err(400, "bad_env", format!("env {k:?}: invalid variable")));
        }
        env.push(format!("{k}={v}"));
    }
    let mut volumes = Vec::new();
    for (name, at) in &b.volumes {
        if !d.store().volume_exists(c, name)? {
            return Err(err(404, "not_found", format!("no volume {name}")));
        }
        let spec = format!("{name}:{at}");
        crate::machine::parse_volume(&spec).map_err(|e| err(400, "bad_volume", e))?;
        volumes.push(spec);
    }
    if let Some(img) = &b.image {
        crate::state::check_name("image", img).map_err(|e| err(400, "bad_image", e))?;
        if !d.state.images().join(img).exists() {
            return Err(err(404, "not_found", format!("no image {img}")));
        }
    }
    let spec = MachineSpec {
        image: b.image.clone(),
        command: b.command.clone(),
        env,
        cwd: b.cwd.clone().unwrap_or_else(|| "/".into()),
        memory_mib,
        pids: pids as u16,
        vcpus: vcpus as u16,
        disk_mib,
        volumes,
        max_connections,
        net_mbps: b.net_mbps.unwrap_or(0),
    };
    let spec_json = json!({"image": b.image, "command": b.command, "env": b.env, "cwd": spec.cwd,
        "memory_mib": memory_mib, "vcpus": vcpus, "pids": pids, "disk_mib": disk_mib, "volumes": b.volumes,
        "max_connections": max_connections, "net_mbps": b.net_mbps});
    let now = now_ms();
    {
        // Admission and the row go in one transaction under the store lock,
        // so concurrent creates cannot overrun the quota together.
        let _guard = d.admission.lock().unwrap_or_else(|e| e.into_inner());
        if d.store().machine(c, &b.name)?.is_some() {
            return Err(err(409, "exists", format!("machine {} exists", b.name)));
        }
        admit(d, &cloud, Quota { machines: 1, memory_mib, vcpus, pids, volume_bytes: disk_mib << 20 })?;
        // Not acknowledged yet, so not synced yet: the commit that marks it
        // running (or a restart, which marks it lost) carries it to disk.
        let s = d.store();
        s.execute_unsynced(
            "INSERT INTO machines (cloud, name, spec, state, memory_mib, vcpus, pids, disk_mib, created_ms) \
             VALUES (?1, ?2, ?3, 'starting', ?4, ?5, ?6, ?7, ?8)",
            params![
                c,
                b.name,
                spec_json.to_string(),
                memory_mib as i64,
                vcpus as i64,
                pids as i64,
                disk_mib as i64,
                now
            ],
        )?;
    }
    let start = HostRequest::Start { machine: b.name.clone(), spec };
    let sent = d.host(c).and_then(|h| h.send(start).map(|p| (h, p)).map_err(|e| err(422, "start_failed", e)));
    // The row goes to disk while the host boots the machine: it is durable
    // before the answer, and the sync costs the answer little. (A real
    // change, the start time so far: SQLite writes, and syncs, nothing for
    // an update that changes nothing.)
    let durable = sent.is_ok().then(|| {
        let sql = "UPDATE machines SET started_ms = ?3 WHERE cloud = ?1 AND name = ?2";
        d.store().db.execute(sql, params![c, b.name, now_ms()])
    });
    let started = sent.and_then(|(h, p)| h.finish(p, &mut |_, _| {}, None).map_err(|e| err(422, "start_failed", e)));
    match started {
        Ok(reply) => {
            durable.transpose()?;
            let address = match reply {
                ReplyBody::Started { address } if !address.is_empty() => Some(address),
                _ => None,
            };
            // Running, and its event, without another wait for the disk:
            // the meter's commit (each second) carries them there. Until
            // then a power loss finds the row `starting`, and a restart
            // marks it lost, as it does a running machine.
            let seq = d.store().unsynced(|db| {
                let tx = db.unchecked_transaction()?;
                let now = now_ms();
                tx.execute(
                    "UPDATE machines SET state = 'running', started_ms = ?3, address = ?4 \
                     WHERE cloud = ?1 AND name = ?2 AND state = 'starting'",
                    params![c, b.name, now, address],
                )?;
                tx.execute(
                    "INSERT INTO events (time_ms, cloud, kind, machine, detail) VALUES (?1, ?2, 'started', ?3, '')",
                    params![now, c, b.name],
                )?;
                let seq = tx.last_insert_rowid();
                tx.commit()?;
                Ok(seq)
            })?;
            d.notify(seq);
            Ok(Answer::Json(201, json!(machine_row(d, c, &b.name)?)))
        }
        Err(e) => {
            d.store().db.execute("DELETE FROM machines WHERE cloud = ?1 AND name = ?2", params![c, b.name])?;
            Err(e)
        }
    }
}

fn running_host(d: &Arc<Daemon>, c: &str, name: &str) -> Result<Arc<super::hosts::HostConn>, ApiError> {
    let row = machine_row(d, c, name)?;
    if row.state != "running" {
        return Err(err(409, "not_running", format!("machine {name} is {}", row.state)));
    }
    let h = d.host_of(c);
    h.filter(|h| h.alive()).ok_or_else(|| err(409, "not_running", format!("machine {name} is not running")))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StopBody {
    #[serde(default)]
    grace_ms: Option<u64>,
}

fn stop_machine(d: &Arc<Daemon>, caller: &Caller, c: &str, name: &str, req: &Request) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let b: StopBody = parse(req, d.max_body)?;
    let grace_ms = b.grace_ms.unwrap_or(5000).min(600_000);
    let row = machine_row(d, c, name)?;
    if row.state == "running" {
        let h = running_host(d, c, name)?;
        h.call(HostRequest::Stop { machine: name.to_string(), grace_ms }, &mut |_, _| {})
            .map_err(|e| err(500, "stop_failed", e))?;
        // The host's Exited message records the end; wait briefly for it so
        // the answer shows the final state.
        for _ in 0..200 {
            if machine_row(d, c, name)?.state != "running" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    Ok(Answer::Json(200, json!(machine_row(d, c, name)?)))
}

fn delete_machine(d: &Arc<Daemon>, caller: &Caller, c: &str, name: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let row = machine_row(d, c, name)?;
    if row.state == "running" {
        let h = running_host(d, c, name)?;
        h.call(HostRequest::Stop { machine: name.to_string(), grace_ms: 0 }, &mut |_, _| {})
            .map_err(|e| err(500, "stop_failed", e))?;
    }
    if let Some(h) = d.host_of(c) {
        let _ = h.call(HostRequest::Forget { machine: name.to_string() }, &mut |_, _| {});
    }
    let row = machine_row(d, c, name)?;
    let now = now_ms();
    {
        let s = d.store();
        let tx = s.db.unchecked_transaction()?;
        let lifetime = row.ended_ms.unwrap_or(now) - row.started_ms.unwrap_or(row.created_ms);
        tx.execute(
            "INSERT INTO usage_closed (cloud, machine, lifetime_ms, cpu_ms, mem_kib_ms, ended_ms, net_rx_bytes, \
             net_tx_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![c, name, lifetime.max(0), row.cpu_ms, row.mem_kib_ms, now, row.net_rx_bytes, row.net_tx_bytes],
        )?;
        tx.execute("DELETE FROM machines WHERE cloud = ?1 AND name = ?2", params![c, name])?;
        tx.commit()?;
    }
    let cloud_state = d.state.cloud(c).map_err(|e| err(500, "state", e))?;
    let _ = std::fs::remove_file(cloud_state.root().join("logs").join(format!("{name}.log")));
    let _ = std::fs::remove_file(cloud_state.root().join("logs").join(format!("{name}.log.1")));
    let _ = crate::image::remove_tree(&cloud_state.rootfs().join(name));
    d.emit(c, "deleted", Some(name), "");
    Ok(Answer::Json(200, json!({"deleted": name})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecBody {
    command: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    stdin: Option<String>,
    /// Stream NDJSON lines as output arrives.
    #[serde(default)]
    stream: bool,
}

fn exec(
    d: &Arc<Daemon>,
    caller: &Caller,
    c: &str,
    name: &str,
    req: &Request,
    w: &mut impl Write,
) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Exec)?;
    let b: ExecBody = parse(req, d.max_body)?;
    if b.command.is_empty() || b.command.iter().any(|a| a.contains('\0')) {
        return Err(err(400, "bad_command", "command must be a non-empty list of strings without NUL"));
    }
    let env: Vec<String> = b.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if b.env.keys().any(|k| k.is_empty() || k.contains('=') || k.contains('\0')) {
        return Err(err(400, "bad_env", "env names must be non-empty, without '=' or NUL"));
    }
    let h = running_host(d, c, name)?;
    let request = HostRequest::Exec {
        machine: name.to_string(),
        command: b.command,
        env,
        cwd: b.cwd.unwrap_or_else(|| "/".into()),
        stdin: b.stdin.unwrap_or_default().into_bytes(),
    };
    if b.stream {
        let mut out = Chunked::start(w, 200, "application/x-ndjson").map_err(|_| err(500, "io", "write failed"))?;
        let mut broken = false;
        let r = h.call(request, &mut |stderr, data| {
            if !broken {
                let line =
                    json!({"stream": if stderr {"stderr"} else {"stdout"}, "data": String::from_utf8_lossy(data)});
                broken = out.send(format!("{line}\n").as_bytes()).is_err();
            }
        });
        let last = match r {
            Ok(ReplyBody::Exec { exit_code }) => json!({"exit_code": exit_code}),
            Ok(_) => json!({"error": "unexpected reply"}),
            Err(e) => json!({"error": e}),
        };
        let _ = out.send(format!("{last}\n").as_bytes());
        let _ = out.finish();
        return Ok(Answer::Streamed);
    }
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut truncated = false;
    let r = h.call(request, &mut |is_err, data| {
        let buf = if is_err { &mut stderr } else { &mut stdout };
        let room = MAX_EXEC_OUTPUT.saturating_sub(buf.len());
        truncated |= data.len() > room;
        buf.extend_from_slice(&data[..data.len().min(room)]);
    });
    match r {
        Ok(ReplyBody::Exec { exit_code }) => Ok(Answer::Json(
            200,
            json!({"exit_code": exit_code, "stdout": String::from_utf8_lossy(&stdout),
                   "stderr": String::from_utf8_lossy(&stderr), "truncated": truncated}),
        )),
        Ok(_) => Err(err(500, "host", "unexpected reply from the cloud host")),
        Err(e) => Err(err(422, "exec_failed", e)),
    }
}

fn logs(
    d: &Arc<Daemon>,
    caller: &Caller,
    c: &str,
    name: &str,
    req: &Request,
    w: &mut impl Write,
) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Exec)?;
    machine_row(d, c, name)?;
    let path = d.state.cloud(c).map_err(|e| err(500, "state", e))?.root().join("logs").join(format!("{name}.log"));
    let rotated = path.with_extension("log.1");
    let follow = matches!(req.query("follow"), Some("1" | "true" | "yes"));
    let read_from = |p: &std::path::Path, off: u64| -> Vec<u8> {
        use std::io::{Read, Seek};
        let Ok(mut f) = std::fs::File::open(p) else { return Vec::new() };
        let mut v = Vec::new();
        let _ = f.seek(std::io::SeekFrom::Start(off)).and_then(|_| f.take(MAX_FILE).read_to_end(&mut v));
        v
    };
    if !follow {
        let mut all = read_from(&rotated, 0);
        all.extend(read_from(&path, 0));
        return Ok(Answer::Bytes(200, "text/plain; charset=utf-8", all));
    }
    let mut out = Chunked::start(w, 200, "text/plain; charset=utf-8").map_err(|_| err(500, "io", "write failed"))?;
    let mut off = 0u64;
    loop {
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut chunk = Vec::new();
        if len < off {
            // Rotated since the last read: the rest of the old file first.
            chunk = read_from(&rotated, off);
            off = 0;
        }
        let fresh = read_from(&path, off);
        off += fresh.len() as u64;
        chunk.extend(fresh);
        if out.send(&chunk).is_err() {
            return Ok(Answer::Streamed);
        }
        if chunk.is_empty() {
            let running = machine_row(d, c, name).map(|r| r.state == "running").unwrap_or(false);
            if !running {
                let rest = read_from(&path, off);
                let _ = out.send(&rest);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let _ = out.finish();
    Ok(Answer::Streamed)
}

fn file_path(req: &Request) -> Result<String, ApiError> {
    let p = req.query("path").ok_or_else(|| err(400, "bad_path", "pass ?path=/absolute/path"))?;
    if !p.starts_with('/') || p.contains('\0') || p.len() > 4096 {
        return Err(err(400, "bad_path", "path must be absolute"));
    }
    Ok(p.to_string())
}

fn file_error(e: String) -> ApiError {
    if e.contains("No such file") || e.contains("ENOENT") {
        err(404, "not_found", e)
    } else if e.contains("larger than") {
        err(413, "too_large", e)
    } else {
        err(422, "file_failed", e)
    }
}

fn read_file(d: &Arc<Daemon>, caller: &Caller, c: &str, name: &str, req: &Request) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Exec)?;
    let path = file_path(req)?;
    let h = running_host(d, c, name)?;
    match h.call(HostRequest::ReadFile { machine: name.to_string(), path, limit: MAX_FILE }, &mut |_, _| {}) {
        Ok(ReplyBody::File { data }) => Ok(Answer::Bytes(200, "application/octet-stream", data)),
        Ok(_) => Err(err(500, "host", "unexpected reply from the cloud host")),
        Err(e) => Err(file_error(e)),
    }
}

fn write_file(d: &Arc<Daemon>, caller: &Caller, c: &str, name: &str, req: &Request) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let path = file_path(req)?;
    if req.body.len() as u64 > MAX_FILE {
        return Err(err(413, "too_large", format!("files are limited to {MAX_FILE} bytes per request")));
    }
    let mode = file_mode(req)?;
    let h = running_host(d, c, name)?;
    let request =
        HostRequest::WriteFile { machine: name.to_string(), path: path.clone(), data: req.body.clone(), mode };
    h.call(request, &mut |_, _| {}).map_err(file_error)?;
    Ok(Answer::Json(200, json!({"path": path, "bytes": req.body.len()})))
}

fn file_mode(req: &Request) -> Result<u32, ApiError> {
    match req.query("mode") {
        Some(m) => u32::from_str_radix(m, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| err(400, "bad_mode", "mode is octal, e.g. 644")),
        None => Ok(0o644),
    }
}

/// Reads or writes a file of a volume, whether or not a machine uses it.
fn volume_file(
    d: &Arc<Daemon>,
    caller: &Caller,
    c: &str,
    v: &str,
    req: &Request,
    write: bool,
) -> Result<Answer, ApiError> {
    d.authorize(caller, c, if write { Scope::Owner } else { Scope::Exec })?;
    let path = file_path(req)?;
    if !d.store().volume_exists(c, v)? {
        return Err(err(404, "not_found", format!("no volume {v}")));
    }
    if write && req.body.len() as u64 > MAX_FILE {
        return Err(err(413, "too_large", format!("files are limited to {MAX_FILE} bytes per request")));
    }
    let mode = file_mode(req)?;
    let h = d.host(c)?;
    let data = write.then(|| req.body.clone());
    let request = HostRequest::VolumeFile { volume: v.to_string(), path: path.clone(), data, mode, limit: MAX_FILE };
    match h.call(request, &mut |_, _| {}) {
        Ok(ReplyBody::File { data }) if !write => Ok(Answer::Bytes(200, "application/octet-stream", data)),
        Ok(_) if write => Ok(Answer::Json(200, json!({"path": path, "bytes": req.body.len()}))),
        Ok(_) => Err(err(500, "host", "unexpected reply from the cloud host")),
        Err(e) => Err(file_error(e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVolume {
    name: String,
    size_bytes: u64,
}

fn create_volume(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Answer, ApiError> {
    let cloud = d.authorize(caller, c, Scope::Owner)?;
    let b: NewVolume = parse(req, d.max_body)?;
    crate::state::check_name("volume", &b.name).map_err(|e| err(400, "bad_name", e))?;
    if b.size_bytes == 0 {
        return Err(err(400, "bad_size", "size_bytes must be positive"));
    }
    let _guard = d.admission.lock().unwrap_or_else(|e| e.into_inner());
    if d.store().volume_exists(c, &b.name)? {
        return Err(err(409, "exists", format!("volume {} exists", b.name)));
    }
    admit(d, &cloud, Quota { machines: 0, memory_mib: 0, vcpus: 0, pids: 0, volume_bytes: b.size_bytes })?;
    let st = d.state.cloud(c).map_err(|e| err(500, "state", e))?;
    crate::volume::create(&st, &b.name, b.size_bytes).map_err(|e| err(500, "volume", e))?;
    let now = now_ms();
    d.store().db.execute(
        "INSERT INTO volumes (cloud, name, size_bytes, created_ms, sampled_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![c, b.name, b.size_bytes as i64, now],
    )?;
    d.emit(c, "volume_created", None, &b.name);
    Ok(Answer::Json(201, json!({"name": b.name, "size_bytes": b.size_bytes})))
}

fn list_volumes(d: &Arc<Daemon>, caller: &Caller, c: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Read)?;
    let s = d.store();
    let mut st =
        s.db.prepare_cached("SELECT name, size_bytes, created_ms FROM volumes WHERE cloud = ?1 ORDER BY name")?;
    let rows: Vec<Value> = st
        .query_map([c], |r| {
            Ok(json!({"name": r.get::<_, String>(0)?, "size_bytes": r.get::<_, i64>(1)?, "created_ms": r.get::<_, i64>(2)?}))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Answer::Json(200, json!({"volumes": rows})))
}

fn delete_volume(d: &Arc<Daemon>, caller: &Caller, c: &str, v: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    crate::state::check_name("volume", v).map_err(|e| err(404, "not_found", e))?;
    let st = d.state.cloud(c).map_err(|e| err(500, "state", e))?;
    if !d.store().volume_exists(c, v)? {
        return Err(err(404, "not_found", format!("no volume {v}")));
    }
    crate::volume::remove(&st, v).map_err(|e| err(409, "in_use", e))?;
    d.store().db.execute("DELETE FROM volumes WHERE cloud = ?1 AND name = ?2", params![c, v])?;
    Ok(Answer::Json(200, json!({"deleted": v})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: String,
}

/// Checks a machine identity token (any caller may: it is how another
/// cloud's service learns who is calling it).
fn verify_identity(d: &Arc<Daemon>, req: &Request) -> Result<Answer, ApiError> {
    let b: VerifyBody = parse(req, d.max_body)?;
    Ok(Answer::Json(
        200,
        match d.identity.verify(&b.token, now_ms()) {
            Ok(claims) => json!({"valid": true, "cloud": claims["cloud"], "machine": claims["machine"],
                                 "expires_ms": claims["exp_ms"]}),
            Err(why) => json!({"valid": false, "reason": why}),
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    scope: Scope,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

fn create_token(d: &Arc<Daemon>, caller: &Caller, c: &str, req: &Request) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let b: NewToken = parse(req, d.max_body)?;
    let token = new_token(c);
    let id = format!("t{}", crate::state::random_hex(6));
    let expires = match b.ttl_seconds {
        Some(0) => return Err(err(400, "bad_ttl", "ttl_seconds must be positive")),
        Some(t) if t > 10 * 365 * 86400 => return Err(err(400, "bad_ttl", "ttl_seconds is at most ten years")),
        Some(t) => Some(now_ms() + t as i64 * 1000),
        None => None,
    };
    d.store().db.execute(
        "INSERT INTO tokens (id, cloud, hash, scope, expires_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, c, hash_token(&token), b.scope.as_str(), expires, now_ms()],
    )?;
    Ok(Answer::Json(201, json!({"id": id, "token": token, "scope": b.scope, "expires_ms": expires})))
}

fn list_tokens(d: &Arc<Daemon>, caller: &Caller, c: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let s = d.store();
    let mut st = s
        .db
        .prepare_cached("SELECT id, scope, expires_ms, created_ms FROM tokens WHERE cloud = ?1 ORDER BY created_ms")?;
    let rows: Vec<Value> = st
        .query_map([c], |r| {
            Ok(json!({"id": r.get::<_, String>(0)?, "scope": r.get::<_, String>(1)?,
                      "expires_ms": r.get::<_, Option<i64>>(2)?, "created_ms": r.get::<_, i64>(3)?}))
        })?
        .collect::<Result<_, _>>()?;
    Ok(Answer::Json(200, json!({"tokens": rows})))
}

fn delete_token(d: &Arc<Daemon>, caller: &Caller, c: &str, t: &str) -> Result<Answer, ApiError> {
    d.authorize(caller, c, Scope::Owner)?;
    let n = d.store().db.execute("DELETE FROM tokens WHERE cloud = ?1 AND id = ?2", params![c, t])?;
    if n == 0 {
        return Err(err(404, "not_found", format!("no token {t}")));
    }
    Ok(Answer::Json(200, json!({"deleted": t})))
}

/// Usage of a cloud's machines (live and deleted) and volumes, priced.
fn usage(d: &Arc<Daemon>, c: &str) -> Result<Value, ApiError> {
    let p = d.prices.clone();
    let now = now_ms();
    let (mut cpu_total, mut gibs_total, mut life_total, mut cost_total, mut gbh_total) = (0i64, 0f64, 0i64, 0f64, 0f64);
    let (mut net_total, mut rows) = (0i64, Vec::new());
    let mut add = |name: &str, state: &str, lifetime: i64, cpu_ms: i64, kib_ms: i64, rx: i64, tx: i64| {
        let gib_s = kib_ms as f64 / (1024.0 * 1024.0) / 1000.0;
        let net_gb = (rx + tx) as f64 / 1e9;
        let cost = cpu_ms as f64 / 1000.0 * p.vcpu_second + gib_s * p.gib_second + net_gb * p.network_gb;
        rows.push(json!({"machine": name, "state": state, "lifetime_ms": lifetime, "vcpu_ms": cpu_ms,
            "memory_gib_seconds": gib_s, "net_rx_bytes": rx, "net_tx_bytes": tx, "microdollars": cost}));
        (cpu_total, gibs_total, life_total, cost_total) =
            (cpu_total + cpu_ms, gibs_total + gib_s, life_total + lifetime, cost_total + cost);
        net_total += rx + tx;
    };
    let s = d.store();
    for m in s.machines(c)? {
        let lifetime = m.ended_ms.unwrap_or(now) - m.started_ms.unwrap_or(m.created_ms);
        add(&m.name, &m.state, lifetime.max(0), m.cpu_ms, m.mem_kib_ms, m.net_rx_bytes, m.net_tx_bytes);
    }
    let mut st = s.db.prepare_cached(
        "SELECT machine, lifetime_ms, cpu_ms, mem_kib_ms, net_rx_bytes, net_tx_bytes FROM usage_closed WHERE cloud = ?1",
    )?;
    type Closed = (String, i64, i64, i64, i64, i64);
    let closed: Vec<Closed> = st
        .query_map([c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
        .collect::<Result<_, _>>()?;
    for (name, lifetime, cpu, kib, rx, tx) in closed {
        add(&name, "deleted", lifetime, cpu, kib, rx, tx);
    }
    let mut st = s.db.prepare_cached("SELECT name, size_bytes, gb_ms FROM volumes WHERE cloud = ?1")?;
    let vols: Vec<(String, i64, i64)> =
        st.query_map([c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    let mut vrows = Vec::new();
    for (name, size, gb_ms) in vols {
        let gbh = gb_ms as f64 / 3_600_000.0;
        let cost = gbh * p.volume_gb_hour;
        vrows.push(json!({"volume": name, "size_bytes": size, "gb_hours": gbh, "microdollars": cost}));
        gbh_total += gbh;
        cost_total += cost;
    }
    Ok(json!({
        "cloud": c, "prices_microdollars": p, "machines": rows, "volumes": vrows,
        "totals": {"vcpu_ms": cpu_total, "memory_gib_seconds": gibs_total, "volume_gb_hours": gbh_total,
                   "lifetime_ms": life_total, "network_bytes": net_total, "total_microdollars": cost_total},
        "total_microdollars": cost_total,
    }))
}

/// seq, time, cloud, kind, machine, detail.
type EventRow = (i64, i64, String, String, Option<String>, Option<String>);

fn events(d: &Arc<Daemon>, caller: &Caller, req: &Request, w: &mut impl Write) -> Result<Answer, ApiError> {
    let since: i64 = match req.query("since") {
        Some(s) => s.parse().map_err(|_| err(400, "bad_since", "since is an event sequence number"))?,
        None => 0,
    };
    let only = req.query("cloud").map(str::to_string);
    if let Some(c) = &only {
        d.authorize(caller, c, Scope::Read)?;
    }
    let follow = matches!(req.query("follow"), Some("1" | "true" | "yes"));
    let fetch = |after: i64| -> Result<Vec<Value>, ApiError> {
        let s = d.store();
        let mut st = s.db.prepare_cached(
            "SELECT seq, time_ms, cloud, kind, machine, detail FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1000",
        )?;
        let rows: Vec<EventRow> = st
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (seq, t, cloud, kind, machine, detail) in rows {
            let visible = match caller {
                Caller::Admin => true,
                Caller::Cloud { cloud: own, .. } => s.within(&cloud, own)?,
            };
            if visible && only.as_ref().is_none_or(|o| *o == cloud) {
                out.push(json!({"seq": seq, "time_ms": t, "cloud": cloud, "kind": kind, "machine": machine, "detail": detail}));
            } else {
                out.push(json!({"seq": seq, "skip": true}));
            }
        }
        Ok(out)
    };
    if !follow {
        let evs: Vec<Value> = fetch(since)?.into_iter().filter(|e| e.get("skip").is_none()).collect();
        return Ok(Answer::Json(200, json!({"events": evs})));
    }
    let mut out = Chunked::start(w, 200, "application/x-ndjson").map_err(|_| err(500, "io", "write failed"))?;
    let mut after = since;
    loop {
        let evs = fetch(after)?;
        for e in &evs {
            after = after.max(e["seq"].as_i64().unwrap_or(after));
            if e.get("skip").is_none() && out.send(format!("{e}\n").as_bytes()).is_err() {
                return Ok(Answer::Streamed);
            }
        }
        if evs.is_empty() {
            let (m, cv) = &d.events;
            let g = m.lock().unwrap_or_else(|e| e.into_inner());
            let _ = cv.wait_timeout(g, std::time::Duration::from_secs(15));
            // A keep-alive newline also notices a client that went away.
            if out.send(b"\n").is_err() {
                return Ok(Answer::Streamed);
            }
        }
    }
}
