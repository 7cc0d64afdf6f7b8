//! kubecis's data, shared by the engine, the renderers, the server and the
//! CLI: node reports and their states, cluster reports, node types, and how
//! ids sort. Serde types only: no I/O, no judgement.

pub mod agent;
pub mod cluster;
mod ids;
mod node_type;
pub mod report;

pub use ids::natural_key;
pub use node_type::NodeType;
