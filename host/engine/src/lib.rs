//! kubecis's engine: a scan of one node with one benchmark.
//!
//! - [`node`]: what the host knows of the node (processes, files, discovery);
//! - [`bundle`]: benchmark bundles as data, from the [`Builtins`] it is given
//!   and from directories;
//! - [`sandbox`]: wasmtime, the component cache and the host API with its grants;
//! - [`selection`] and [`skipconfig`]: which items run, which are skipped and by whom;
//! - [`scan`]: runs a bundle's items on a node into a report.

pub mod bundle;
pub mod node;
pub mod sandbox;
pub mod scan;
pub mod selection;
pub mod skipconfig;
pub mod waivers;
pub mod yaml;

pub use bundle::Builtins;
