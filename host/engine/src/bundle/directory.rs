//! Bundles from a directory given by the operator (`--bundle-dir`): read as
//! warily as a node (inside the bundle's own directory only, bounded, no
//! FIFOs), validated whole before anything runs, and their grants reviewed.

use super::{Builtins, Bundle, BundleError, CheckComponent, Grants, Origin, Text, invalid};
use crate::node::NodePath;
use cap_std::fs::Dir;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Most bytes of one bundle file and of one shipped component read.
pub(super) const MAX_BUNDLE_FILE_BYTES: u64 = 16 << 20;
/// Components with an interpreter inside (Python, JavaScript) weigh 10 to 20 MiB.
pub(super) const MAX_COMPONENT_BYTES: u64 = 48 << 20;

/// The bundles of a `--bundle-dir`, each read and validated now; grants of
/// bundles not named in `allow_grants` are reviewed (see [`review_grants`]).
pub(super) fn read_bundle_dir(
    dir: &Path,
    builtins: &Builtins,
    allow_grants: &[String],
) -> Result<Vec<Bundle>, BundleError> {
    let entries = std::fs::read_dir(dir).map_err(|e| BundleError::Io(dir.to_path_buf(), e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| p.join("bundle.yaml").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(invalid(
            &dir.display().to_string(),
            "holds no <benchmark>/bundle.yaml",
        ));
    }
    let mut bundles = Vec::new();
    for bundle_dir in dirs {
        let bundle = read_bundle(&bundle_dir, builtins)?;
        if !allow_grants
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&bundle.benchmark))
        {
            review_grants(&bundle)?;
        }
        bundles.push(bundle);
    }
    Ok(bundles)
}

fn read_bundle(bundle_dir: &Path, builtins: &Builtins) -> Result<Bundle, BundleError> {
    let name = bundle_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let root = Dir::open_ambient_dir(bundle_dir, cap_std::ambient_authority())
        .map_err(|e| BundleError::Io(bundle_dir.to_path_buf(), e))?;
    let mut bundle = bundle_from(&name, &InDirectory { root, bundle_dir }, builtins)?;
    bundle.origin = Origin::Directory(bundle_dir.to_path_buf());
    Ok(bundle)
}

/// Where the files of a bundle from outside come from: its directory, or a
/// package whose every file was verified against its manifest.
pub(super) trait BundleFiles {
    /// A file by its name in the bundle (`bundle.yaml`, `components/x.wasm`).
    fn read(&self, file: &str, limit: u64) -> Result<Vec<u8>, String>;
    /// The file names under `components/`.
    fn component_files(&self) -> Vec<String>;
    /// A file's name as messages show it.
    fn shown(&self, file: &str) -> String;
}

struct InDirectory<'a> {
    root: Dir,
    bundle_dir: &'a Path,
}

impl BundleFiles for InDirectory<'_> {
    fn read(&self, file: &str, limit: u64) -> Result<Vec<u8>, String> {
        read_file(&self.root, file, limit)
    }

    fn component_files(&self) -> Vec<String> {
        let Ok(entries) = self.root.read_dir("components") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn shown(&self, file: &str) -> String {
        self.bundle_dir.join(file).display().to_string()
    }
}

/// A bundle from outside, read whole and validated; its digest covers every
/// file read. `name` is what the bundle must call itself.
pub(super) fn bundle_from(
    name: &str,
    source: &dyn BundleFiles,
    builtins: &Builtins,
) -> Result<Bundle, BundleError> {
    let components = read_components(source)?;
    let mut known = builtins.component_names();
    known.extend(components.keys().cloned());
    // Every file read, for the bundle's digest.
    let files: RefCell<Vec<(String, Vec<u8>)>> = RefCell::default();
    let read = |file: &str| -> Result<Text, BundleError> {
        let shown = source.shown(file);
        let bytes = source
            .read(file, MAX_BUNDLE_FILE_BYTES)
            .map_err(|message| invalid(&shown, message))?;
        let text =
            String::from_utf8(bytes.clone()).map_err(|_| invalid(&shown, "is not UTF-8 text"))?;
        files.borrow_mut().push((file.to_owned(), bytes));
        Ok(Text::Yaml(text))
    };
    let mut bundle = Bundle::parse(name, &read, &known)?;
    let mut files = files.into_inner();
    files.extend(
        components
            .iter()
            .map(|(n, c)| (format!("components/{n}.wasm"), c.wasm.to_vec())),
    );
    bundle.digest = digest(files);
    bundle.components = components;
    bundle.add_builtin_components(builtins);
    Ok(bundle)
}

