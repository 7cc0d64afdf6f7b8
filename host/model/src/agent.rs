//! The agent protocol's wire types: what an agent tells `serve` about its
//! node, and the work `serve` hands back. The node report itself is a
//! [`Report`](crate::report::Report).

use crate::NodeType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An agent announcing its node (also its heartbeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    pub node: String,
    pub node_types: Vec<NodeType>,
    pub kubernetes_version: Option<String>,
    pub distribution: String,
    pub agent_version: String,
}

/// A scan an agent is to run on its node for a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Work {
    pub job: i64,
    pub scan: String,
    /// A benchmark name, or `auto`.
    pub benchmark: String,
    pub profile: Option<String>,
    /// Item, group or section ids to skip.
    pub skip: Vec<String>,
    /// Item ids to skip per benchmark (Rancher's `security-scan-cfg`): the
    /// node's benchmark is known only once the agent has looked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skip_lists: BTreeMap<String, Vec<String>>,
    /// The scan's waivers file (its text, as the server checked it), judged
    /// by the agent on the day it scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waivers: Option<WaiversFile>,
}

/// A waivers file sent with a job: where it came from, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiversFile {
    pub from: String,
    pub text: String,
}
