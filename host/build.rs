//! Builds the check components of `checks/` for wasm32-wasip2 and embeds them,
//! with the bundles of `profiles/`, in the `kubecis` binary.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Components embedded in the binary: (name in bundles, cargo package).
const COMPONENTS: &[(&str, &str)] = &[("flag", "check-flag"), ("file", "check-file")];
/// Built alongside for the sandbox tests, never embedded.
const TEST_COMPONENTS: &[&str] = &["check-hostile"];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for dir in ["checks", "wit", "profiles"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    let wasm_dir = build_checks(&root);
    println!("cargo:rustc-env=KUBECIS_CHECKS_DIR={}", wasm_dir.display());

    let mut code = String::from("/// Check components built from `checks/`: (name, wasm).\n");
    code.push_str("pub static COMPONENTS: &[(&str, &[u8])] = &[\n");
    for (name, package) in COMPONENTS {
        let wasm = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            wasm.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n\n/// Files of `profiles/`: (path relative to it, text).\n");
    code.push_str("pub static BUNDLE_FILES: &[(&str, &str)] = &[\n");
    let mut files = Vec::new();
    collect_yaml(&root.join("profiles"), &root.join("profiles"), &mut files);
    files.sort();
    for (rel, abs) in files {
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    fs::write(out.join("embedded.rs"), code).unwrap();
}

/// `cargo build` of the components in a target directory of their own, so the
/// nested build never waits on the lock of the build that runs this script.
fn build_checks(root: &Path) -> PathBuf {
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
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for package in COMPONENTS
        .iter()
        .map(|(_, p)| *p)
        .chain(TEST_COMPONENTS.iter().copied())
    {
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
    target_dir.join("wasm32-wasip2").join("release")
}

fn collect_yaml(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}