/// SHA-256 over each file's name and bytes, by name: the same for the same
/// files wherever they are (a built-in bundle's digest is made the same way).
fn digest(mut files: Vec<(String, Vec<u8>)>) -> String {
    files.sort();
    let mut hasher = Sha256::new();
    for (file, bytes) in files {
        hasher.update((file.len() as u64).to_le_bytes());
        hasher.update(file.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    hex::encode(hasher.finalize())
}

/// A file of the bundle by its plain name: inside the bundle's directory
/// (cap-std refuses `..`, absolute paths and links out), regular, bounded.
fn read_file(root: &Dir, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    use crate::node::read;
    let file = read::open_regular_in(root, Path::new(name)).map_err(|e| e.to_string())?;
    read::bounded(file, limit).map_err(|e| e.to_string())
}

/// `\0asm`, then the component model's version and layer (a core module has 1, 0, 0, 0).
const COMPONENT_HEADER: &[u8] = b"\0asm\x0d\x00\x01\x00";

/// `components/<name>.wasm`, by name.
fn read_components(
    source: &dyn BundleFiles,
) -> Result<BTreeMap<String, CheckComponent>, BundleError> {
    let mut out = BTreeMap::new();
    for file_name in source.component_files() {
        let Some(name) = file_name.strip_suffix(".wasm") else {
            continue;
        };
        let path = format!("components/{file_name}");
        let shown = source.shown(&path);
        if !super::is_plain_name(name) {
            return Err(invalid(
                &shown,
                "a component's name is letters, digits, '-' and '_'",
            ));
        }
        let wasm = source
            .read(&path, MAX_COMPONENT_BYTES)
            .map_err(|m| invalid(&shown, m))?;
        // Refused now, not when a scan first compiles it: a core module or
        // any other file is not a check component.
        if !wasm.starts_with(COMPONENT_HEADER) {
            return Err(invalid(
                &shown,
                "is not a WebAssembly component (its header is not that of the component model's binary format)",
            ));
        }
        let sha256 = hex::encode(Sha256::digest(&wasm));
        out.insert(
            name.to_owned(),
            CheckComponent {
                wasm: wasm.into(),
                sha256: sha256.into(),
            },
        );
    }
    Ok(out)
}

/// Places whose metadata a bundle from outside may not read unless allowed:
/// listing them spies on the node's users and processes.
const PRIVATE_PLACES: &[&str] = &[
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/etc/ssh",
    "/run/secrets",
    "/var/run/secrets",
    "/var/lib/kubelet/pods",
];

/// Places whose content a bundle from outside may not read unless allowed:
/// they hold keys, credentials and data, not configuration to judge.
const SECRET_PLACES: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/kubernetes/pki",
    "/var/lib/kubelet/pki",
    "/var/lib/etcd",
    "/var/lib/rancher",
    "/etc/rancher",
    "/var/lib/kubelet/config.json",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/etc/containerd",
    "/etc/docker",
    "/var/snap/microk8s",
    "/var/lib/k0s",
];

/// Refuses a grant of a bundle from outside that is broad (`/`, a whole
/// top-level directory) or reaches a private or secret place, naming the
/// item and why. Paths with `${variables}` are places discovery found for a
/// component and are not broad.
pub(super) fn review_grants(bundle: &Bundle) -> Result<(), BundleError> {
    for (_, _, item) in bundle.items() {
        if let Some((grant, why)) = broad_or_sensitive(&item.grants) {
            return Err(BundleError::Grant {
                bundle: bundle.benchmark.clone(),
                item: item.id.clone(),
                grant,
                why,
            });
        }
    }
    Ok(())
}

fn broad_or_sensitive(grants: &Grants) -> Option<(String, String)> {
    let places = |list: &'static [&'static str]| -> Vec<NodePath> {
        list.iter().filter_map(|p| NodePath::parse(p)).collect()
    };
    let (private, secret) = (places(PRIVATE_PLACES), places(SECRET_PLACES));
    let literal = |list: &[String]| -> Vec<(String, NodePath)> {
        list.iter()
            .filter(|p| !p.contains("${"))
            .filter_map(|p| NodePath::parse(p).map(|n| (p.clone(), n)))
            .collect()
    };
    let broad = |path: &NodePath| path.to_string().matches('/').count() <= 1;
    for (text, path) in literal(&grants.metadata) {
        if broad(&path) {
            return Some((
                format!("metadata of {text}"),
                "a whole system directory".into(),
            ));
        }
        if let Some(p) = private.iter().find(|p| path.within(p) || p.within(&path)) {
            return Some((
                format!("metadata of {text}"),
                format!("reaching {p}, a private place"),
            ));
        }
    }
    for (text, path) in literal(&grants.content) {
        if broad(&path) {
            return Some((
                format!("content of {text}"),
                "a whole system directory".into(),
            ));
        }
        let reaches = |p: &&NodePath| path.within(p) || p.within(&path);
        if let Some(p) = private.iter().chain(&secret).find(reaches) {
            return Some((
                format!("content of {text}"),
                format!("reaching {p}, where keys, credentials or private data live"),
            ));
        }
    }
    for (component, names) in &grants.environment {
        if let Some(name) = names.iter().find(|n| n.ends_with('*')) {
            return Some((
                format!("environment of {component}: {name}"),
                "a prefix of variable names, not the names a check needs".into(),
            ));
        }
    }
    None
}

/// Names a bundle from outside may not take.
pub(super) fn reserved(name: &str, builtin: &HashSet<String>) -> bool {
    builtin.contains(&name.to_ascii_lowercase())
}
