//! The results model: one node's scan of one benchmark.

use crate::NodeType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema of [`Report`] as JSON; bumped on any incompatible change.
pub const SCHEMA: &str = "kubecis.report/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    Pass,
    Fail,
    /// Manual, or unscored and not passing: a person decides.
    Warn,
    /// Skipped by a profile or a user.
    Skip,
    /// What the item is about does not exist on this node.
    NotApplicable,
    /// The check could not run or gather evidence; never counted as a pass.
    Error,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Pass,
        State::Fail,
        State::Warn,
        State::Skip,
        State::NotApplicable,
        State::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pass => "pass",
            State::Fail => "fail",
            State::Warn => "warn",
            State::Skip => "skip",
            State::NotApplicable => "notApplicable",
            State::Error => "error",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item's result on one node, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub section_id: String,
    pub section: String,
    pub group_id: String,
    pub group: String,
    pub node_type: NodeType,
    pub automated: bool,
    pub scored: bool,
    /// No check can judge it: a person must (kube-bench's `type: manual`).
    #[serde(default)]
    pub manual: bool,
    pub state: State,
    /// Who skipped it: `profile <name>` or `user (<where>)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_by: Option<String>,
    /// What passes.
    pub expected: String,
    /// What was found.
    pub actual: String,
    /// Why, when the state is not a plain pass or fail.
    pub reason: String,
    pub remediation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub name: String,
    /// `live` or `root:<dir>`.
    pub source: String,
    /// Node types the node was checked as, and whether they were found or given.
    pub node_types: Vec<NodeType>,
    pub node_types_from: String,
    /// Kubernetes components found running.
    pub components: Vec<String>,
    /// Components whose arguments are not their own command line, and where
    /// they were read (k3s's log, etcd's config file).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments_from: BTreeMap<String, String>,
    /// kubeadm, rke, rke2, k3s or unknown, and the evidence.
    #[serde(default)]
    pub distribution: String,
    #[serde(default)]
    pub distribution_from: String,
    /// The Kubernetes version, when given (`--k8s-version`) or found on the node.
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    #[serde(default)]
    pub kubernetes_version_from: Option<String>,
    /// Files discovery chose, by bundle variable.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: String,
    pub tool_version: String,
    pub benchmark: String,
    pub benchmark_title: String,
    /// How the benchmark was chosen: given, or mapped from the Kubernetes version.
    #[serde(default)]
    pub benchmark_from: String,
    /// Where the benchmark's bundle comes from (`built-in`, `directory /path`)
    /// and the SHA-256 of its files, so a report names exactly what judged.
    #[serde(default)]
    pub bundle_origin: String,
    #[serde(default)]
    pub bundle_digest: String,
    /// The version of a packaged bundle (`kubecis bundle pack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_version: Option<String>,
    /// Who vouches for the bundle: `built-in`, `key <id> (<file>)` for a
    /// signed package, `unsigned …` for a directory or a package accepted
    /// with --allow-unsigned.
    #[serde(default)]
    pub bundle_signer: String,
    /// The profile applied, if any.
    pub profile: Option<String>,
    pub node: NodeInfo,
    /// Seconds since the Unix epoch when the scan started.
    pub started_at: u64,
    pub duration_ms: u64,
    pub totals: BTreeMap<State, usize>,
    pub results: Vec<CheckResult>,
}

impl Report {
    /// Count per state, every state present (zero included).
    pub fn count(results: &[CheckResult]) -> BTreeMap<State, usize> {
        let mut totals: BTreeMap<State, usize> = State::ALL.iter().map(|s| (*s, 0)).collect();
        for r in results {
            *totals.entry(r.state).or_default() += 1;
        }
        totals
    }

    pub fn result(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.id == id)
    }
}
