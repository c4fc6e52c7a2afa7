//! The daemon's state in SQLite (`DIR/wisp.db`, write-ahead log): clouds,
//! tokens, machines, volumes, usage and events. Every change the API
//! acknowledges is committed before the answer goes out.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS clouds (
    id TEXT PRIMARY KEY,
    parent TEXT,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    max_machines INTEGER NOT NULL,
    max_memory_mib INTEGER NOT NULL,
    max_vcpus INTEGER NOT NULL,
    max_pids INTEGER NOT NULL,
    max_volume_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clouds_by_parent ON clouds (parent);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    cloud TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    expires_ms INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS machines (
    cloud TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    exit_code INTEGER,
    memory_mib INTEGER NOT NULL,
    vcpus INTEGER NOT NULL,
    pids INTEGER NOT NULL,
    disk_mib INTEGER NOT NULL DEFAULT 0,
    address TEXT,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER,
    ended_ms INTEGER,
    cpu_ms INTEGER NOT NULL DEFAULT 0,
    mem_kib_ms INTEGER NOT NULL DEFAULT 0,
    sampled_ms INTEGER,
    net_rx_bytes INTEGER NOT NULL DEFAULT 0,
    net_tx_bytes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cloud, name)
);
CREATE TABLE IF NOT EXISTS volumes (
    cloud TEXT NOT NULL,
    name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    gb_ms INTEGER NOT NULL DEFAULT 0,
    sampled_ms INTEGER NOT NULL,
    PRIMARY KEY (cloud, name)
);
CREATE TABLE IF NOT EXISTS usage_closed (
    cloud TEXT NOT NULL,
    machine TEXT NOT NULL,
    lifetime_ms INTEGER NOT NULL,
    cpu_ms INTEGER NOT NULL,
    mem_kib_ms INTEGER NOT NULL,
    ended_ms INTEGER NOT NULL,
    net_rx_bytes INTEGER NOT NULL DEFAULT 0,
    net_tx_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    cloud TEXT NOT NULL,
    kind TEXT NOT NULL,
    machine TEXT,
    detail TEXT
);
";

/// The columns `cloud_row` reads, in its order.
const CLOUD_COLUMNS: &str =
    "id, parent, name, created_ms, max_machines, max_memory_mib, max_vcpus, max_pids, max_volume_bytes";

pub struct Store {
    pub db: Connection,
    sync: &'static str,
}

