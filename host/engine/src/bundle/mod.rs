//! Benchmark bundles: data files that name, per item, the check component,
//! its settings and its grants (see profiles/README.md).

mod builtins;
mod directory;
pub mod package;

pub use builtins::Builtins;

use crate::node::discovery::{DISTRIBUTIONS, NodeType};
use kubecis_model::natural_key;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BundleError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0:?} is not a Kubernetes version such as 1.26 or 1.26.9")]
    Version(String),
    #[error(
        "{bundle}: item {item}: the grant of {grant} is refused: {why}; the operator must allow this bundle's grants by name"
    )]
    Grant {
        bundle: String,
        item: String,
        grant: String,
        why: String,
    },
    #[error(
        "{dir}: benchmark {name} takes the name of a built-in benchmark; built-in names are reserved, give the bundle its own"
    )]
    Reserved { dir: PathBuf, name: String },
    #[error(
        "Kubernetes {version} is older than every benchmark kubecis knows; choose one with --benchmark if it applies: {known}"
    )]
    TooOld { version: String, known: String },
    #[error("unknown benchmark {name:?}; known: {known}")]
    Unknown { name: String, known: String },
    #[error("unknown profile {name:?} for {benchmark}; its profiles: {known}")]
    UnknownProfile {
        name: String,
        benchmark: String,
        known: String,
    },
}

/// `1.26`, `v1.26.9` as (1, 26); `None` when it is no version.
pub fn minor_version(v: &str) -> Option<(u64, u64)> {
    let mut parts = v.trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn invalid(file: &str, message: impl Into<String>) -> BundleError {
    BundleError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    benchmark: String,
    /// The bundle's own version (needed to pack it).
    #[serde(default)]
    version: Option<String>,
    title: String,
    kubernetes: Vec<String>,
    sections: Vec<String>,
    /// Profile files of the bundle.
    #[serde(default)]
    profiles: Vec<String>,
    /// The profile a scan uses when none is named (Rancher's distribution
    /// benchmarks always run with one).
    #[serde(default)]
    default_profile: Option<String>,
}

/// A named view of a bundle: items it skips and items it declares not
/// applicable, each with its reason (Rancher's permissive and hardened).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// Another profile of the same bundle whose skips and not-applicable items this one adds to.
    pub extends: Option<String>,
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
    #[serde(default)]
    pub not_applicable: BTreeMap<String, String>,
}

/// One benchmark version with its items.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub benchmark: String,
    /// The version its bundle.yaml declares (packages need one).
    pub version: Option<String>,
    pub title: String,
    pub kubernetes: Vec<String>,
    pub sections: Vec<Section>,
    /// Profiles with `extends` already folded in.
    pub profiles: Vec<Profile>,
    /// The profile used when a scan names none.
    pub default_profile: Option<String>,
    /// The components its items use, by name: shipped by the bundle
    /// (`components/<name>.wasm`) or else built in.
    pub components: BTreeMap<String, CheckComponent>,
    /// Where it comes from, and the SHA-256 of its files (names and bytes).
    pub origin: Origin,
    pub digest: String,
}

/// Where a bundle comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Origin {
    /// Embedded in the binary at build time.
    #[default]
    BuiltIn,
    /// Read from this directory when the command started.
    Directory(PathBuf),
    /// Read from this package, of this version, verified as signed by (or
    /// accepted unsigned).
    Package {
        path: PathBuf,
        version: String,
        signer: package::Signer,
    },
}

impl Origin {
    /// A package's version.
    pub fn version(&self) -> Option<String> {
        match self {
            Origin::Package { version, .. } => Some(version.clone()),
            _ => None,
        }
    }

    /// Who vouches for the bundle, in words.
    pub fn signer(&self) -> String {
        match self {
            Origin::BuiltIn => "built-in".into(),
            Origin::Directory(_) => "unsigned (a bundle directory)".into(),
            Origin::Package { signer, .. } => signer.to_string(),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("built-in"),
            Origin::Directory(dir) => write!(f, "directory {}", dir.display()),
            Origin::Package { path, version, .. } => {
                write!(f, "package {} (version {version})", path.display())
            }
        }
    }
}

