//! Builds the test-only check components (never embedded in `kubecis`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // host/testkit -> the workspace root.
    let root = manifest.ancestors().nth(2).unwrap().to_path_buf();
    for dir in ["checks", "wit"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let dir = kubecis_wasm_build::build_checks(&root, &["check-hostile", "check-legacy-1-0"]);
    println!("cargo:rustc-env=KUBECIS_TEST_CHECKS_DIR={}", dir.display());
}
