//! What `build.rs` embeds: the check components and the bundle files.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Where `build.rs` left the built components, the test-only ones included.
pub const CHECKS_DIR: &str = env!("KUBECIS_CHECKS_DIR");
