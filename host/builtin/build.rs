//! Builds the check components of `checks/` for wasm32-wasip2 and embeds them,
//! with the bundles of `profiles/`, in the `kubecis` binary.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Components embedded in the binary: (name in bundles, cargo package).
const COMPONENTS: &[(&str, &str)] = &[
    ("flag", "check-flag"),
    ("file", "check-file"),
    ("encryption", "check-encryption"),
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    // host/builtin -> the workspace root.
    let root = manifest.ancestors().nth(2).unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for dir in ["checks", "wit", "profiles"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    let packages: Vec<&str> = COMPONENTS.iter().map(|(_, p)| *p).collect();
    let wasm_dir = kubecis_wasm_build::build_checks(&root, &packages);

    let mut code = String::from(
        "/// Check components built from `checks/`: (name, wasm, SHA-256 of the wasm).\n",
    );
    code.push_str("pub static COMPONENTS: &[(&str, &[u8], &str)] = &[\n");
    for (name, package) in COMPONENTS {
        let wasm = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        let digest = hex::encode(Sha256::digest(fs::read(&wasm).unwrap()));
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?}), {digest:?}),",
            wasm.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n\n/// Files of `profiles/` as JSON, converted here so a scan parses no YAML: (path relative to it, JSON).\n");
    code.push_str("pub static BUNDLE_FILES: &[(&str, &str)] = &[\n");
    let mut files = Vec::new();
    collect_yaml(&root.join("profiles"), &root.join("profiles"), &mut files);
    files.sort();
    let mut bundles: Vec<(String, Sha256)> = Vec::new();
    let json_dir = out.join("bundles");
    for (rel, abs) in &files {
        let json = json_dir.join(rel).with_extension("json");
        fs::create_dir_all(json.parent().unwrap()).unwrap();
        fs::write(&json, yaml_to_json(abs)).unwrap();
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            json.display().to_string()
        )
        .unwrap();
        // A bundle's digest covers each of its files' name and text, in order.
        let Some((bundle, file)) = rel.split_once('/') else {
            continue;
        };
        if bundles.last().is_none_or(|(b, _)| b != bundle) {
            bundles.push((bundle.to_owned(), Sha256::new()));
        }
        let hasher = &mut bundles.last_mut().unwrap().1;
        let text = fs::read(abs).unwrap();
        hasher.update((file.len() as u64).to_le_bytes());
        hasher.update(file.as_bytes());
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(&text);
    }
    code.push_str("];\n\n/// Built-in bundles and the SHA-256 of their files.\n");
    code.push_str("pub static BUNDLE_DIGESTS: &[(&str, &str)] = &[\n");
    for (bundle, hasher) in bundles {
        let digest = hex::encode(hasher.finalize());
        writeln!(code, "    ({bundle:?}, {digest:?}),").unwrap();
    }
    code.push_str("];\n");
    writeln!(
        code,
        "\n/// The commit this binary was built from.\npub const COMMIT: &str = {:?};",
        commit(&root)
    )
    .unwrap();
    writeln!(
        code,
        "/// The wasmtime that runs the checks.\npub const WASMTIME_VERSION: &str = {:?};",
        locked_version(&root, "wasmtime")
    )
    .unwrap();
    fs::write(out.join("embedded.rs"), code).unwrap();
}

/// A bundle file's YAML as JSON: the same document, faster to read. A file
/// that is not YAML stops the build here, naming it.
fn yaml_to_json(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
    serde_json::to_string(&doc)
        .unwrap_or_else(|e| panic!("{}: cannot be JSON: {e}", path.display()))
}

/// `KUBECIS_COMMIT`, else git's HEAD, else `unknown` (a build from a source archive).
fn commit(root: &Path) -> String {
    println!("cargo:rerun-if-env-changed=KUBECIS_COMMIT");
    if let Ok(commit) = env::var("KUBECIS_COMMIT") {
        return commit;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    // Build again when HEAD moves.
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={}", git_dir.join(branch).display());
        }
        println!(
            "cargo:rerun-if-changed={}",
            git_dir.join("packed-refs").display()
        );
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
}

/// The version of a package in `Cargo.lock`.
fn locked_version(root: &Path, package: &str) -> String {
    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(lock).unwrap_or_default();
    let wanted = format!("name = \"{package}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return version.trim_matches('"').to_owned();
        }
    }
    "unknown".to_owned()
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
