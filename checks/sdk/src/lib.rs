//! Guest SDK for kubecis check components.
//!
//! The pure judgement logic lives here so the host can share it: Kubernetes
//! command-line semantics ([`flags`]), values as Kubernetes parses them
//! ([`values`]: Go booleans, integers, durations, feature gates),
//! kube-bench-compatible comparisons ([`compare`]) and file permission and
//! ownership rules ([`perm`]). With the
//! `guest` feature the crate also carries the WIT bindings and the [`check!`]
//! macro that turns a [`Check`] into a component.

pub mod compare;
pub mod flags;
pub mod perm;
pub mod values;

#[cfg(feature = "guest")]
mod guest;
#[cfg(feature = "guest")]
pub use guest::*;
