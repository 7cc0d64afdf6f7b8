//! Shared by the integration tests.

pub mod live_node;

pub use kubecis_testkit::fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A materialised fixture in a temporary directory that lives as long as this.
pub struct Materialised {
    pub dir: tempfile::TempDir,
}

impl Materialised {
    pub fn new(name: &str) -> Materialised {
        let dir = tempfile::tempdir().unwrap();
        fixture::materialise(&fixture::nodes_dir().join(name), &dir.path().join("root"));
        Materialised { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The root and the cache directory as flag values.
    pub fn root_and_cache(&self) -> (String, String) {
        (
            self.root().display().to_string(),
            self.cache().display().to_string(),
        )
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
}

/// `kubecis scan --root ROOT --cache-dir CACHE EXTRA…` on a materialised
/// fixture: (exit status, standard output, standard error).
pub fn scan_fixture(node: &Materialised, extra: &[&str]) -> (i32, String, String) {
    let (root, cache) = node.root_and_cache();
    let mut args = vec!["scan", "--root", &root, "--cache-dir", &cache];
    args.extend(extra);
    let out = kubecis(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

/// Run the `kubecis` binary.
pub fn kubecis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubecis"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("running kubecis")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A test-only check component (`check-hostile`), built by the testkit.
pub fn built_component(package: &str) -> PathBuf {
    kubecis_testkit::test_component(package)
}

/// Write a bundle directory `<dir>/<name>/` with one section of items (YAML text).
pub fn write_bundle(dir: &Path, name: &str, node_type: &str, items_yaml: &str) {
    let b = dir.join(name);
    std::fs::create_dir_all(b.join("components")).unwrap();
    std::fs::write(
        b.join("bundle.yaml"),
        format!("benchmark: {name}\ntitle: Test bundle {name}\nkubernetes: [\"1.26\"]\nsections: [items.yaml]\n"),
    )
    .unwrap();
    let mut section = format!(
        "id: \"9\"\ntitle: Test items\nnode_type: {node_type}\ngroups:\n  - id: \"9.1\"\n    title: Test group\n    items:\n"
    );
    for line in items_yaml.lines() {
        section.push_str("      ");
        section.push_str(line);
        section.push('\n');
    }
    std::fs::write(b.join("items.yaml"), section).unwrap();
}

/// `kubecis` run in `dir`, with the versions of packages it accepts kept in
/// `dir/state`, not in the home directory.
pub fn kubecis_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(kubecis_path())
        .args(args)
        .current_dir(dir)
        .env("KUBECIS_STATE_DIR", dir.join("state"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The `kubecis` binary, for tests that start it themselves (umask, pipes, a terminal).
pub fn kubecis_path() -> &'static str {
    env!("CARGO_BIN_EXE_kubecis")
}
