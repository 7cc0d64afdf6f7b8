//! The node types of a benchmark (its sections).

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
}

impl std::fmt::Display for NodeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