/// Limits of a cloud; children carve theirs out of their parent's.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub machines: u64,
    pub memory_mib: u64,
    pub vcpus: u64,
    pub pids: u64,
    pub volume_bytes: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota { machines: 100, memory_mib: 64 << 10, vcpus: 256, pids: 6400, volume_bytes: 100 << 30 }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Cloud {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    pub created_ms: i64,
    pub quota: Quota,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MachineRow {
    pub name: String,
    pub state: String,
    /// Its address on the cloud network while it runs.
    pub address: Option<String>,
    pub exit_code: Option<i64>,
    pub memory_mib: i64,
    pub vcpus: i64,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub cpu_ms: i64,
    pub mem_kib_ms: i64,
    pub net_rx_bytes: i64,
    pub net_tx_bytes: i64,
}

pub type DbResult<T> = Result<T, rusqlite::Error>;

impl Store {
    pub fn open(path: &Path, sync_full: bool) -> Result<Store, String> {
        let db = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let sync = if sync_full { "FULL" } else { "NORMAL" };
        db.execute_batch(&format!("PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;"))
            .and_then(|_| db.execute_batch(SCHEMA))
            .and_then(|_| db.execute_batch(super::network::SCHEMA))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // Columns added since the first release of the schema (an older
        // database gains them; "duplicate column" means it has them).
        for table in ["machines", "usage_closed"] {
            for col in ["net_rx_bytes", "net_tx_bytes"] {
                let _ = db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {col} INTEGER NOT NULL DEFAULT 0"));
            }
        }
        db.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
        Ok(Store { db, sync })
    }

    /// Runs one statement without waiting for the disk: for records that
    /// nothing is acknowledged on (the next synced commit carries them).
    pub fn execute_unsynced(&self, sql: &str, p: impl rusqlite::Params) -> DbResult<usize> {
        self.unsynced(|db| db.execute(sql, p))
    }

    /// Runs `f`, whose commits do not wait for the disk (see `execute_unsynced`).
    pub fn unsynced<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> DbResult<T>) -> DbResult<T> {
        self.db.execute_batch("PRAGMA synchronous=OFF")?;
        let r = f(&self.db);
        self.db.execute_batch(&format!("PRAGMA synchronous={}", self.sync))?;
        r
    }

    pub fn cloud(&self, id: &str) -> DbResult<Option<Cloud>> {
        self.db.query_row(&format!("SELECT {CLOUD_COLUMNS} FROM clouds WHERE id = ?1"), [id], cloud_row).optional()
    }

    pub fn volume_exists(&self, cloud: &str, name: &str) -> DbResult<bool> {
        self.db
            .prepare_cached("SELECT count(*) FROM volumes WHERE cloud = ?1 AND name = ?2")?
            .query_row(params![cloud, name], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
    }

    /// Clouds whose parent is `parent` (None: top-level ones).
    pub fn clouds(&self, parent: Option<&str>) -> DbResult<Vec<Cloud>> {
        let sql = format!("SELECT {CLOUD_COLUMNS} FROM clouds WHERE parent IS ?1 ORDER BY created_ms, id");
        let mut st = self.db.prepare_cached(&sql)?;
        st.query_map([parent], cloud_row)?.collect()
    }

    pub fn all_clouds(&self) -> DbResult<Vec<Cloud>> {
        let sql = format!("SELECT {CLOUD_COLUMNS} FROM clouds ORDER BY created_ms, id");
        let mut st = self.db.prepare_cached(&sql)?;
        st.query_map([], cloud_row)?.collect()
    }

    /// Whether `cloud` is `ancestor` or lies under it.
    pub fn within(&self, cloud: &str, ancestor: &str) -> DbResult<bool> {
        let mut cur = Some(cloud.to_string());
        let mut hops = 0;
        while let Some(c) = cur {
            if c == ancestor {
                return Ok(true);
            }
            hops += 1;
            if hops > 64 {
                return Ok(false);
            }
            cur =
                self.db.query_row("SELECT parent FROM clouds WHERE id = ?1", [&c], |r| r.get(0)).optional()?.flatten();
        }
        Ok(false)
    }

    pub fn machines(&self, cloud: &str) -> DbResult<Vec<MachineRow>> {
        let mut st = self.db.prepare_cached(
            "SELECT name, state, exit_code, memory_mib, vcpus, created_ms, started_ms, ended_ms, cpu_ms, mem_kib_ms, \
             address, net_rx_bytes, net_tx_bytes FROM machines WHERE cloud = ?1 ORDER BY created_ms, name",
        )?;
        st.query_map([cloud], machine_row)?.collect()
    }

    pub fn machine(&self, cloud: &str, name: &str) -> DbResult<Option<MachineRow>> {
        self.db
            .query_row(
                "SELECT name, state, exit_code, memory_mib, vcpus, created_ms, started_ms, ended_ms, cpu_ms, \
                 mem_kib_ms, address, net_rx_bytes, net_tx_bytes FROM machines WHERE cloud = ?1 AND name = ?2",
                params![cloud, name],
                machine_row,
            )
            .optional()
    }

    pub fn event(&self, cloud: &str, kind: &str, machine: Option<&str>, detail: &str) -> DbResult<i64> {
        self.db.execute(
            "INSERT INTO events (time_ms, cloud, kind, machine, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms(), cloud, kind, machine, detail],
        )?;
        Ok(self.db.last_insert_rowid())
    }
}

fn cloud_row(r: &rusqlite::Row<'_>) -> DbResult<Cloud> {
    Ok(Cloud {
        id: r.get(0)?,
        parent: r.get(1)?,
        name: r.get(2)?,
        created_ms: r.get(3)?,
        quota: Quota {
            machines: r.get::<_, i64>(4)? as u64,
            memory_mib: r.get::<_, i64>(5)? as u64,
            vcpus: r.get::<_, i64>(6)? as u64,
            pids: r.get::<_, i64>(7)? as u64,
            volume_bytes: r.get::<_, i64>(8)? as u64,
        },
    })
}

fn machine_row(r: &rusqlite::Row<'_>) -> DbResult<MachineRow> {
    Ok(MachineRow {
        name: r.get(0)?,
        state: r.get(1)?,
        exit_code: r.get(2)?,
        memory_mib: r.get(3)?,
        vcpus: r.get(4)?,
        created_ms: r.get(5)?,
        started_ms: r.get(6)?,
        ended_ms: r.get(7)?,
        cpu_ms: r.get(8)?,
        mem_kib_ms: r.get(9)?,
        address: r.get(10)?,
        net_rx_bytes: r.get(11)?,
        net_tx_bytes: r.get(12)?,
    })
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
