//! The SQLite run log: table `runs`, with the original Python tool's columns first so its
//! documented queries work unchanged, e.g.
//!
//! ```sql
//! SELECT config_json, json_extract(metrics_json, '$.compression_ratio'),
//!        json_extract(metrics_json, '$.recall@10') FROM runs WHERE sweep_id = '…';
//! ```
//!
//! then the columns researchers need to trust and compare runs (SIMD level, CPU, threads,
//! seed, dataset fingerprint, wall time). A database written by the original tool, or by an
//! older vq, is upgraded in place by adding the missing columns; nothing is ever dropped.
//!
//! Each run is its own transaction, committed when the run finishes, so an interrupted
//! sweep keeps every finished run. WAL mode and a busy timeout let several sweeps write to
//! one log at once.

use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every column of `runs` after `id`, with its type: the original tool's eleven first.
pub const COLUMNS: &[(&str, &str)] = &[
    ("timestamp", "TEXT"),
    ("git_branch", "TEXT"),
    ("git_commit", "TEXT"),
    ("package_version", "TEXT"),
    ("method", "TEXT"),
    ("dataset", "TEXT"),
    ("cli_command", "TEXT"),
    ("metrics_json", "TEXT"),
    ("config_json", "TEXT"),
    ("sweep_id", "TEXT"),
    // vq's additions.
    ("simd_level", "TEXT"),
    ("cpu_model", "TEXT"),
    ("threads", "INTEGER"),
    ("seed", "INTEGER"),
    ("dataset_fingerprint", "TEXT"),
    ("wall_seconds", "REAL"),
    ("tool", "TEXT"),
    // Unique across machines, so merging shard logs is idempotent; `id` stays the
    // original tool's integer key, renumbered by a merge.
    ("run_uid", "TEXT"),
];

/// One row of `runs`, column for column (`None` is SQL NULL).
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub id: i64,
    pub timestamp: Option<String>,
    pub git_branch: Option<String>,
    pub git_commit: Option<String>,
    pub package_version: Option<String>,
    pub method: Option<String>,
    pub dataset: Option<String>,
    pub cli_command: Option<String>,
    pub metrics_json: Option<String>,
    pub config_json: Option<String>,
    pub sweep_id: Option<String>,
    pub simd_level: Option<String>,
    pub cpu_model: Option<String>,
    pub threads: Option<i64>,
    pub seed: Option<i64>,
    pub dataset_fingerprint: Option<String>,
    pub wall_seconds: Option<f64>,
    pub tool: Option<String>,
    /// Filled by [`RunLog::insert`] when `None`.
    pub run_uid: Option<String>,
}

fn db_err(path: &Path, e: rusqlite::Error) -> String {
    format!("run log {}: {e}", path.display())
}

/// Checks, without writing anything, that `path` can hold the run log: an existing file
/// must be a SQLite database whose `runs` table (if any) can be upgraded; a new file needs
/// a parent directory that exists or can be created. Called before any benchmark work, so
/// a bad `--db` fails at once and leaves the file as it was.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("--db {}: is a directory, expected a SQLite database file", path.display()));
    }
    if path.exists() {
        let meta = std::fs::metadata(path).map_err(|e| format!("--db {}: {e}", path.display()))?;
        if meta.permissions().readonly() {
            return Err(format!("--db {}: the file is read-only, the run log must be writable", path.display()));
        }
        // The header, not a connection: even a read-only connection to a WAL database
        // leaves -wal/-shm files behind, and this check must change nothing.
        let mut magic = [0u8; 16];
        let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
        if meta.len() > 0 && (read.is_err() || &magic != b"SQLite format 3\0") {
            return Err(format!("--db {}: not a SQLite database (no SQLite header)", path.display()));
        }
    } else {
        let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.as_os_str().is_empty() {
            dir = PathBuf::from(".");
        }
        // The nearest existing ancestor must be a directory (create_dir_all fills in the rest).
        let mut d = dir.as_path();
        while !d.exists() {
            match d.parent() {
                Some(p) if !p.as_os_str().is_empty() => d = p,
                _ => break,
            }
        }
        if d.exists() && !d.is_dir() {
            return Err(format!("--db {}: {} is not a directory", path.display(), d.display()));
        }
    }
    Ok(())
}

/// How long a writer waits for another sweep's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `f` again while SQLite answers SQLITE_BUSY without having waited (the cases its
/// busy handler does not cover), for up to [`BUSY_TIMEOUT`].
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            r => return r,
        }
    }
}

