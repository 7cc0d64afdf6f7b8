//! Cluster reports as text, JSON and CSV: Rancher's eight columns with real
//! node lists, and Calico's four exports.

use super::{ClusterGroup, ClusterReport};
use crate::report::State;
use std::fmt::Write;

/// The CSV exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// Rancher's report: ID,Description,Remediation,State of Test,Node type,Nodes,Passed_Nodes,Failed_Nodes.
    Rancher,
    /// Calico: every test of every node.
    AllTests,
    /// Calico: failed tests of every node.
    FailedTests,
    /// Calico: one row per node.
    NodeSummary,
    /// Calico: one row for the cluster.
    TotalSummary,
}

fn kube_bench_status(s: State) -> &'static str {
    match s {
        State::Pass => "PASS",
        State::Fail => "FAIL",
        State::Warn | State::Error => "WARN",
        State::Skip | State::NotApplicable => "INFO",
    }
}

pub fn render_csv(group: &ClusterGroup, kind: CsvKind) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: &[&str]| crate::output::write_csv_row(&mut w, fields);
    match kind {
        CsvKind::Rancher => {
            row(&crate::output::CSV_HEADER);
            for i in &group.items {
                row(&[
                    &i.id,
                    &i.title,
                    &i.remediation,
                    i.state.as_str(),
                    i.node_type.as_str(),
                    &i.nodes.join(","),
                    &i.passed_nodes.join(","),
                    &i.failed_nodes.join(","),
                ]);
            }
        }
        CsvKind::AllTests | CsvKind::FailedTests => {
            row(&[
                "nodeName",
                "testIndex",
                "testDescription",
                "status",
                "scored",
                "remediation",
            ]);
            for i in &group.items {
                for r in &i.results {
                    if kind == CsvKind::FailedTests && r.state != State::Fail {
                        continue;
                    }
                    row(&[
                        &r.node,
                        &i.id,
                        &i.title,
                        kube_bench_status(r.state),
                        &i.scored.to_string(),
                        &i.remediation,
                    ]);
                }
            }
        }
        CsvKind::NodeSummary => {
            row(&[
                "node",
                "version",
                "status",
                "testsPassing",
                "testsFailing",
                "testsUnknown",
                "testsTotal",
            ]);
            for n in &group.nodes {
                row(&[
                    &n.name,
                    n.kubernetes_version.as_deref().unwrap_or(""),
                    &n.health.to_string(),
                    &n.tests_passing.to_string(),
                    &n.tests_failing.to_string(),
                    &n.tests_unknown.to_string(),
                    &n.tests_total.to_string(),
                ]);
            }
        }
        CsvKind::TotalSummary => {
            row(&[
                "benchmark",
                "nodes",
                "highNodes",
                "medNodes",
                "lowNodes",
                "testsPassing",
                "testsFailing",
                "testsUnknown",
                "testsTotal",
            ]);
            let count = |h| {
                group
                    .nodes
                    .iter()
                    .filter(|n| n.health == h)
                    .count()
                    .to_string()
            };
            let sum = |f: fn(&super::NodeSummary) -> usize| {
                group.nodes.iter().map(f).sum::<usize>().to_string()
            };
            row(&[
                &group.benchmark,
                &group.nodes.len().to_string(),
                &count(super::Health::High),
                &count(super::Health::Med),
                &count(super::Health::Low),
                &sum(|n| n.tests_passing),
                &sum(|n| n.tests_failing),
                &sum(|n| n.tests_unknown),
                &sum(|n| n.tests_total),
            ]);
        }
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("UTF-8 fields")
}

pub fn render_text(report: &ClusterReport) -> String {
    let mut out = String::new();
    for g in &report.groups {
        let profile = g
            .profile
            .as_deref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} ({}{profile}): {} nodes",
            g.benchmark_title,
            g.benchmark,
            g.nodes.len()
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:<10} {:<6} {:>5} {:>5} {:>5} {:>5}  node types",
            "node", "version", "health", "pass", "fail", "unkn", "total"
        );
        for n in &g.nodes {
            let types: Vec<&str> = n.node_types.iter().map(|t| t.as_str()).collect();
            let _ = writeln!(
                out,
                "{:<24} {:<10} {:<6} {:>5} {:>5} {:>5} {:>5}  {}",
                n.name,
                n.kubernetes_version.as_deref().unwrap_or("-"),
                n.health,
                n.tests_passing,
                n.tests_failing,
                n.tests_unknown,
                n.tests_total,
                types.join(",")
            );
        }
        if !g.top_failed.is_empty() {
            let _ = writeln!(out, "\nTop failed tests:");
            for t in &g.top_failed {
                let _ = writeln!(
                    out,
                    "  {:<8} failing on {} node(s): {}",
                    t.id, t.failed_nodes, t.title
                );
            }
        }
        let _ = writeln!(out, "\nItems:");
        for i in &g.items {
            let _ = write!(
                out,
                "  {:<14} {:<8} {}",
                format!("[{}]", i.state.as_str()),
                i.id,
                i.title
            );
            if !i.failed_nodes.is_empty() {
                let _ = write!(out, " — failed on {}", i.failed_nodes.join(", "));
            }
            if !i.missing_nodes.is_empty() {
                let _ = write!(out, " — NOT REPORTED by {}", i.missing_nodes.join(", "));
            }
            out.push('\n');
        }
        let totals: Vec<String> = g.totals.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let _ = writeln!(out, "\n{} items: {}\n", g.items.len(), totals.join(", "));
    }
    out
}
