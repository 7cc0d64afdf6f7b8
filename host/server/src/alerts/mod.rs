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

/// The alerts a job's end sends under `rules` (the scan's). `previous` gives the scan's report
/// before this one (asked only when a drift rule applies).
pub fn decide(
    scan: &ScanConfig,
    rules: &[AlertRule],
    cluster: &str,
    link_base: &str,
    end: &Ending,
    previous: &dyn Fn() -> Option<ClusterReport>,
) -> Vec<NewAlert> {
    let mut out = Vec::new();
    let mut previous_report: Option<Option<ClusterReport>> = None;
    for rule in rules.iter().filter(|r| r.runs.contains(&end.trigger)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::alerting::Level;
    use kubecis_model::NodeType;
    use kubecis_model::cluster::{ClusterGroup, ClusterItem, NodeResult};
    use kubecis_model::report::State;
    use std::time::Duration;

    /// A scan with Rancher's four rules to one notifier.
    fn scan(warn_is_failure: bool) -> ScanConfig {
        let mut alerts = Vec::new();
        for run in [Trigger::Manual, Trigger::Scheduled] {
            for (on, level) in [
                (Event::Completed, Level::Info),
                (Event::Failures, Level::Warning),
            ] {
                alerts.push(AlertRule {
                    name: format!("{}-{}", run.as_str(), on.as_str()),
                    on,
                    runs: vec![run],
                    level,
                    notifiers: vec!["ops".into()],
                    min_interval: Duration::ZERO,
                });
            }
        }
        alerts.push(AlertRule {
            name: "drift".into(),
            on: Event::Drift,
            runs: vec![Trigger::Manual, Trigger::Scheduled],
            level: Level::Critical,
            notifiers: vec!["ops".into(), "chat".into()],
            min_interval: Duration::ZERO,
        });
        ScanConfig {
            name: "cis".into(),
            benchmark: "cis-1.8".into(),
            profile: None,
            skip: Vec::new(),
            schedule: None,
            retention: 3,
            deadline: Duration::from_secs(60),
            start_delay: Duration::ZERO,
            tries: 1,
            options: Default::default(),
            origin: "test".into(),
            alerts,
            warn_is_failure,
            run_choices: Vec::new(),
            waivers: None,
        }
    }

    /// A report of one item on two nodes in these states.
    fn report(states: [State; 2]) -> ClusterReport {
        let nodes = ["cp-1", "worker-1"];
        let results: Vec<NodeResult> = nodes
            .iter()
            .zip(states)
            .map(|(n, state)| NodeResult {
                node: (*n).into(),
                state,
                actual: String::new(),
                reason: String::new(),
            })
            .collect();
        let failed_nodes = results
            .iter()
            .filter(|r| r.state == State::Fail)
            .map(|r| r.node.clone())
            .collect();
        let state = if states[0] == states[1] {
            states[0].into()
        } else {
            ClusterState::Mixed
        };
        ClusterReport {
            schema: kubecis_model::cluster::SCHEMA.into(),
            groups: vec![ClusterGroup {
                benchmark: "cis-1.8".into(),
                benchmark_title: "CIS".into(),
                profile: None,
                nodes: Vec::new(),
                items: vec![ClusterItem {
                    id: "4.1.5".into(),
                    title: "kubelet.conf 600".into(),
                    node_type: NodeType::Node,
                    scored: true,
                    state,
                    nodes: nodes.iter().map(|n| (*n).into()).collect(),
                    passed_nodes: Vec::new(),
                    failed_nodes,
                    missing_nodes: Vec::new(),
                    remediation: String::new(),
                    results,
                }],
                top_failed: Vec::new(),
                totals: [(state.as_str().to_owned(), 1)].into_iter().collect(),
            }],
        }
    }

    fn fired(
        scan: &ScanConfig,
        trigger: Trigger,
        state: &str,
        now: Option<&ClusterReport>,
        before: Option<ClusterReport>,
    ) -> Vec<(String, String, String)> {
        let end = Ending {
            job: 7,
            trigger,
            state,
            reason: if state == "failed" {
                "no node reported in 6 tries"
            } else {
                ""
            },
            composed: now,
            missing: &[],
            time: "2026-12-01T00:00:00Z".into(),
        };
        decide(scan, &scan.alerts, "local", "http://kubecis", &end, &|| {
            before.clone()
        })
        .into_iter()
        .map(|a| (a.rule, a.level, a.notifier))
        .collect()
    }

    fn rules(v: &[(String, String, String)]) -> Vec<&str> {
        v.iter().map(|(r, _, _)| r.as_str()).collect()
    }

    #[test]
    fn rancher_four_fire_exactly_when_they_should() {
        let scan = scan(false);
        let passing = report([State::Pass, State::Pass]);
        let failing = report([State::Fail, State::Pass]);
        let warning = report([State::Warn, State::Warn]);
        let all_error = report([State::Error, State::Error]);
        use Trigger::*;
        let cases: &[(Trigger, &str, Option<&ClusterReport>, &[&str])] = &[
            (Manual, "completed", Some(&passing), &["manual-completed"]),
            (
                Scheduled,
                "completed",
                Some(&passing),
                &["scheduled-completed"],
            ),
            (
                Manual,
                "completed",
                Some(&failing),
                &["manual-completed", "manual-failures"],
            ),
            (
                Scheduled,
                "completed",
                Some(&failing),
                &["scheduled-completed", "scheduled-failures"],
            ),
            (
                Scheduled,
                "completed",
                Some(&warning),
                &["scheduled-completed"],
            ),
            // A broken scan never stays silent.
            (
                Scheduled,
                "completed",
                Some(&all_error),
                &["scheduled-completed", "scheduled-failures"],
            ),
            (
                Manual,
                "failed",
                None,
                &["manual-completed", "manual-failures"],
            ),
        ];
        for (trigger, state, now, want) in cases {
            let got = fired(&scan, *trigger, state, *now, None);
            assert_eq!(rules(&got), *want, "{trigger:?} {state} {now:?}");
            for (rule, level, notifier) in &got {
                assert_eq!(notifier, "ops");
                let expected = if rule.ends_with("completed") {
                    "info"
                } else {
                    "warning"
                };
                assert_eq!(level, expected, "{rule}");
            }
        }
        // Under scoreWarning: fail, a warning is a failure.
        let strict = super::tests::scan(true);
        let got = fired(&strict, Scheduled, "completed", Some(&warning), None);
        assert_eq!(rules(&got), ["scheduled-completed", "scheduled-failures"]);
    }

    #[test]
    fn drift_names_what_regressed_and_where() {
        let scan = scan(false);
        let before = report([State::Pass, State::Pass]);
        let now = report([State::Fail, State::Pass]);
        let end = Ending {
            job: 8,
            trigger: Trigger::Scheduled,
            state: "completed",
            reason: "",
            composed: Some(&now),
            missing: &[],
            time: "2026-12-01T00:00:00Z".into(),
        };
        let alerts = decide(
            &scan,
            &scan.alerts,
            "local",
            "http://kubecis",
            &end,
            &|| Some(before.clone()),
        );
        let drift: Vec<_> = alerts.iter().filter(|a| a.rule == "drift").collect();
        assert_eq!(drift.len(), 2, "one per notifier");
        assert_eq!(drift[0].level, "critical");
        let body: AlertBody = serde_json::from_str(&drift[0].body).unwrap();
        assert_eq!(body.regressions.len(), 1);
        assert_eq!(body.regressions[0].id, "4.1.5");
        assert_eq!(body.regressions[0].nodes, ["cp-1"]);
        assert_eq!(body.report, "http://kubecis/api/v1/reports/8");
        // Unchanged, fixed, or no report before: no drift.
        for before in [Some(now.clone()), None] {
            let got = fired(&scan, Trigger::Scheduled, "completed", Some(&now), before);
            assert!(!rules(&got).contains(&"drift"), "{got:?}");
        }
        let got = fired(
            &scan,
            Trigger::Scheduled,
            "completed",
            Some(&before),
            Some(now.clone()),
        );
        assert!(!rules(&got).contains(&"drift"));
    }
}
