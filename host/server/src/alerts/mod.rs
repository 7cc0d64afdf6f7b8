//! Alerts: when a job ends, each of its scan's rules that applies to the
//! run (manual or scheduled) and whose event happened becomes one alert per
//! notifier, stored with the job's end in one transaction (an outbox) and
//! sent by [`deliver`] in the background, so a notifier that is down never
//! holds up or fails a scan.

pub mod deliver;

use crate::config::ScanConfig;
use crate::config::alerting::{AlertRule, Event, Trigger};
use kubecis_model::cluster::{ClusterReport, ClusterState};
use kubecis_report::cluster::diff::{Snapshot, diff};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema of an alert's body, as the generic webhook receives it.
pub const SCHEMA: &str = "kubecis.alert/v1";

/// Failed (or regressed) items an alert lists at most.
const MAX_ITEMS: usize = 10;
/// Nodes an alert names per item at most.
const MAX_NODES: usize = 20;

/// What a generic webhook receives (and what Slack and Alertmanager
/// messages are made from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertBody {
    pub schema: String,
    /// The rule's name (`scheduled-failures`, or the config's).
    pub rule: String,
    pub event: Event,
    pub level: String,
    pub cluster: String,
    pub scan: String,
    pub trigger: Trigger,
    pub job: i64,
    /// The job's end: `completed` or `failed`.
    pub state: String,
    /// Why the rule fired, in words.
    pub summary: String,
    /// The job's reason (missing nodes, no node reported, …), if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub benchmark: Option<String>,
    pub profile: Option<String>,
    pub totals: BTreeMap<String, usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_nodes: Vec<String>,
    /// The most failing items with their failing nodes (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<AlertItem>,
    /// For drift: items failing on nodes where they did not fail before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regressions: Vec<AlertItem>,
    /// The report in the API (JSON; `?format=text` for people).
    pub report: String,
    /// RFC 3339.
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertItem {
    pub id: String,
    pub title: String,
    /// How many nodes (the list below may be cut at 20).
    pub node_count: usize,
    pub nodes: Vec<String>,
}

/// An alert decided, to be stored with its job's end.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub rule: String,
    pub level: String,
    pub notifier: String,
    /// Seconds: an alert of the same rule to the same notifier sent (or
    /// pending) more recently is stored as suppressed instead.
    pub min_interval: i64,
    pub body: String,
}

/// How a job ended, as the rules see it.
pub struct Ending<'a> {
    pub job: i64,
    pub trigger: Trigger,
    /// `completed` or `failed`.
    pub state: &'a str,
    pub reason: &'a str,
    pub composed: Option<&'a ClusterReport>,
    pub missing: &'a [String],
    pub time: String,
}

/// The alerts a job's end sends. `previous` gives the scan's report
/// before this one (asked only when a drift rule applies).
pub fn decide(
    scan: &ScanConfig,
    cluster: &str,
    link_base: &str,
    end: &Ending,
    previous: &dyn Fn() -> Option<ClusterReport>,
) -> Vec<NewAlert> {
    let mut out = Vec::new();
    let mut previous_report: Option<Option<ClusterReport>> = None;
    for rule in scan.alerts.iter().filter(|r| r.runs.contains(&end.trigger)) {
        let fired = match rule.on {
            Event::Completed => Some((format!("scan {} {}", scan.name, end.state), Vec::new())),
            Event::Failures => failures(scan, end).map(|why| (why, Vec::new())),
            Event::Drift => {
                let before = previous_report.get_or_insert_with(previous);
                regressions(before.as_ref(), end.composed).map(|items| {
                    let nodes: usize = items.iter().map(|i| i.node_count).sum();
                    (
                        format!(
                            "{} item(s) newly failing on {nodes} node result(s) since the previous report",
                            items.len()
                        ),
                        items,
                    )
                })
            }
        };
        let Some((summary, regressions)) = fired else {
            continue;
        };
        let body = body(scan, cluster, link_base, end, rule, summary, regressions);
        let text = serde_json::to_string(&body).unwrap_or_default();
        for notifier in &rule.notifiers {
            out.push(NewAlert {
                rule: rule.name.clone(),
                level: rule.level.as_str().to_owned(),
                notifier: notifier.clone(),
                min_interval: rule.min_interval.as_secs() as i64,
                body: text.clone(),
            });
        }
    }
    out
}

