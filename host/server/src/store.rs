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
const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    r#"
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created INTEGER NOT NULL,
    scan TEXT NOT NULL,
    job INTEGER NOT NULL,
    rule TEXT NOT NULL,
    level TEXT NOT NULL,
    notifier TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    finished INTEGER,
    error TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE INDEX alerts_due ON alerts (notifier, state, next_attempt);
CREATE INDEX alerts_by_rule ON alerts (scan, rule, notifier, id);
CREATE TABLE scan_counts (
    scan TEXT PRIMARY KEY,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE cluster_reports ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
CREATE TABLE alert_rules (
    scan TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    updated INTEGER NOT NULL
);
"#,
];

/// An alert's state.
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const SUPPRESSED: &str = "suppressed";

/// Alerts kept in the history; older ones are dropped as new ones come.
const ALERT_HISTORY: i64 = 10_000;

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

/// A composed report as a job's end stores it.
pub struct Composition<'a> {
    pub report: &'a str,
    pub totals: &'a str,
    pub missing: &'a [String],
    /// Counts for metrics (health, items in error and mixed, …).
    pub summary: &'a str,
}

/// An alert waiting to be sent.
#[derive(Debug, Clone)]
pub struct PendingAlert {
    pub id: i64,
    pub attempts: i64,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRow {
    pub id: i64,
    pub created: i64,
    pub scan: String,
    pub job: i64,
    pub rule: String,
    pub level: String,
    pub notifier: String,
    /// `pending`, `sent`, `failed` or `suppressed`.
    pub state: String,
    pub attempts: i64,
    pub finished: Option<i64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// Per scan, what metrics show: its newest report and its counts.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub scan: String,
    pub completed: i64,
    pub failed: i64,
    pub last_totals: Option<serde_json::Value>,
    pub last_summary: Option<serde_json::Value>,
    /// Seconds from start to end of the scan's newest finished job.
    pub last_duration: Option<i64>,
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
    /// Ends a job: its state, its composed report, its scan's counts and
    /// the alerts it sends, in one transaction. An alert whose rule sent
    /// (or is sending) to the same notifier within its interval is kept as
    /// suppressed.
    pub fn finish_job(
        &self,
        job: i64,
        state: &str,
        reason: &str,
        composed: Option<Composition>,
        alerts: &[crate::alerts::NewAlert],
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            let tx = db.transaction()?;
            let scan: String = tx.query_row(
                "UPDATE jobs SET state = ?2, reason = ?3, finished = ?4 WHERE id = ?1 RETURNING scan",
                params![job, state, reason, now],
                |r| r.get(0),
            )?;
            if let Some(c) = composed {
                let missing = serde_json::to_string(c.missing).unwrap_or_default();
                tx.execute(
                    "INSERT OR REPLACE INTO cluster_reports (job, report, totals, missing, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![job, c.report, c.totals, missing, c.summary],
                )?;
            }
            let (completed, failed) = if state == COMPLETED { (1, 0) } else { (0, 1) };
            tx.execute(
                "INSERT INTO scan_counts (scan, completed, failed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scan) DO UPDATE SET completed = completed + ?2, failed = failed + ?3",
                params![scan, completed, failed],
            )?;
            for a in alerts {
                let recent: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM alerts WHERE scan = ?1 AND rule = ?2 AND notifier = ?3
                     AND state IN ('pending', 'sent') AND created > ?4)",
                    params![scan, a.rule, a.notifier, now - a.min_interval],
                    |r| r.get(0),
                )?;
                let (state, finished) = if a.min_interval > 0 && recent {
                    (SUPPRESSED, Some(now))
                } else {
                    (PENDING, None)
                };
                tx.execute(
                    "INSERT INTO alerts (created, scan, job, rule, level, notifier, state, finished, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![now, scan, job, a.rule, a.level, a.notifier, state, finished, a.body],
                )?;
            }
            if !alerts.is_empty() {
                tx.execute(
                    "DELETE FROM alerts WHERE id <= (SELECT MAX(id) FROM alerts) - ?1",
                    [ALERT_HISTORY],
                )?;
            }
            tx.commit()
        })
    }

    /// A scan's alert rules set through the API (JSON), if any.
    pub fn alert_rules(&self, scan: &str) -> Result<Option<String>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT rules FROM alert_rules WHERE scan = ?1",
                [scan],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Sets (or with `None`, drops) a scan's alert rules set through the API.
    pub fn set_alert_rules(
        &self,
        scan: &str,
        rules: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            match rules {
                Some(rules) => db.execute(
                    "INSERT INTO alert_rules (scan, rules, updated) VALUES (?1, ?2, ?3)
                     ON CONFLICT (scan) DO UPDATE SET rules = ?2, updated = ?3",
                    params![scan, rules, now],
                ),
                None => db.execute("DELETE FROM alert_rules WHERE scan = ?1", [scan]),
            }
            .map(drop)
        })
    }

    /// A notifier's alerts due to be tried, oldest first.
    pub fn due_alerts(
        &self,
        notifier: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<PendingAlert>, StoreError> {
        self.with(|db| {
            let mut q = db.prepare_cached(
                "SELECT id, attempts, body FROM alerts
                 WHERE notifier = ?1 AND state = 'pending' AND next_attempt <= ?2 ORDER BY id LIMIT ?3",
            )?;
            let rows = q.query_map(params![notifier, now, limit], |r| {
                Ok(PendingAlert {
                    id: r.get(0)?,
                    attempts: r.get(1)?,
                    body: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn alert_sent(&self, id: i64, attempts: i64, now: i64) -> Result<(), StoreError> {
        self.set_alert(id, SENT, attempts, "", now, Some(now))
    }

    pub fn alert_failed(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.set_alert(id, FAILED, attempts, error, now, Some(now))
    }

    pub fn alert_retry(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.set_alert(id, PENDING, attempts, error, at, None)
    }

    fn set_alert(
        &self,
        id: i64,
        state: &str,
        attempts: i64,
        error: &str,
        next: i64,
        finished: Option<i64>,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            db.execute(
                "UPDATE alerts SET state = ?2, attempts = ?3, error = ?4, next_attempt = ?5, finished = ?6 WHERE id = ?1",
                params![id, state, attempts, error, next, finished],
            )
            .map(drop)
        })
    }

    /// The alert history, newest first.
    pub fn alerts(
        &self,
        scan: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        self.with(|db| {
            let mut q = db.prepare(
                "SELECT id, created, scan, job, rule, level, notifier, state, attempts, finished, error
                 FROM alerts WHERE (?1 IS NULL OR scan = ?1) ORDER BY id DESC LIMIT ?2 OFFSET ?3",
            )?;
            let rows = q.query_map(params![scan, limit, offset], |r| {
                Ok(AlertRow {
                    id: r.get(0)?,
                    created: r.get(1)?,
                    scan: r.get(2)?,
                    job: r.get(3)?,
                    rule: r.get(4)?,
                    level: r.get(5)?,
                    notifier: r.get(6)?,
                    state: r.get(7)?,
                    attempts: r.get(8)?,
                    finished: r.get(9)?,
                    error: r.get(10)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Alerts by state, for metrics.
    pub fn alert_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.with(|db| {
            let mut q = db
                .prepare("SELECT notifier, state, COUNT(*) FROM alerts GROUP BY notifier, state")?;
            let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    /// The report of the scan's newest completed job before `job`.
    pub fn previous_report(&self, scan: &str, job: i64) -> Result<Option<String>, StoreError> {
        self.with(|db| {
            db.query_row(
                "SELECT c.report FROM cluster_reports c JOIN jobs j ON j.id = c.job
                 WHERE j.scan = ?1 AND j.id < ?2 ORDER BY j.id DESC LIMIT 1",
                params![scan, job],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Per scan: counts of ended jobs, the newest report's totals and summary.
    pub fn scan_stats(&self) -> Result<Vec<ScanStats>, StoreError> {
        self.with(|db| {
            let mut out: Vec<ScanStats> = Vec::new();
            let mut q = db.prepare("SELECT scan, completed, failed FROM scan_counts ORDER BY scan")?;
            for row in q.query_map([], |r| {
                Ok(ScanStats {
                    scan: r.get(0)?,
                    completed: r.get(1)?,
                    failed: r.get(2)?,
                    ..ScanStats::default()
                })
            })? {
                out.push(row?);
            }
            for stats in &mut out {
                let newest = db
                    .query_row(
                        "SELECT c.totals, c.summary FROM cluster_reports c JOIN jobs j ON j.id = c.job
                         WHERE j.scan = ?1 ORDER BY j.id DESC LIMIT 1",
                        [&stats.scan],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                    )
                    .optional()?;
                if let Some((totals, summary)) = newest {
                    stats.last_totals = serde_json::from_str(&totals).ok();
                    stats.last_summary = serde_json::from_str(&summary).ok();
                }
                stats.last_duration = db
                    .query_row(
                        "SELECT finished - created FROM jobs WHERE scan = ?1 AND finished IS NOT NULL
                         ORDER BY id DESC LIMIT 1",
                        [&stats.scan],
                        |r| r.get(0),
                    )
                    .optional()?;
            }
            Ok(out)
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