pub struct RunLog {
    conn: Connection,
    path: PathBuf,
}

impl RunLog {
    /// Opens (creating the file and its directory if needed) and upgrades the run log.
    pub fn open(path: &Path) -> Result<RunLog, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("--db {}: cannot create {}: {e}", path.display(), dir.display()))?;
        }
        let conn = Connection::open(path).map_err(|e| db_err(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| db_err(path, e))?;
        // SQLite does not call the busy handler for a journal-mode change, so two sweeps
        // that open a new log at the same moment would see "database is locked": retry.
        retry_busy(|| conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
            .map_err(|e| db_err(path, e))?;
        // One write transaction taken up front (the busy handler does wait for it), so a
        // concurrent sweep never sees half an upgrade and never has to upgrade a read lock.
        let cols: Vec<String> = COLUMNS.iter().map(|(n, t)| format!("{} {t}", quote(n))).collect();
        let upgrade = || -> rusqlite::Result<()> {
            let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
            tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, {});",
                cols.join(", ")
            ))?;
            let have = table_columns(&tx)?;
            for (name, ty) in COLUMNS {
                if !have.iter().any(|h| h == name) {
                    tx.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {} {ty};", quote(name)))?;
                }
            }
            tx.execute_batch(
                "CREATE INDEX IF NOT EXISTS runs_sweep_id ON runs(sweep_id);
             CREATE UNIQUE INDEX IF NOT EXISTS runs_run_uid ON runs(run_uid);",
            )?;
            tx.commit()
        };
        retry_busy(upgrade).map_err(|e| db_err(path, e))?;
        Ok(RunLog { conn, path: path.to_path_buf() })
    }

    /// Opens an existing log for reading only (plot, export): never creates or upgrades it.
    pub fn open_read(path: &Path) -> Result<RunLog, String> {
        if !path.is_file() {
            return Err(format!(
                "--db {}: no such run log; run a sweep first or pass --db (or set DB_PATH)",
                path.display()
            ));
        }
        // Read-write without create, so closing removes the -wal/-shm files a reader of a WAL
        // database makes; nothing is written. A read-only file is opened read-only.
        let flags = if std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly()) {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| db_err(path, e))?;
        let have = table_columns(&conn).map_err(|e| format!("--db {}: not a SQLite database ({e})", path.display()))?;
        if have.is_empty() {
            return Err(format!("--db {}: has no `runs` table, expected a vq-benchmark run log", path.display()));
        }
        Ok(RunLog { conn, path: path.to_path_buf() })
    }

    /// Inserts one finished run (its own transaction); returns its id and its `run_uid`
    /// (the run's own, or a fresh one).
    pub fn insert(&self, run: &Run) -> Result<(i64, String), String> {
        let uid = run.run_uid.clone().unwrap_or_else(new_run_uid);
        let run = Run { run_uid: Some(uid.clone()), ..run.clone() };
        self.conn.execute(&insert_sql("INSERT"), params_from_iter(values(&run))).map_err(|e| db_err(&self.path, e))?;
        Ok((self.conn.last_insert_rowid(), uid))
    }

    /// Adds the runs whose `run_uid` the log does not hold yet, all in one transaction (a
    /// failure adds none); returns how many were added. A run without a uid (written by the
    /// original tool or an older vq) gets one derived from its contents, so merging the same
    /// log twice adds nothing.
    pub fn merge(&self, runs: &[Run]) -> Result<usize, String> {
        let add = || -> rusqlite::Result<usize> {
            let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
            let mut added = 0;
            {
                let mut stmt = tx.prepare(&insert_sql("INSERT OR IGNORE"))?;
                for run in runs {
                    let uid = run.run_uid.clone().unwrap_or_else(|| content_uid(run));
                    let run = Run { run_uid: Some(uid), ..run.clone() };
                    added += stmt.execute(params_from_iter(values(&run)))?;
                }
            }
            tx.commit()?;
            Ok(added)
        };
        retry_busy(add).map_err(|e| db_err(&self.path, e))
    }
}

/// `INSERT … INTO runs` of every column but `id`, which SQLite numbers.
fn insert_sql(verb: &str) -> String {
    let names: Vec<String> = COLUMNS.iter().map(|(n, _)| quote(n)).collect();
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!("{verb} INTO runs ({}) VALUES ({})", names.join(", "), marks.join(", "))
}

