//! Test-only: node fixtures materialised with their modes and owners, and
//! test-only (hostile) check components. Never in the shipped binary.

pub mod fixture;

use std::path::{Path, PathBuf};

/// A test-only check component built for wasm32-wasip2 (`check-hostile`).
pub fn test_component(package: &str) -> PathBuf {
    Path::new(env!("KUBECIS_TEST_CHECKS_DIR")).join(format!("{}.wasm", package.replace('-', "_")))
}