/// A name that is a plain file or component name: no path, no leading dot.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A check component a bundle's items use: built in (borrowed from the
/// binary) or shipped by a bundle directory, with its digest (which keys
/// the compile cache).
#[derive(Debug, Clone)]
pub struct CheckComponent {
    pub wasm: Cow<'static, [u8]>,
    pub sha256: Cow<'static, str>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub node_type: NodeType,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub title: String,
    pub items: Vec<Item>,
}

/// A benchmark item = metadata + component + settings + grants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub automated: bool,
    pub scored: bool,
    /// The check component; `None` for items only a person can judge.
    pub check: Option<String>,
    #[serde(default)]
    pub settings: serde_json::Value,
    #[serde(default)]
    pub grants: Grants,
    /// Why a person must judge it (items without a check).
    pub manual: Option<String>,
    pub remediation: String,
    /// The remediation for nodes of one distribution (`k3s`, `rke2`, `rke`),
    /// whose settings live elsewhere than `remediation` says.
    #[serde(default)]
    pub remediation_for: BTreeMap<String, String>,
}

impl Item {
    /// The remediation a node of this distribution needs.
    pub fn remediation_on(&self, distribution: &str) -> &str {
        self.remediation_for
            .get(distribution)
            .map_or(&self.remediation, |r| r)
    }
}

/// What a check may touch. Reading a file's values (`content`) is a larger
/// grant than seeing its owner and mode (`metadata`), so the two are apart.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Components whose processes (pid, argv) a check may see.
    #[serde(default)]
    pub processes: Vec<String>,
    /// Variables of a component's environment a check may read, by
    /// component: exact names, or a prefix ending in `*` (`ETCD_*`).
    #[serde(default)]
    pub environment: BTreeMap<String, Vec<String>>,
    /// Paths whose metadata (stat, directory listings) a check may read.
    #[serde(default)]
    pub metadata: Vec<String>,
    /// Configuration files whose values a check may read (and their metadata).
    #[serde(default)]
    pub content: Vec<String>,
    /// Memory the check may use, in MiB, when its runtime needs more than
    /// the operator's default cap (an interpreter in the component).
    #[serde(default)]
    pub memory_mib: Option<usize>,
}

/// The largest memory grant an item may ask for.
pub const MAX_MEMORY_GRANT_MIB: usize = 512;

impl Grants {
    /// Every path granted, metadata and content alike.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.metadata.iter().chain(&self.content)
    }

    /// The grants in words, one line each, paths passed through `expand`
    /// (`${kubelet.conf}` to the file discovery found).
    pub fn describe(&self, expand: &dyn Fn(&str) -> String) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.processes.is_empty() {
            lines.push(format!(
                "arguments of the processes of {}",
                self.processes.join(", ")
            ));
        }
        for (component, names) in &self.environment {
            lines.push(format!("environment of {component}: {}", names.join(", ")));
        }
        for path in &self.metadata {
            lines.push(format!("owner, group and mode under {}", expand(path)));
        }
        for path in &self.content {
            lines.push(format!("configuration values of {}", expand(path)));
        }
        lines
    }

    /// A larger memory cap, in words, when the item asks for one.
    pub fn memory(&self) -> Option<String> {
        self.memory_mib
            .map(|mib| format!("up to {mib} MiB of memory (where the operator's cap is lower)"))
    }
}