/// A run's values in [`COLUMNS`] order.
fn values(run: &Run) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    let s = |v: &Option<String>| v.clone().map_or(V::Null, V::Text);
    let vals: Vec<V> = vec![
        s(&run.timestamp),
        s(&run.git_branch),
        s(&run.git_commit),
        s(&run.package_version),
        s(&run.method),
        s(&run.dataset),
        s(&run.cli_command),
        s(&run.metrics_json),
        s(&run.config_json),
        s(&run.sweep_id),
        s(&run.simd_level),
        s(&run.cpu_model),
        run.threads.map_or(V::Null, V::Integer),
        run.seed.map_or(V::Null, V::Integer),
        s(&run.dataset_fingerprint),
        run.wall_seconds.map_or(V::Null, V::Real),
        s(&run.tool),
        s(&run.run_uid),
    ];
    debug_assert_eq!(vals.len(), COLUMNS.len());
    vals
}

/// 128 random bits as hex: the OS-seeded hashers of std, the clock and the process id.
fn new_run_uid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(now);
        h.write_u32(std::process::id());
        h.write_u64(salt);
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// A uid for a run logged without one: a hash of every column, so it is the same each time
/// the run is merged.
fn content_uid(run: &Run) -> String {
    let mut text = String::new();
    for v in values(run) {
        text.push_str(&format!("{v:?}\u{1f}"));
    }
    format!("content-{}", crate::provenance::stable_hash_hex(text.as_bytes()))
}

impl RunLog {
    /// Runs of the given sweeps (every run when empty), oldest first. Columns an older
    /// database lacks read as NULL.
    pub fn runs(&self, sweep_ids: &[String]) -> Result<Vec<Run>, String> {
        let have = table_columns(&self.conn).map_err(|e| db_err(&self.path, e))?;
        let select: Vec<String> =
            COLUMNS.iter().map(|(n, _)| if have.iter().any(|h| h == n) { quote(n) } else { "NULL".into() }).collect();
        let mut sql = format!("SELECT id, {} FROM runs", select.join(", "));
        if !sweep_ids.is_empty() {
            if !have.iter().any(|h| h == "sweep_id") {
                return Ok(Vec::new());
            }
            let marks: Vec<String> = (1..=sweep_ids.len()).map(|i| format!("?{i}")).collect();
            sql.push_str(&format!(" WHERE sweep_id IN ({})", marks.join(", ")));
        }
        sql.push_str(" ORDER BY id");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| db_err(&self.path, e))?;
        let rows = stmt
            .query_map(params_from_iter(sweep_ids.iter()), |r| {
                let text = |i: usize| -> rusqlite::Result<Option<String>> {
                    // Older tools stored some columns with other affinities: read any as text.
                    use rusqlite::types::ValueRef;
                    Ok(match r.get_ref(i)? {
                        ValueRef::Null => None,
                        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Integer(v) => Some(v.to_string()),
                        ValueRef::Real(v) => Some(v.to_string()),
                    })
                };
                Ok(Run {
                    id: r.get(0)?,
                    timestamp: text(1)?,
                    git_branch: text(2)?,
                    git_commit: text(3)?,
                    package_version: text(4)?,
                    method: text(5)?,
                    dataset: text(6)?,
                    cli_command: text(7)?,
                    metrics_json: text(8)?,
                    config_json: text(9)?,
                    sweep_id: text(10)?,
                    simd_level: text(11)?,
                    cpu_model: text(12)?,
                    threads: r.get::<_, Option<i64>>(13).ok().flatten(),
                    seed: r.get::<_, Option<i64>>(14).ok().flatten(),
                    dataset_fingerprint: text(15)?,
                    wall_seconds: r.get::<_, Option<f64>>(16).ok().flatten(),
                    tool: text(17)?,
                    run_uid: text(18)?,
                })
            })
            .map_err(|e| db_err(&self.path, e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| db_err(&self.path, e))
    }
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

fn table_columns(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('runs')")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// Threads that open one new log at the same instant, then each insert: every open and
    /// every insert must wait its turn rather than fail with "database is locked".
    #[test]
    fn simultaneous_opens_of_a_new_log_all_succeed() {
        let tmp = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let path = tmp.path().join(format!("log{round}.db"));
            let barrier = Barrier::new(6);
            std::thread::scope(|s| {
                for t in 0..6 {
                    let (path, barrier) = (&path, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let log = RunLog::open(path).unwrap_or_else(|e| panic!("round {round}, thread {t}: {e}"));
                        log.insert(&Run { seed: Some(t), ..Run::default() }).unwrap();
                    });
                }
            });
            let log = RunLog::open_read(&path).unwrap();
            assert_eq!(log.runs(&[]).unwrap().len(), 6);
        }
    }
}
