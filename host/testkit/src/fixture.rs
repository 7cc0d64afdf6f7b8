//! Node fixtures: `tests/nodes/<name>/root` plus `node.yaml`. Git keeps neither
//! file modes nor owners, so a fixture is materialised into a directory with
//! the modes and owners `node.yaml` lists before it is scanned.

// Each includer (tests, the example, the benchmark) uses a part.
#![allow(dead_code)]

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub description: String,
    pub kubernetes: String,
    /// The distribution discovery must report (kubeadm, rke, …).
    #[serde(default)]
    pub distribution: Option<String>,
    /// The benchmark `expected` refers to.
    #[serde(default = "default_benchmark")]
    pub benchmark: String,
    #[serde(default)]
    pub attrs: BTreeMap<String, Attr>,
    /// Item id → expected state (`pass`, `fail`, `warn`, `notApplicable`, …).
    #[serde(default)]
    pub expected: BTreeMap<String, String>,
    /// The same node judged by other benchmarks (a k3s node by generic CIS):
    /// benchmark → item id → expected state.
    #[serde(default)]
    pub also: BTreeMap<String, BTreeMap<String, String>>,
}

fn default_benchmark() -> String {
    "cis-1.8".to_owned()
}

#[derive(Debug, Deserialize)]
pub struct Attr {
    pub mode: Option<String>,
    pub owner: Option<String>,
}

/// `tests/nodes` of this repository.
pub fn nodes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/nodes")
}

pub fn load(dir: &Path) -> Fixture {
    let path = dir.join("node.yaml");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copy the fixture's root to `dest` with its modes and owners; returns the fixture.
pub fn materialise(dir: &Path, dest: &Path) -> Fixture {
    let fixture = load(dir);
    let root = dir.join("root");
    copy_tree(&root, dest);
    let passwd = ids(&dest.join("etc/passwd"));
    let group = ids(&dest.join("etc/group"));
    for (rel, attr) in &fixture.attrs {
        let path = dest.join(rel);
        assert!(
            path.symlink_metadata().is_ok(),
            "{}: attrs names {rel}, which is not in root/",
            dir.display()
        );
        if let Some(mode) = &attr.mode {
            let mode =
                u32::from_str_radix(mode, 8).unwrap_or_else(|_| panic!("{rel}: bad mode {mode}"));
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        }
        if let Some(owner) = &attr.owner {
            let (u, g) = owner
                .split_once(':')
                .unwrap_or_else(|| panic!("{rel}: owner {owner} is not user:group"));
            let uid = *passwd
                .get(u)
                .unwrap_or_else(|| panic!("{rel}: no user {u} in the fixture's etc/passwd"));
            let gid = *group
                .get(g)
                .unwrap_or_else(|| panic!("{rel}: no group {g} in the fixture's etc/group"));
            // Only root may give files away; elsewhere owners stay the caller's.
            let _ = chown(&path, Some(uid), Some(gid));
        }
    }
    fixture
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
    let _ = chown(to, Some(0), Some(0));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
            fs::set_permissions(&dst, fs::Permissions::from_mode(0o644)).unwrap();
            let _ = chown(&dst, Some(0), Some(0));
        }
    }
}

/// name → id from a passwd or group file.
fn ids(path: &Path) -> BTreeMap<String, u32> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((name.to_owned(), id))
        })
        .collect()
}