impl Bundle {
    /// Every item with its section.
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Group, &Item)> {
        self.sections.iter().flat_map(|s| {
            s.groups
                .iter()
                .flat_map(move |g| g.items.iter().map(move |i| (s, g, i)))
        })
    }

    /// Parse a bundle from its files; `read` returns a file's text by name.
    fn parse(
        dir_name: &str,
        read: &dyn Fn(&str) -> Result<Text, BundleError>,
        known_components: &HashSet<String>,
    ) -> Result<Bundle, BundleError> {
        let manifest_file = format!("{dir_name}/bundle.yaml");
        let manifest: Manifest = read("bundle.yaml")?
            .parse()
            .map_err(|e| invalid(&manifest_file, e))?;
        if manifest.benchmark != dir_name {
            return Err(invalid(
                &manifest_file,
                format!(
                    "benchmark {:?} does not match its directory {dir_name:?}",
                    manifest.benchmark
                ),
            ));
        }
        let mut sections = Vec::new();
        let mut ids = HashSet::new();
        for name in manifest.sections.iter().chain(&manifest.profiles) {
            if !is_plain_name(name) {
                return Err(invalid(
                    &manifest_file,
                    format!(
                        "{name:?} is not a plain file name of the bundle's directory (letters, digits, '-', '_', '.')"
                    ),
                ));
            }
        }
        for name in &manifest.sections {
            let file = format!("{dir_name}/{name}");
            let section: Section = read(name)?.parse().map_err(|e| invalid(&file, e))?;
            for item in section.groups.iter().flat_map(|g| &g.items) {
                if !ids.insert(item.id.clone()) {
                    return Err(invalid(&file, format!("item {} appears twice", item.id)));
                }
                validate(item, known_components)
                    .map_err(|m| invalid(&file, format!("item {}: {m}", item.id)))?;
            }
            sections.push(section);
        }
        let mut profiles: Vec<Profile> = Vec::new();
        for name in &manifest.profiles {
            let file = format!("{dir_name}/{name}");
            let profile: Profile = read(name)?.parse().map_err(|e| invalid(&file, e))?;
            for id in profile.skip.keys().chain(profile.not_applicable.keys()) {
                if !ids.contains(id) {
                    return Err(invalid(
                        &file,
                        format!("names item {id}, which {dir_name} does not have"),
                    ));
                }
            }
            profiles.push(profile);
        }
        let profiles = fold_extends(profiles).map_err(|m| invalid(&manifest_file, m))?;
        if let Some(name) = &manifest.default_profile
            && !profiles.iter().any(|p| p.name.eq_ignore_ascii_case(name))
        {
            let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
            return Err(invalid(
                &manifest_file,
                format!(
                    "default_profile {name:?} is none of its profiles ({})",
                    if known.is_empty() {
                        "it has none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        Ok(Bundle {
            benchmark: manifest.benchmark,
            version: manifest.version,
            title: manifest.title,
            kubernetes: manifest.kubernetes,
            sections,
            profiles,
            default_profile: manifest.default_profile,
            components: BTreeMap::new(),
            origin: Origin::BuiltIn,
            digest: String::new(),
        })
    }

    /// The profile a scan runs with: the one named, else the bundle's default.
    pub fn profile_for(&self, named: Option<&str>) -> Result<Option<&Profile>, BundleError> {
        named
            .or(self.default_profile.as_deref())
            .map(|name| self.profile(name))
            .transpose()
    }

    /// A profile by name, case-insensitively (`RKE-CIS-1.4-Permissive`).
    pub fn profile(&self, name: &str) -> Result<&Profile, BundleError> {
        self.profiles
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
                BundleError::UnknownProfile {
                    name: name.to_owned(),
                    benchmark: self.benchmark.clone(),
                    known: if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    },
                }
            })
    }

    /// Adds the built-in components its items use and it does not ship.
    fn add_builtin_components(&mut self, builtins: &Builtins) {
        let used: Vec<String> = self
            .items()
            .filter_map(|(_, _, i)| i.check.clone())
            .collect();
        for name in used {
            if !self.components.contains_key(&name)
                && let Some(c) = builtins.component(&name)
            {
                self.components.insert(name, c);
            }
        }
    }

    /// Whether an id names an item, a group or a section of this bundle.
    pub fn has_id(&self, id: &str) -> bool {
        self.sections.iter().any(|s| {
            s.id == id
                || s.groups
                    .iter()
                    .any(|g| g.id == id || g.items.iter().any(|i| i.id == id))
        })
    }
}

