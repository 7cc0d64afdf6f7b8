//! Cluster reports: node reports of many nodes composed per benchmark, with
//! Rancher's node lists and Calico's node health and top failures.

use crate::NodeType;
use crate::report::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "kubecis.cluster/v1";

/// An item's state across nodes: one state when all its nodes agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClusterState {
    Pass,
    Fail,
    Warn,
    Skip,
    NotApplicable,
    Error,
    Mixed,
}

impl ClusterState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterState::Pass => "pass",
            ClusterState::Fail => "fail",
            ClusterState::Warn => "warn",
            ClusterState::Skip => "skip",
            ClusterState::NotApplicable => "notApplicable",
            ClusterState::Error => "error",
            ClusterState::Mixed => "mixed",
        }
    }
}

impl From<State> for ClusterState {
    fn from(s: State) -> ClusterState {
        match s {
            State::Pass => ClusterState::Pass,
            State::Fail => ClusterState::Fail,
            State::Warn => ClusterState::Warn,
            State::Skip => ClusterState::Skip,
            State::NotApplicable => ClusterState::NotApplicable,
            State::Error => ClusterState::Error,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    pub schema: String,
    /// One group per benchmark (and profile): inputs of different benchmarks never mix.
    pub groups: Vec<ClusterGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterGroup {
    pub benchmark: String,
    pub benchmark_title: String,
    pub profile: Option<String>,
    pub nodes: Vec<NodeSummary>,
    pub items: Vec<ClusterItem>,
    /// The items failing on most nodes, most first (Calico's numFailedTests).
    pub top_failed: Vec<TopFailed>,
    pub totals: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSummary {
    pub name: String,
    pub kubernetes_version: Option<String>,
    pub node_types: Vec<NodeType>,
    pub health: Health,
    pub tests_passing: usize,
    pub tests_failing: usize,
    /// warn and error: neither passing nor failing.
    pub tests_unknown: usize,
    pub tests_total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterItem {
    pub id: String,
    pub title: String,
    pub node_type: NodeType,
    pub scored: bool,
    pub state: ClusterState,
    /// Nodes where it ran (was judged).
    pub nodes: Vec<String>,
    pub passed_nodes: Vec<String>,
    pub failed_nodes: Vec<String>,
    /// Nodes of its node type whose report lacks it.
    pub missing_nodes: Vec<String>,
    pub remediation: String,
    /// Each expected node's state and found value.
    pub results: Vec<NodeResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeResult {
    pub node: String,
    pub state: State,
    pub actual: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopFailed {
    pub id: String,
    pub title: String,
    pub failed_nodes: usize,
}

/// Node health by the share of passing tests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Health {
    High,
    Med,
    Low,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Health::High => "HIGH",
            Health::Med => "MED",
            Health::Low => "LOW",
        })
    }
}
