//! For build scripts: builds check components of `checks/` for
//! wasm32-wasip2, adding the target through rustup when it is missing.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The components' target: WASI 0.2 with the component model.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// `cargo build` of the components in a target directory of their own, so the
/// nested build never waits on the lock of the build that runs this script.
pub fn build_checks(root: &Path, packages: &[&str]) -> PathBuf {
    ensure_wasm_target();
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target_dir = target_root.join("checks");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    for package in packages {
        cmd.args(["-p", package]);
    }
    // What the outer build set for itself must not leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    let status = cmd
        .status()
        .expect("running cargo to build the check components");
    assert!(
        status.success(),
        "building the check components for wasm32-wasip2 failed (is the target installed? rustup target add wasm32-wasip2)"
    );
    target_dir.join(WASM_TARGET).join("release")
}

/// rustup installs `rust-toolchain.toml`'s targets only with a new toolchain:
/// on a machine that already had 1.95.0, add `wasm32-wasip2` here, saying so.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = |sysroot: &Path| {
        sysroot
            .join("lib/rustlib")
            .join(WASM_TARGET)
            .join("lib")
            .is_dir()
    };
    if sysroot.as_deref().is_some_and(installed) {
        return;
    }
    println!(
        "cargo:warning=the Rust target {WASM_TARGET} is missing: installing it with `rustup target add {WASM_TARGET}`"
    );
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        cmd.arg("--toolchain").arg(toolchain);
    }
    match cmd.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`rustup target add {WASM_TARGET}` failed ({status}); install the target by hand and build again"
        ),
        Err(e) => panic!(
            "the check components need the Rust target {WASM_TARGET} and rustup could not be run ({e}); install the target and build again"
        ),
    }
}