/// A bundle file's text: YAML as written, or the JSON `build.rs` made of a
/// built-in one (the same document, read about ten times faster).
enum Text {
    Yaml(String),
    Json(&'static str),
}

impl Text {
    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        match self {
            Text::Yaml(text) => crate::yaml::from_str(text).map_err(|e| e.0),
            Text::Json(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
        }
    }
}

/// Resolve `extends`: each profile gets its parent's skips and not-applicable
/// items under its own (which win on the same id).
fn fold_extends(profiles: Vec<Profile>) -> Result<Vec<Profile>, String> {
    let by_name: BTreeMap<String, Profile> = profiles
        .iter()
        .map(|p| (p.name.to_ascii_lowercase(), p.clone()))
        .collect();
    let mut out = Vec::new();
    for profile in profiles {
        let mut folded = profile.clone();
        let mut seen = vec![profile.name.to_ascii_lowercase()];
        let mut parent = profile.extends.clone();
        while let Some(name) = parent {
            let key = name.to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(format!(
                    "profile {} extends itself through {name}",
                    profile.name
                ));
            }
            let p = by_name.get(&key).ok_or_else(|| {
                format!("profile {} extends unknown profile {name}", profile.name)
            })?;
            for (id, why) in &p.skip {
                folded.skip.entry(id.clone()).or_insert_with(|| why.clone());
            }
            for (id, why) in &p.not_applicable {
                folded
                    .not_applicable
                    .entry(id.clone())
                    .or_insert_with(|| why.clone());
            }
            seen.push(key);
            parent = p.extends.clone();
        }
        out.push(folded);
    }
    Ok(out)
}

/// Checks that do not hold together are refused when the bundle loads, not mid-scan.
fn validate(item: &Item, components: &HashSet<String>) -> Result<(), String> {
    match (&item.check, &item.manual) {
        (None, None) => return Err("has neither a check nor a manual reason".into()),
        (Some(c), _) if !components.contains(c) => {
            let mut known: Vec<_> = components.iter().cloned().collect();
            known.sort();
            return Err(format!(
                "unknown check component {c:?} (known: {})",
                known.join(", ")
            ));
        }
        _ => {}
    }
    if let Some(d) = item
        .remediation_for
        .keys()
        .find(|d| !DISTRIBUTIONS.contains(&d.as_str()))
    {
        return Err(format!(
            "remediation_for names unknown distribution {d:?} (known: {})",
            DISTRIBUTIONS.join(", ")
        ));
    }
    let grants = &item.grants;
    if let Some(mib) = grants.memory_mib
        && !(1..=MAX_MEMORY_GRANT_MIB).contains(&mib)
    {
        return Err(format!(
            "memory_mib {mib} is outside 1 to {MAX_MEMORY_GRANT_MIB} (MiB)"
        ));
    }
    let components = grants.processes.iter().chain(grants.environment.keys());
    for component in components {
        if !crate::node::discovery::is_component(component) {
            return Err(format!(
                "grants name unknown component {component:?} (known: {})",
                crate::node::discovery::component_names().join(", ")
            ));
        }
    }
    for name in grants.environment.values().flatten() {
        let stem = name.strip_suffix('*').unwrap_or(name);
        let valid =
            !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(format!(
                "environment grant {name:?} is not a variable name or a prefix ending in * (such as ETCD_*)"
            ));
        }
    }
    for path in grants.paths() {
        if !path.starts_with('/') && !path.starts_with("${") {
            return Err(format!(
                "granted path {path:?} is not absolute (nor a ${{variable}})"
            ));
        }
        // `${kubelet.conf}/../../root` would leave the place discovery found.
        if path.split('/').any(|c| c == "..") || path.get(1..).is_some_and(|p| p.contains("${")) {
            return Err(format!(
                "granted path {path:?} climbs with .. or has a ${{variable}} not at its start"
            ));
        }
    }
    let mut texts = vec![item.remediation.clone(), item.settings.to_string()];
    texts.extend(item.remediation_for.values().cloned());
    texts.extend(grants.paths().cloned());
    for text in texts {
        for var in variables(&text) {
            if !crate::node::discovery::variables().any(|known| known == var) {
                return Err(format!("unknown variable ${{{var}}}"));
            }
        }
    }
    Ok(())
}

/// The `${name}` variables a text uses.
pub fn variables(text: &str) -> impl Iterator<Item = &str> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(v, _)| v))
}

/// Every bundle kubecis knows: the built-in ones and those of `--bundle-dir`.
/// Built-in bundles are read when first asked for (a scan reads one);
/// bundles from a directory are read and validated when the library loads.
pub struct Library {
    entries: Vec<Entry>,
}

