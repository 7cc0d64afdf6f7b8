//! Which node types a node is, from what runs on it.

use super::Discovery;
use kubecis_model::NodeType;

/// The section types a node of these running components is checked against:
/// control-plane components make it master (with its controlplane and
/// policies sections), etcd makes it etcd, a kubelet or proxy makes it a node.
pub fn node_types(d: &Discovery) -> Vec<NodeType> {
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
