//! Jobs: a scan run across the agents alive when it starts, completed when
//! every one of them has uploaded its node report or at its deadline (the
//! missing nodes named), retried when no node answered, composed into a
//! cluster report, and kept by the scan's retention.

use crate::alerts::{self, Ending};
use crate::config::alerting::{self, AlertRule, Trigger};
use crate::config::{Config, ScanConfig};
use crate::schedule::Clock;
use crate::store::{self, Composition, JobRow, Store, StoreError};
use kubecis_model::agent::{Registration, Work};
use kubecis_model::cluster::{ClusterReport, ClusterState};
use kubecis_model::report::State;
use kubecis_model::report::{Report, SCHEMA};
use kubecis_report::cluster::{Composer, add_node_report};
use std::sync::Arc;

/// Why a request about jobs was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no scan named {0:?}")]
    UnknownScan(String),
    #[error("{0} jobs are active, the most allowed; try again when one ends")]
    TooManyActive(usize),
    #[error("no job {0}")]
    UnknownJob(i64),
    #[error("scan {scan} cannot run with profile {profile}; its benchmark's profiles: {known}")]
    UnknownProfile {
        scan: String,
        profile: String,
        known: String,
    },
    #[error("job {job} does not expect a report from node {node} (or is no longer active)")]
    NotExpected { job: i64, node: String },
    #[error("the upload is not a node report: {0}")]
    BadReport(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Service {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Woken when work may be waiting for agents.
    pub work_ready: tokio::sync::Notify,
    /// Active jobs' reports composed as they arrive, so a job of thousands
    /// of nodes is ready moments after its last upload. Rebuilt from the
    /// store when missing (after a restart).
    pub composing: std::sync::Mutex<std::collections::HashMap<i64, Composer>>,
    /// One job ends at a time: two last uploads at once must not both end it.
    pub finishing: std::sync::Mutex<()>,
    /// Wakes the notifiers' senders when a job's end stored alerts.
    pub doorbell: Arc<crate::alerts::deliver::Doorbell>,
    /// Who is signed in to the dashboard.
    pub sessions: crate::web::Sessions,
    /// Reports the dashboard read last.
    pub report_cache: crate::web::ReportCache,
}

impl Service {
    pub fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// An agent's registration or heartbeat.
    pub fn seen(&self, reg: &Registration) -> Result<(), StoreError> {
        let info = serde_json::to_string(reg).unwrap_or_default();
        self.store.seen_agent(&reg.node, &info, self.now())
    }

    /// Starts a job of a scan for the agents alive now. With none, the job
    /// fails at once, saying so.
    pub fn start(&self, scan: &ScanConfig, trigger: &str) -> Result<i64, JobError> {
        self.start_with(scan, trigger, None)
    }

    /// A manual run of a scan with another of its benchmark's profiles, as
    /// Rancher lets a user choose one (`None`: the scan's own).
    pub fn start_with(
        &self,
        scan: &ScanConfig,
        trigger: &str,
        profile: Option<&str>,
    ) -> Result<i64, JobError> {
        let profile = match profile.filter(|p| !p.is_empty()) {
            None => scan.profile.clone(),
            Some(wanted) => Some(
                scan.run_choices
                    .iter()
                    .filter_map(|c| c.profile.as_deref())
                    .find(|p| p.eq_ignore_ascii_case(wanted))
                    .map(str::to_owned)
                    .ok_or_else(|| JobError::UnknownProfile {
                        scan: scan.name.clone(),
                        profile: wanted.to_owned(),
                        known: scan
                            .run_choices
                            .iter()
                            .filter_map(|c| c.profile.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?,
            ),
        };
        let active = self.store.jobs(None, Some(store::ACTIVE), 10_000)?.len();
        if active >= self.config.max_active_jobs {
            return Err(JobError::TooManyActive(active));
        }
        let now = self.now();
        let alive_since = now - self.config.agent_timeout.as_secs() as i64;
        let expected: Vec<String> = self
            .store
            .agents()?
            .into_iter()
            .filter(|a| a.last_seen >= alive_since)
            .map(|a| a.name)
            .collect();
        let work = Work {
            job: 0,
            scan: scan.name.clone(),
            benchmark: scan.benchmark.clone(),
            profile,
            skip: scan.skip.clone(),
            skip_lists: match &self.config.skip_config {
                Some((_, lists)) => lists.skip.clone(),
                None => Default::default(),
            },
            waivers: scan.waivers.clone(),
        };
        let deadline = now + scan.deadline.as_secs() as i64;
        let work = serde_json::to_string(&work).unwrap_or_default();
        let id = self
            .store
            .create_job(&scan.name, trigger, &expected, &work, now, deadline)?;
        if expected.is_empty() {
            let trigger = if trigger == "manual" {
                Trigger::Manual
            } else {
                Trigger::Scheduled
            };
            self.end(id, &scan.name, trigger, "no agent is connected", None, &[])?;
        }
        self.work_ready.notify_waiters();
        Ok(id)
    }

    /// A scan's alert rules: those set through the API, else the config's.
    /// Rules stored before a notifier left the config fall back, saying so.
    pub fn alert_rules(&self, scan: &ScanConfig) -> Vec<AlertRule> {
        match self.store.alert_rules(&scan.name) {
            Ok(Some(json)) => {
                match alerting::rules_from_json(&scan.name, &json, &self.config.notifiers) {
                    Ok(rules) => rules,
                    Err(e) => {
                        eprintln!("kubecis serve: stored {e}; the config's rules apply");
                        scan.alerts.clone()
                    }
                }
            }
            Ok(None) => scan.alerts.clone(),
            Err(e) => {
                eprintln!("kubecis serve: scan {}: alert rules: {e}", scan.name);
                scan.alerts.clone()
            }
        }
    }

    /// The next scan this node's agent should run, if any.
    pub fn work_for(&self, node: &str) -> Result<Option<Work>, StoreError> {
        // Asked by every agent every poll: one query, not every active job's rows.
        Ok(self.store.work_for(node)?.and_then(|(id, work)| {
            let mut work: Work = serde_json::from_str(&work).ok()?;
            work.job = id;
            Some(work)
        }))
    }

    /// A node's report for a job: validated, stored once, and the job
    /// completed when it was the last one awaited.
    pub fn upload(&self, job: i64, node: &str, body: &[u8]) -> Result<(), JobError> {
        let row = self
            .store
            .job_progress(job)?
            .ok_or(JobError::UnknownJob(job))?;
        let report: Report =
            serde_json::from_slice(body).map_err(|e| JobError::BadReport(e.to_string()))?;
        if report.schema != SCHEMA {
            return Err(JobError::BadReport(format!(
                "schema {:?}; expected {SCHEMA}",
                report.schema
            )));
        }
        if report.node.name != node {
            return Err(JobError::BadReport(format!(
                "it is the report of node {:?}, uploaded as node {node:?}",
                report.node.name
            )));
        }
        let work: Work =
            serde_json::from_str(&row.work).map_err(|e| JobError::BadReport(e.to_string()))?;
        if !work.benchmark.eq_ignore_ascii_case("auto")
            && !work.benchmark.eq_ignore_ascii_case(&report.benchmark)
        {
            return Err(JobError::BadReport(format!(
                "it is of benchmark {}, the job's is {}",
                report.benchmark, work.benchmark
            )));
        }
        // Stored as kubecis writes it: nothing the upload added rides along.
        let canonical =
            serde_json::to_string(&report).map_err(|e| JobError::BadReport(e.to_string()))?;
        if !self
            .store
            .put_node_report(job, node, &canonical, self.now())?
        {
            return Err(JobError::NotExpected {
                job,
                node: node.to_owned(),
            });
        }
        self.fold(job, node, canonical.as_bytes(), &work.scan);
        if let Some(p) = self.store.job_progress(job)?
            && p.state == store::ACTIVE
            && p.reported >= p.expected
            && let Some(row) = self.store.job(job)?
        {
            self.complete(&row)?;
        }
        Ok(())
    }

    /// Adds a stored node report to its job's composition in progress.
    fn fold(&self, job: i64, node: &str, report: &[u8], scan: &str) {
        let mut composing = self.composing.lock().unwrap_or_else(|p| p.into_inner());
        let composer = composing.entry(job).or_insert_with(|| {
            let options = self.config.scan(scan).map(|s| s.options.clone());
            Composer::new(options.unwrap_or_default())
        });
        // A report that cannot be added here is composed from the store at the end.
        if add_node_report(report, &format!("node {node}"), composer).is_err() {
            composing.remove(&job);
        }
    }

    fn is_composing(&self, job: i64) -> bool {
        let composing = self.composing.lock().unwrap_or_else(|p| p.into_inner());
        composing.contains_key(&job)
    }

    /// Composes a job's node reports into its cluster report and ends it.
    fn complete(&self, job: &JobRow) -> Result<(), JobError> {
        let _one = self.finishing.lock().unwrap_or_else(|p| p.into_inner());
        let Some(job) = self.store.job(job.id)?.filter(|j| j.state == store::ACTIVE) else {
            return Ok(());
        };
        let job = &job;
        let scan = self.config.scan(&job.scan);
        let kept = self
            .composing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&job.id)
            .filter(|c| c.node_count() == job.reported.len());
        let composer = match kept {
            Some(c) => c,
            None => {
                // After a restart (or a report the fold refused): from the store, one at a time.
                let options = scan.map(|s| s.options.clone()).unwrap_or_default();
                let mut composer = Composer::new(options);
                let mut failed = None;
                self.store.each_node_report(job.id, |node, text| {
                    let source = format!("node {node}");
                    if let Err(e) = add_node_report(text.as_bytes(), &source, &mut composer) {
                        failed.get_or_insert(e.to_string());
                    }
                })?;
                if let Some(e) = failed {
                    return Err(JobError::BadReport(e));
                }
                composer
            }
        };
        let mut composer = composer;
        composer.sort_nodes_by_name();
        let composed = composer.finish();
        let missing: Vec<String> = job
            .expected
            .iter()
            .filter(|n| !job.reported.contains(n))
            .cloned()
            .collect();
        let reason = if missing.is_empty() {
            String::new()
        } else {
            format!("no report from {} by the deadline", missing.join(", "))
        };
        let trigger = trigger_of(job);
        self.end(
            job.id,
            &job.scan,
            trigger,
            &reason,
            Some(&composed),
            &missing,
        )
    }

    /// Ends a job, completed with its composed report or failed without
    /// one, with the alerts its scan's rules send, and applies retention.
    fn end(
        &self,
        id: i64,
        scan_name: &str,
        trigger: Trigger,
        reason: &str,
        composed: Option<&ClusterReport>,
        missing: &[String],
    ) -> Result<(), JobError> {
        let state = if composed.is_some() {
            store::COMPLETED
        } else {
            store::FAILED
        };
        let scan = self.config.scan(scan_name);
        let rules = scan.map(|s| self.alert_rules(s)).unwrap_or_default();
        let alerts = match scan {
            Some(scan) if !rules.is_empty() => {
                let ending = Ending {
                    job: id,
                    trigger,
                    state,
                    reason,
                    composed,
                    missing,
                    time: self.clock.now().to_rfc3339(),
                };
                let previous = || {
                    let text = self.store.previous_report(scan_name, id).ok()??;
                    serde_json::from_str(&text).ok()
                };
                alerts::decide(
                    scan,
                    &rules,
                    &self.config.cluster_name,
                    &self.config.external_url,
                    &ending,
                    &previous,
                )
            }
            _ => Vec::new(),
        };
        let texts = composed.map(|c| {
            let totals = c
                .groups
                .first()
                .map(|g| serde_json::to_string(&g.totals).unwrap_or_default())
                .unwrap_or_else(|| "{}".into());
            (
                serde_json::to_string(c).unwrap_or_default(),
                totals,
                summary(c).to_string(),
            )
        });
        let composition = texts.as_ref().map(|(report, totals, summary)| Composition {
            report,
            totals,
            missing,
            summary,
        });
        self.store
            .finish_job(id, state, reason, composition, &alerts, self.now())?;
        if !alerts.is_empty() {
            self.doorbell.ring();
        }
        if let Some(scan) = scan {
            self.store.retain(&scan.name, scan.retention)?;
        }
        Ok(())
    }

    /// One turn of the scheduler: start the scans that are due, end the jobs
    /// past their deadline.
    pub fn tick(&self) -> Result<(), JobError> {
        let now = self.clock.now();
        for scan in &self.config.scans {
            let Some(schedule) = &scan.schedule else {
                continue;
            };
            let Some(last) = self.store.last_slot(&scan.name)? else {
                // First seen: the schedule counts from now.
                self.store.set_last_slot(&scan.name, now.timestamp())?;
                continue;
            };
            let last = chrono::DateTime::from_timestamp(last, 0).unwrap_or(now);
            let delay = chrono::Duration::from_std(scan.start_delay).unwrap_or_default();
            if let Some(slot) = schedule.due(last, now - delay) {
                self.store.set_last_slot(&scan.name, slot.timestamp())?;
                match self.start(scan, "scheduled") {
                    Ok(_) | Err(JobError::TooManyActive(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let now = now.timestamp();
        let active = self.store.jobs(None, Some(store::ACTIVE), 10_000)?;
        // A composition of a job that ended by another path is dropped; one
        // dropped too soon is composed from the store when its job ends.
        self.composing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| active.iter().any(|j| j.id == *id));
        for job in active {
            // A job whose last report was stored but not composed (the server
            // was killed in between) completes now, not at its deadline. Only
            // expected nodes' reports are stored, so counts compare.
            let all_in = job.reported.len() >= job.expected.len();
            if all_in && !job.expected.is_empty() && !self.is_composing(job.id) {
                self.complete(&job)?;
                continue;
            }
            if now < job.deadline {
                continue;
            }
            let tries = self.config.scan(&job.scan).map_or(1, |s| s.tries) as i64;
            if job.reported.is_empty() && job.attempt < tries {
                let span = self
                    .config
                    .scan(&job.scan)
                    .map_or(600, |s| s.deadline.as_secs() as i64);
                self.store.retry_job(job.id, now + span)?;
                self.work_ready.notify_waiters();
            } else if job.reported.is_empty() {
                let reason = format!("no node reported in {} tries", job.attempt);
                self.end(job.id, &job.scan, trigger_of(&job), &reason, None, &[])?;
            } else {
                self.complete(&job)?;
            }
        }
        Ok(())
    }
}

fn trigger_of(job: &JobRow) -> Trigger {
    if job.trigger == "manual" {
        Trigger::Manual
    } else {
        Trigger::Scheduled
    }
}

/// What metrics read of a composed report without parsing it: node health,
/// items in error and mixed, results cut by the sandbox's time or memory cap.
fn summary(c: &ClusterReport) -> serde_json::Value {
    let mut health = std::collections::BTreeMap::<String, usize>::new();
    let (mut error, mut mixed, mut timeouts, mut memory, mut nodes) = (0, 0, 0, 0, 0);
    for g in &c.groups {
        nodes += g.nodes.len();
        for n in &g.nodes {
            *health.entry(n.health.to_string()).or_default() += 1;
        }
        for item in &g.items {
            match item.state {
                ClusterState::Error => error += 1,
                ClusterState::Mixed => mixed += 1,
                _ => {}
            }
            for r in item.results.iter().filter(|r| r.state == State::Error) {
                if r.reason.contains("timed out") {
                    timeouts += 1;
                } else if r.reason.contains("memory cap") {
                    memory += 1;
                }
            }
        }
    }
    serde_json::json!({
        "nodes": nodes,
        "health": health,
        "error": error,
        "mixed": mixed,
        "timeouts": timeouts,
        "memoryCap": memory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScanConfig;
    use crate::schedule::Schedule;
    use chrono::{DateTime, Utc};
    use std::sync::Mutex;
    use std::time::Duration;

    /// A clock the test moves.
    struct TestClock(Mutex<DateTime<Utc>>);

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    fn service(dir: &std::path::Path, clock: Arc<TestClock>) -> Service {
        let scan = ScanConfig {
            name: "hourly".into(),
            benchmark: "cis-1.8".into(),
            profile: None,
            skip: Vec::new(),
            schedule: Some(Schedule::parse("@hourly").unwrap()),
            retention: 3,
            deadline: Duration::from_secs(600),
            start_delay: Duration::ZERO,
            tries: 2,
            options: Default::default(),
            origin: "test".into(),
            alerts: Default::default(),
            warn_is_failure: false,
            run_choices: Vec::new(),
            waivers: None,
        };
        Service {
            config: Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: dir.to_path_buf(),
                tokens: Vec::new(),
                scans: vec![scan],
                max_active_jobs: 5,
                agent_timeout: Duration::from_secs(120),
                request_timeout: Duration::from_secs(90),
                local_nodes: Vec::new(),
                skip_config: None,
                notifiers: Vec::new(),
                cluster_name: "local".into(),
                external_url: "http://127.0.0.1:8080".into(),
                bundles: Default::default(),
            },
            store: Store::open(&dir.join("kubecis.db")).unwrap(),
            clock,
            work_ready: tokio::sync::Notify::new(),
            composing: Default::default(),
            finishing: Default::default(),
            doorbell: Default::default(),
            sessions: Default::default(),
            report_cache: Default::default(),
        }
    }

    #[test]
    fn schedules_run_once_per_due_slot_and_jobs_retry_then_fail() {
        let dir = tempfile::tempdir().unwrap();
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        let clock = Arc::new(TestClock(Mutex::new(at("2026-12-01T10:30:00Z"))));
        let s = service(dir.path(), clock.clone());
        s.seen(&Registration {
            node: "cp-1".into(),
            node_types: Vec::new(),
            kubernetes_version: None,
            distribution: "kubeadm".into(),
            agent_version: "test".into(),
        })
        .unwrap();
        s.tick().unwrap();
        assert!(
            s.store.jobs(None, None, 10).unwrap().is_empty(),
            "first seen: no run"
        );
        // Down for three hours and a bit: one run, for the latest slot.
        *clock.0.lock().unwrap() = at("2026-12-01T13:40:00Z");
        s.store.seen_agent("cp-1", "{}", s.now()).unwrap();
        s.tick().unwrap();
        s.tick().unwrap();
        let jobs = s.store.jobs(None, None, 10).unwrap();
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!(jobs[0].trigger, "scheduled");
        assert_eq!(jobs[0].expected, ["cp-1"]);
        // Keep the agent alive, then pass the deadline: no node answered, so a second try.
        *clock.0.lock().unwrap() = at("2026-12-01T13:51:00Z");
        s.store.seen_agent("cp-1", "{}", s.now()).unwrap();
        s.tick().unwrap();
        let job = s.store.job(jobs[0].id).unwrap().unwrap();
        assert_eq!((job.state.as_str(), job.attempt), (store::ACTIVE, 2));
        *clock.0.lock().unwrap() = at("2026-12-01T13:59:59Z");
        s.tick().unwrap();
        // Past the second deadline: failed, saying why; and the 14:00 slot ran.
        *clock.0.lock().unwrap() = at("2026-12-01T14:02:00Z");
        s.tick().unwrap();
        let job = s.store.job(jobs[0].id).unwrap().unwrap();
        assert_eq!(job.state, store::FAILED);
        assert!(
            job.reason.contains("no node reported in 2 tries"),
            "{}",
            job.reason
        );
        assert_eq!(s.store.jobs(None, None, 10).unwrap().len(), 2);
    }
}