struct Entry {
    builtins: &'static Builtins,
    /// Built in, not from a directory: only these are chosen automatically.
    builtin: bool,
    benchmark: String,
    kubernetes: Vec<String>,
    bundle: std::sync::OnceLock<Result<Bundle, String>>,
}

impl Entry {
    fn bundle(&self) -> Result<&Bundle, BundleError> {
        self.bundle
            .get_or_init(|| {
                let builtins = self.builtins;
                let mut bundle = Bundle::parse(
                    &self.benchmark,
                    &|file| builtins.file(&self.benchmark, file),
                    &builtins.component_names(),
                )
                .map_err(|e| e.to_string())?;
                bundle.digest = builtins.digest(&self.benchmark);
                bundle.add_builtin_components(builtins);
                Ok(bundle)
            })
            .as_ref()
            .map_err(|message| BundleError::Invalid {
                file: format!("built-in bundle {}", self.benchmark),
                message: message.clone(),
            })
    }
}

impl Library {
    /// The built-in bundles, plus those under `extra`, with every grant
    /// reviewed (see [`Library::load_allowing`]).
    pub fn load(builtins: &'static Builtins, extra: Option<&Path>) -> Result<Library, BundleError> {
        Library::load_allowing(builtins, extra, &[])
    }

    /// The built-in bundles, plus those under `extra`, which may not take a
    /// built-in name. A bundle directory may ship `components/<name>.wasm`.
    /// Broad or sensitive grants of a bundle from `extra` are refused unless
    /// `allow_grants` names the bundle.
    pub fn load_allowing(
        builtins: &'static Builtins,
        extra: Option<&Path>,
        allow_grants: &[String],
    ) -> Result<Library, BundleError> {
        let mut entries = Vec::new();
        for name in builtins.benchmarks() {
            let manifest: Manifest = builtins
                .file(name, "bundle.yaml")?
                .parse()
                .map_err(|e| invalid(&format!("{name}/bundle.yaml"), e))?;
            entries.push(Entry {
                builtins,
                builtin: true,
                benchmark: name.to_owned(),
                kubernetes: manifest.kubernetes,
                bundle: std::sync::OnceLock::new(),
            });
        }
        if let Some(dir) = extra {
            let builtin: HashSet<String> = entries
                .iter()
                .map(|e| e.benchmark.to_ascii_lowercase())
                .collect();
            for bundle in directory::read_bundle_dir(dir, builtins, allow_grants)? {
                if directory::reserved(&bundle.benchmark, &builtin) {
                    return Err(BundleError::Reserved {
                        dir: dir.join(&bundle.benchmark),
                        name: bundle.benchmark,
                    });
                }
                entries.push(Entry {
                    builtins,
                    builtin: false,
                    benchmark: bundle.benchmark.clone(),
                    kubernetes: bundle.kubernetes.clone(),
                    bundle: std::sync::OnceLock::from(Ok(bundle)),
                });
            }
        }
        entries.sort_by_key(|e| natural_key(&e.benchmark));
        Ok(Library { entries })
    }

