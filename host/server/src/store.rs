//! The server's state in one SQLite file: agents, jobs, node reports and
//! composed cluster reports. WAL, each change one transaction: a write
//! acknowledged to an agent or a user survives the server being killed at
//! any moment (`synchronous=NORMAL` in WAL mode syncs at checkpoints, so
//! only a power loss may take back the last moments' writes).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database {path}: {message}")]
    Open { path: String, message: String },
}

/// Schema versions, applied in order; `user_version` says how many ran.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE TABLE schedules (
    scan TEXT PRIMARY KEY,
    last_slot INTEGER NOT NULL
);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan TEXT NOT NULL,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    finished INTEGER,
    deadline INTEGER NOT NULL,
    try INTEGER NOT NULL DEFAULT 1,
    expected TEXT NOT NULL,
    work TEXT NOT NULL
);
CREATE INDEX jobs_by_scan ON jobs (scan, id);
CREATE TABLE node_reports (
    job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    report TEXT NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (job, node)
);
CREATE TABLE cluster_reports (
    job INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    report TEXT NOT NULL,
    totals TEXT NOT NULL,
    missing TEXT NOT NULL
);
"#];

/// A job's state.
pub const ACTIVE: &str = "active";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRow {
    pub id: i64,
    pub scan: String,
    /// `scheduled` or `manual`.
    pub trigger: String,
    pub state: String,
    pub reason: String,
    /// Seconds since the Unix epoch.
    pub created: i64,
    pub finished: Option<i64>,
    pub deadline: i64,
    #[serde(rename = "try")]
    pub attempt: i64,
    pub expected: Vec<String>,
    pub reported: Vec<String>,
    #[serde(skip)]
    pub work: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRow {
    pub name: String,
    pub info: serde_json::Value,
    pub last_seen: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    pub job: i64,
    pub scan: String,
    pub trigger: String,
    pub finished: Option<i64>,
    pub totals: serde_json::Value,
    pub missing: Vec<String>,
}

/// Where a job stands, cheaply.
pub struct Progress {
    pub state: String,
    pub work: String,
    pub expected: i64,
    pub reported: i64,
}

#[derive(Clone)]
pub struct Store {
    db: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let mut db = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.pragma_update(None, "foreign_keys", "ON")?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        let done: usize = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if done > MIGRATIONS.len() {
            return Err(open_error(format!(
                "schema version {done} is newer than this kubecis knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(done) {
            let tx = db.transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(Store {
            db: Arc::new(Mutex::new(db)),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut db)?)
    }

    pub fn seen_agent(&self, name: &str, info: &str, now: i64) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "INSERT INTO agents (name, info, last_seen) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET info = ?2, last_seen = ?3",
                params![name, info, now],
            )
            .map(drop)
        })
    }

    pub fn agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        self.with(|db| {
            let mut q = db.prepare("SELECT name, info, last_seen FROM agents ORDER BY name")?;
            let rows = q.query_map([], |r| {
                let info: String = r.get(1)?;
                Ok(AgentRow {
                    name: r.get(0)?,
                    info: serde_json::from_str(&info).unwrap_or_default(),
                    last_seen: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn last_slot(&self, scan: &str) -> Result<Option<i64>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT last_slot FROM schedules WHERE scan = ?1",
                [scan],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn set_last_slot(&self, scan: &str, slot: i64) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "INSERT INTO schedules (scan, last_slot) VALUES (?1, ?2)
                 ON CONFLICT (scan) DO UPDATE SET last_slot = ?2",
                params![scan, slot],
            )
            .map(drop)
        })
    }

    /// A new active job; `expected` are the nodes it waits for.
    pub fn create_job(
        &self,
        scan: &str,
        trigger: &str,
        expected: &[String],
        work: &str,
        now: i64,
        deadline: i64,
    ) -> Result<i64, StoreError> {
        let expected = serde_json::to_string(expected).unwrap_or_default();
        self.with(|db| {
            db.execute(
                "INSERT INTO jobs (scan, trigger, state, created, deadline, expected, work)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![scan, trigger, ACTIVE, now, deadline, expected, work],
            )?;
            Ok(db.last_insert_rowid())
        })
    }

    fn job_from(db: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
        let id: i64 = r.get(0)?;
        let expected: String = r.get(9)?;
        let mut q =
            db.prepare_cached("SELECT node FROM node_reports WHERE job = ?1 ORDER BY node")?;
        let reported = q
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(JobRow {
            id,
            scan: r.get(1)?,
            trigger: r.get(2)?,
            state: r.get(3)?,
            reason: r.get(4)?,
            created: r.get(5)?,
            finished: r.get(6)?,
            deadline: r.get(7)?,
            attempt: r.get(8)?,
            expected: serde_json::from_str(&expected).unwrap_or_default(),
            reported,
            work: r.get(10)?,
        })
    }

    const JOB_COLUMNS: &'static str =
        "id, scan, trigger, state, reason, created, finished, deadline, try, expected, work";

    pub fn jobs(
        &self,
        scan: Option<&str>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<JobRow>, StoreError> {
        self.with(|db| {
            let sql = format!(
                "SELECT {} FROM jobs WHERE (?1 IS NULL OR scan = ?1) AND (?2 IS NULL OR state = ?2)
                 ORDER BY id DESC LIMIT ?3",
                Self::JOB_COLUMNS
            );
            let mut q = db.prepare(&sql)?;
            let rows = q.query_map(params![scan, state, limit], |r| Self::job_from(db, r))?;
            rows.collect()
        })
    }

    pub fn job(&self, id: i64) -> Result<Option<JobRow>, StoreError> {
        self.with(|db| {
            let sql = format!("SELECT {} FROM jobs WHERE id = ?1", Self::JOB_COLUMNS);
            db.query_row(&sql, [id], |r| Self::job_from(db, r))
                .optional()
        })
    }

    /// Stores a node's report for a job once; a second upload of the same
    /// node is acknowledged and changes nothing. `false` when the job is not
    /// active or does not expect the node.
    pub fn put_node_report(
        &self,
        job: i64,
        node: &str,
        report: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            let tx = db.transaction()?;
            // Membership in SQLite's JSON, not by parsing thousands of names per upload.
            let expected: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs, json_each(jobs.expected)
                 WHERE jobs.id = ?1 AND jobs.state = ?2 AND json_each.value = ?3)",
                params![job, ACTIVE, node],
                |r| r.get(0),
            )?;
            if !expected {
                return Ok(false);
            }
            tx.execute(
                "INSERT OR IGNORE INTO node_reports (job, node, report, received) VALUES (?1, ?2, ?3, ?4)",
                params![job, node, report, now],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Each node report of a job, one at a time (thousands would not fit at once).
    pub fn each_node_report(
        &self,
        job: i64,
        mut each: impl FnMut(&str, &str),
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let mut q =
                db.prepare("SELECT node, report FROM node_reports WHERE job = ?1 ORDER BY node")?;
            let mut rows = q.query([job])?;
            while let Some(row) = rows.next()? {
                let node: String = row.get(0)?;
                let report: String = row.get(1)?;
                each(&node, &report);
            }
            Ok(())
        })
    }

    /// The oldest active job that expects this node and has no report from
    /// it: (job, work).
    pub fn work_for(&self, node: &str) -> Result<Option<(i64, String)>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT jobs.id, jobs.work FROM jobs, json_each(jobs.expected)
                 WHERE jobs.state = ?1 AND json_each.value = ?2
                   AND NOT EXISTS (SELECT 1 FROM node_reports r WHERE r.job = jobs.id AND r.node = ?2)
                 ORDER BY jobs.id LIMIT 1",
                params![ACTIVE, node],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// A job's state, work, and how many nodes it expects and has heard from.
    pub fn job_progress(&self, job: i64) -> Result<Option<Progress>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT state, work, json_array_length(expected),
                        (SELECT COUNT(*) FROM node_reports WHERE job = jobs.id)
                 FROM jobs WHERE id = ?1",
                [job],
                |r| {
                    Ok(Progress {
                        state: r.get(0)?,
                        work: r.get(1)?,
                        expected: r.get(2)?,
                        reported: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Ends a job: its state, why, and the composed report (if any), in one transaction.
    pub fn finish_job(
        &self,
        job: i64,
        state: &str,
        reason: &str,
        composed: Option<(&str, &str, &[String])>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let tx = db.transaction()?;
            tx.execute(
                "UPDATE jobs SET state = ?2, reason = ?3, finished = ?4 WHERE id = ?1",
                params![job, state, reason, now],
            )?;
            if let Some((report, totals, missing)) = composed {
                let missing = serde_json::to_string(missing).unwrap_or_default();
                tx.execute(
                    "INSERT OR REPLACE INTO cluster_reports (job, report, totals, missing) VALUES (?1, ?2, ?3, ?4)",
                    params![job, report, totals, missing],
                )?;
            }
            tx.commit()
        })
    }

    /// Gives a job that heard from no node another try.
    pub fn retry_job(&self, job: i64, deadline: i64) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "UPDATE jobs SET try = try + 1, deadline = ?2 WHERE id = ?1",
                params![job, deadline],
            )
            .map(drop)
        })
    }

    /// Composed reports, newest first.
    pub fn reports(
        &self,
        scan: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>, StoreError> {
        self.with(|db| {
            let mut q = db.prepare(
                "SELECT j.id, j.scan, j.trigger, j.finished, c.totals, c.missing
                 FROM cluster_reports c JOIN jobs j ON j.id = c.job
                 WHERE (?1 IS NULL OR j.scan = ?1) ORDER BY j.id DESC LIMIT ?2 OFFSET ?3",
            )?;
            let rows = q.query_map(params![scan, limit, offset], |r| {
                let totals: String = r.get(4)?;
                let missing: String = r.get(5)?;
                Ok(ReportRow {
                    job: r.get(0)?,
                    scan: r.get(1)?,
                    trigger: r.get(2)?,
                    finished: r.get(3)?,
                    totals: serde_json::from_str(&totals).unwrap_or_default(),
                    missing: serde_json::from_str(&missing).unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    pub fn report(&self, job: i64) -> Result<Option<String>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT report FROM cluster_reports WHERE job = ?1",
                [job],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// A node's report of a job, as uploaded (canonical JSON).
    pub fn node_report(&self, job: i64, node: &str) -> Result<Option<String>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT report FROM node_reports WHERE job = ?1 AND node = ?2",
                params![job, node],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Deletes a finished job with its reports; `false` when there is none.
    pub fn delete_job(&self, job: i64) -> Result<bool, StoreError> {
        self.with(|db| {
            let n = db.execute(
                "DELETE FROM jobs WHERE id = ?1 AND state != ?2",
                params![job, ACTIVE],
            )?;
            Ok(n > 0)
        })
    }

    /// Keeps the newest `keep` finished jobs of a scan, deleting the rest.
    pub fn retain(&self, scan: &str, keep: usize) -> Result<usize, StoreError> {
        self.with(|db| {
            db.execute(
                "DELETE FROM jobs WHERE scan = ?1 AND state != ?2 AND id NOT IN
                 (SELECT id FROM jobs WHERE scan = ?1 AND state != ?2 ORDER BY id DESC LIMIT ?3)",
                params![scan, ACTIVE, keep as i64],
            )
        })
    }
}
