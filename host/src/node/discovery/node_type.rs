//! The node types of a benchmark, and which of them a node is.

use super::Discovery;

/// The node types of a benchmark (its sections).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NodeType {
    Master,
    Etcd,
    Controlplane,
    Node,
    Policies,
}

impl NodeType {
    pub const ALL: [NodeType; 5] = [
        NodeType::Master,
        NodeType::Etcd,
        NodeType::Controlplane,
        NodeType::Node,
        NodeType::Policies,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Master => "master",
            NodeType::Etcd => "etcd",
            NodeType::Controlplane => "controlplane",
            NodeType::Node => "node",
            NodeType::Policies => "policies",
        }
    }

    pub fn parse(text: &str) -> Option<NodeType> {
        NodeType::ALL
            .into_iter()
            .find(|t| t.as_str() == text.trim().to_ascii_lowercase())
    }

    /// The section types a node of these running components is checked against:
    /// control-plane components make it master (with its controlplane and
    /// policies sections), etcd makes it etcd, a kubelet or proxy makes it a node.
    pub fn from_running(d: &Discovery) -> Vec<NodeType> {
        let mut types = Vec::new();
        if ["apiserver", "controllermanager", "scheduler"]
            .iter()
            .any(|c| d.is_running(c))
        {
            types.extend([NodeType::Master, NodeType::Controlplane, NodeType::Policies]);
        }
        if d.is_running("etcd") {
            types.push(NodeType::Etcd);
        }
        if d.is_running("kubelet") || d.is_running("proxy") {
            types.push(NodeType::Node);
        }
        types.sort();
        types
    }
}

impl std::fmt::Display for NodeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