/// Why a job "has failures", or `None`: a failing item (or warning, where
/// warnings count), a failed job, or nodes that judged nothing at all.
fn failures(scan: &ScanConfig, end: &Ending) -> Option<String> {
    if end.state != crate::store::COMPLETED {
        return Some(format!("scan {} failed: {}", scan.name, end.reason));
    }
    let totals = end
        .composed
        .and_then(|c| c.groups.first())
        .map(|g| &g.totals);
    let count = |state: &str| totals.and_then(|t| t.get(state)).copied().unwrap_or(0);
    let mut failing = count("fail") + count("mixed");
    if scan.warn_is_failure {
        failing += count("warn");
    }
    if failing > 0 {
        return Some(format!("{failing} item(s) fail on at least one node"));
    }
    if count("pass") + count("warn") == 0 && count("error") > 0 {
        return Some(format!(
            "nothing was judged: {} item(s) in error on every node",
            count("error")
        ));
    }
    None
}

/// Items failing now on nodes where the previous report had them not failing.
fn regressions(
    before: Option<&ClusterReport>,
    now: Option<&ClusterReport>,
) -> Option<Vec<AlertItem>> {
    let (before, now) = (before?, now?);
    let (Ok(old), Ok(new)) = (Snapshot::of_cluster(before), Snapshot::of_cluster(now)) else {
        return None;
    };
    let d = diff(&old, &new);
    let mut by_item: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for c in d.new_failures {
        by_item.entry((c.id, c.title)).or_default().push(c.node);
    }
    let mut items: Vec<AlertItem> = by_item
        .into_iter()
        .map(|((id, title), nodes)| item(id, title, nodes))
        .collect();
    if items.is_empty() {
        return None;
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.node_count));
    items.truncate(MAX_ITEMS);
    Some(items)
}

fn item(id: String, title: String, mut nodes: Vec<String>) -> AlertItem {
    let node_count = nodes.len();
    nodes.truncate(MAX_NODES);
    AlertItem {
        id,
        title,
        node_count,
        nodes,
    }
}

fn body(
    scan: &ScanConfig,
    cluster: &str,
    link_base: &str,
    end: &Ending,
    rule: &AlertRule,
    summary: String,
    regressions: Vec<AlertItem>,
) -> AlertBody {
    let group = end.composed.and_then(|c| c.groups.first());
    let mut failed: Vec<AlertItem> = group
        .map(|g| {
            g.items
                .iter()
                .filter(|i| matches!(i.state, ClusterState::Fail | ClusterState::Mixed))
                .map(|i| item(i.id.clone(), i.title.clone(), i.failed_nodes.clone()))
                .collect()
        })
        .unwrap_or_default();
    failed.sort_by_key(|i| std::cmp::Reverse(i.node_count));
    failed.truncate(MAX_ITEMS);
    AlertBody {
        schema: SCHEMA.into(),
        rule: rule.name.clone(),
        event: rule.on,
        level: rule.level.as_str().into(),
        cluster: cluster.into(),
        scan: scan.name.clone(),
        trigger: end.trigger,
        job: end.job,
        state: end.state.into(),
        summary,
        reason: end.reason.into(),
        benchmark: group.map(|g| g.benchmark.clone()),
        profile: group.and_then(|g| g.profile.clone()),
        totals: group.map(|g| g.totals.clone()).unwrap_or_default(),
        missing_nodes: end.missing.to_vec(),
        failed,
        regressions,
        report: format!("{link_base}/api/v1/reports/{}", end.job),
        time: end.time.clone(),
    }
}
