//! kubecis: CIS Kubernetes Benchmark checks as sandboxed WebAssembly components.
//!
//! - [`node`]: what the host knows of the node (processes, files, discovery);
//! - [`bundle`]: benchmark bundles as data;
//! - [`sandbox`]: wasmtime, the component cache and the host API with its grants;
//! - [`scan`]: runs a bundle's items on a node into a [`report::Report`];
//! - [`output`]: the report as text or JSON.

pub mod bundle;
pub mod cluster;
pub mod embedded;
pub mod node;
pub mod output;
pub mod report;
pub mod sandbox;
pub mod scan;
pub mod selection;
pub mod skipconfig;
pub mod yaml;