    /// Adds a verified package's bundle. Its name may not be a built-in's
    /// or another bundle's; its grants are reviewed unless `allow_grants`
    /// names it.
    pub fn add_package(
        &mut self,
        builtins: &'static Builtins,
        package: &package::Package,
        allow_grants: &[String],
    ) -> Result<(), BundleError> {
        let mut bundle = directory::bundle_from(&package.manifest.name, package, builtins)?;
        if bundle.version.as_deref() != Some(package.manifest.version.as_str()) {
            return Err(invalid(
                &package.path.display().to_string(),
                format!(
                    "its manifest says version {}, its bundle.yaml {:?}",
                    package.manifest.version, bundle.version
                ),
            ));
        }
        if self
            .entries
            .iter()
            .any(|e| e.benchmark.eq_ignore_ascii_case(&bundle.benchmark))
        {
            return Err(BundleError::Reserved {
                dir: package.path.clone(),
                name: bundle.benchmark,
            });
        }
        if !allow_grants
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&bundle.benchmark))
        {
            directory::review_grants(&bundle)?;
        }
        bundle.origin = Origin::Package {
            path: package.path.clone(),
            version: package.manifest.version.clone(),
            signer: package.signer.clone(),
        };
        self.entries.push(Entry {
            builtins,
            builtin: false,
            benchmark: bundle.benchmark.clone(),
            kubernetes: bundle.kubernetes.clone(),
            bundle: std::sync::OnceLock::from(Ok(bundle)),
        });
        self.entries.sort_by_key(|e| natural_key(&e.benchmark));
        Ok(())
    }

    /// Every benchmark's name, in version order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.benchmark.as_str())
    }

    /// Every bundle, read.
    pub fn bundles(&self) -> Result<Vec<&Bundle>, BundleError> {
        self.entries.iter().map(Entry::bundle).collect()
    }

    /// The benchmark for a Kubernetes version (`1.26.9` or `1.26`): a bundle of
    /// the node's distribution (`rke-cis-1.4` for rke) listing its minor
    /// version; else among the generic `cis-*` bundles the one listing it, the
    /// nearest one for a newer Kubernetes, or the newest; a version older than
    /// every generic bundle is refused. Returns the bundle
    /// and, when the match is not exact, a warning.
    pub fn for_kubernetes(
        &self,
        version: &str,
        distribution: &str,
    ) -> Result<(&Bundle, Option<String>), BundleError> {
        let minor = minor_version;
        let want = minor(version).ok_or_else(|| BundleError::Version(version.to_owned()))?;
        // Built-in bundles whose name starts so, with each minor version they
        // list, oldest first.
        let by_minor = |prefix: &str| {
            let mut found: Vec<(&Entry, (u64, u64))> = self
                .entries
                .iter()
                .filter(|e| e.builtin && e.benchmark.starts_with(prefix))
                .flat_map(|b| {
                    b.kubernetes
                        .iter()
                        .filter_map(move |k| minor(k).map(|m| (b, m)))
                })
                .collect();
            found.sort_by_key(|(_, m)| *m);
            found
        };
        // k3s-cis-1.8, rke-cis-1.4, eks-1.8.0: the distribution's own.
        let own = by_minor(&format!("{distribution}-"));
        if let Some((e, _)) = own.iter().find(|(_, m)| *m == want) {
            return Ok((e.bundle()?, None));
        }
        // Newer than every benchmark of its distribution: the newest of them
        // still knows where the distribution keeps its settings.
        if let Some((e, newest)) = own.last()
            && want > *newest
        {
            return Ok((
                e.bundle()?,
                Some(format!(
                    "Kubernetes {version}: it is newer than every {distribution} benchmark; using the newest, {}",
                    e.benchmark
                )),
            ));
        }
        let generic = by_minor("cis-");
        if let Some((e, _)) = generic.iter().find(|(_, m)| *m == want) {
            return Ok((e.bundle()?, None));
        }
        // Older than every benchmark: no benchmark speaks of its settings.
        if let Some((_, oldest)) = generic.first()
            && want < *oldest
        {
            let mut known: Vec<String> = Vec::new();
            for (e, _) in &generic {
                let line = format!("{} ({})", e.benchmark, e.kubernetes.join(", "));
                if !known.contains(&line) {
                    known.push(line);
                }
            }
            return Err(BundleError::TooOld {
                version: version.to_owned(),
                known: known.join(", "),
            });
        }
        let (bundle, why) = match generic.iter().find(|(_, m)| *m > want) {
            Some((b, _)) => (
                *b,
                "no benchmark is written for it; using the nearest one for a newer Kubernetes",
            ),
            None => match generic.last() {
                Some((b, _)) => (
                    *b,
                    "it is newer than every known benchmark; using the newest",
                ),
                None => return Err(invalid("bundles", "hold no generic cis-* benchmark")),
            },
        };
        Ok((
            bundle.bundle()?,
            Some(format!("Kubernetes {version}: {why}, {}", bundle.benchmark)),
        ))
    }

    pub fn get(&self, name: &str) -> Result<&Bundle, BundleError> {
        self.entries
            .iter()
            .find(|e| e.benchmark.eq_ignore_ascii_case(name))
            .ok_or_else(|| BundleError::Unknown {
                name: name.to_owned(),
                known: self.names().collect::<Vec<_>>().join(", "),
            })?
            .bundle()
    }
}
