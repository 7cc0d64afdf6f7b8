//! `/metrics`: the gauges Rancher's users alert on (`cis_scan_num_tests_*`,
//! `cis_scan_num_scans_complete`, labelled `scan_name`, `scan_profile_name`,
//! `cluster_name`) and kubecis' own, read from the store at each scrape so
//! they survive restarts and agree with the stored reports.

use crate::jobs::Service;
use crate::store::{self, StoreError};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge>;

/// Rancher's per-scan gauges: metric name suffix and the report total it shows.
const RANCHER_TOTALS: &[(&str, &[&str])] = &[
    ("pass", &["pass"]),
    ("fail", &["fail"]),
    ("skipped", &["skip"]),
    ("na", &["notApplicable"]),
    ("warn", &["warn"]),
];

/// A label value as the exposition format needs it: backslash, double
/// quote and line feed escaped (names come from nodes and config files).
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn gauges(registry: &mut Registry, name: &str, help: &str) -> Gauges {
    let family = Gauges::default();
    registry.register(name, help, family.clone());
    family
}

/// The metrics in the OpenMetrics text format.
pub fn render(s: &Service) -> Result<String, StoreError> {
    let mut r = Registry::default();
    let cluster = label(&s.config.cluster_name);
    let scan_labels = |scan: &str| -> Labels {
        let profile = s
            .config
            .scan(scan)
            .map(|c| c.profile.clone().unwrap_or_else(|| c.benchmark.clone()))
            .unwrap_or_default();
        vec![
            ("scan_name".into(), label(scan)),
            ("scan_profile_name".into(), label(&profile)),
            ("cluster_name".into(), cluster.clone()),
        ]
    };

    let total = gauges(
        &mut r,
        "cis_scan_num_tests_total",
        "Items in the scan's newest report",
    );
    let by_state: Vec<(Gauges, &[&str])> = RANCHER_TOTALS
        .iter()
        .map(|(suffix, states)| {
            let help = format!("Items {suffix} in the scan's newest report");
            (
                gauges(&mut r, &format!("cis_scan_num_tests_{suffix}"), &help),
                *states,
            )
        })
        .collect();
    let complete = gauges(
        &mut r,
        "cis_scan_num_scans_complete",
        "Jobs of the scan that completed (since the store was created)",
    );
    let failed_jobs = gauges(
        &mut r,
        "kubecis_scan_jobs_failed",
        "Jobs of the scan that failed (no node reported)",
    );
    let error = gauges(
        &mut r,
        "kubecis_scan_items_error",
        "Items in error on every node that ran them, in the newest report",
    );
    let mixed = gauges(
        &mut r,
        "kubecis_scan_items_mixed",
        "Items whose state differs across nodes, in the newest report",
    );
    let health = gauges(
        &mut r,
        "kubecis_scan_nodes",
        "Nodes of the newest report by health (HIGH, MED, LOW)",
    );
    let timeouts = gauges(
        &mut r,
        "kubecis_scan_results_timed_out",
        "Node results of the newest report ended by the sandbox's time limit",
    );
    let memory = gauges(
        &mut r,
        "kubecis_scan_results_memory_cap",
        "Node results of the newest report ended by the sandbox's memory cap",
    );
    let duration = gauges(
        &mut r,
        "kubecis_scan_last_job_duration_seconds",
        "Seconds from start to end of the scan's newest finished job",
    );
    for stats in s.store.scan_stats()? {
        let labels = scan_labels(&stats.scan);
        complete.get_or_create(&labels).set(stats.completed);
        failed_jobs.get_or_create(&labels).set(stats.failed);
        if let Some(d) = stats.last_duration {
            duration.get_or_create(&labels).set(d);
        }
        if let Some(totals) = &stats.last_totals {
            let count = |state: &str| totals.get(state).and_then(|v| v.as_i64()).unwrap_or(0);
            let all: i64 = totals
                .as_object()
                .map(|o| o.values().filter_map(|v| v.as_i64()).sum())
                .unwrap_or(0);
            total.get_or_create(&labels).set(all);
            for (family, states) in &by_state {
                family
                    .get_or_create(&labels)
                    .set(states.iter().map(|st| count(st)).sum());
            }
        }
        if let Some(summary) = &stats.last_summary {
            let count = |key: &str| summary.get(key).and_then(|v| v.as_i64()).unwrap_or(0);
            error.get_or_create(&labels).set(count("error"));
            mixed.get_or_create(&labels).set(count("mixed"));
            timeouts.get_or_create(&labels).set(count("timeouts"));
            memory.get_or_create(&labels).set(count("memoryCap"));
            for level in ["HIGH", "MED", "LOW"] {
                let n = summary["health"][level].as_i64().unwrap_or(0);
                let mut l = labels.clone();
                l.push(("health".into(), level.into()));
                health.get_or_create(&l).set(n);
            }
        }
    }

    let active = gauges(&mut r, "kubecis_jobs_active", "Jobs running now");
    active
        .get_or_create(&vec![])
        .set(s.store.jobs(None, Some(store::ACTIVE), 10_000)?.len() as i64);

    let agents = s.store.agents()?;
    let now = s.now();
    let alive_since = now - s.config.agent_timeout.as_secs() as i64;
    let connected = gauges(
        &mut r,
        "kubecis_agents_connected",
        "Agents heard from within agentTimeout",
    );
    let registered = gauges(
        &mut r,
        "kubecis_agents_registered",
        "Agents the server knows",
    );
    let last_seen = gauges(
        &mut r,
        "kubecis_agent_last_seen_timestamp_seconds",
        "When each node's agent was last heard from (Unix time)",
    );
    registered.get_or_create(&vec![]).set(agents.len() as i64);
    connected
        .get_or_create(&vec![])
        .set(agents.iter().filter(|a| a.last_seen >= alive_since).count() as i64);
    for a in &agents {
        last_seen
            .get_or_create(&vec![("node".into(), label(&a.name))])
            .set(a.last_seen);
    }

    let alerts = gauges(
        &mut r,
        "kubecis_alerts",
        "Alerts in the history by notifier and state (pending, sent, failed, suppressed)",
    );
    for (notifier, state, n) in s.store.alert_counts()? {
        alerts
            .get_or_create(&vec![
                ("notifier".into(), label(&notifier)),
                ("state".into(), label(&state)),
            ])
            .set(n);
    }

    let size = gauges(
        &mut r,
        "kubecis_store_bytes",
        "Size of the SQLite store with its write-ahead log",
    );
    let db = s.config.data_dir.join("kubecis.db");
    let bytes: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|ext| std::fs::metadata(format!("{}{ext}", db.display())).ok())
        .map(|m| m.len())
        .sum();
    size.get_or_create(&vec![]).set(bytes as i64);

    let mut out = String::new();
    encode(&mut out, &r).expect("writing to a String");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label("x\ny\u{7}"), "x\\ny\u{fffd}");
        assert_eq!(label("cp-1"), "cp-1");
    }
}
