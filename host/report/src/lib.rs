//! kubecis's reports for people and tools: node reports rendered as text,
//! JSON, CSV, JUnit and kube-bench's JSON ([`output`]); node reports of many
//! nodes composed into cluster reports, rendered, and compared ([`cluster`]).

pub mod cluster;
pub mod output;

// The report model, under the name the renderers use for it.
use kubecis_model::report;
