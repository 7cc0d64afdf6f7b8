//! Benchmark bundles: data files that name, per item, the check component,
//! its settings and its grants (see profiles/README.md).

use crate::node::discovery::NodeType;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BundleError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("unknown benchmark {name:?}; known: {known}")]
    Unknown { name: String, known: String },
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
    title: String,
    kubernetes: Vec<String>,
    sections: Vec<String>,
}

/// One benchmark version with its items.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub benchmark: String,
    pub title: String,
    pub kubernetes: Vec<String>,
    pub sections: Vec<Section>,
    /// Components the bundle ships itself (`components/<name>.wasm`), by name.
    pub components: BTreeMap<String, Vec<u8>>,
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
}

/// What a check may touch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    #[serde(default)]
    pub processes: Vec<String>,
    #[serde(default)]
    pub environment: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
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
        read: &dyn Fn(&str) -> Result<String, BundleError>,
        known_components: &HashSet<String>,
    ) -> Result<Bundle, BundleError> {
        let manifest_file = format!("{dir_name}/bundle.yaml");
        let manifest: Manifest = serde_yaml_ng::from_str(&read("bundle.yaml")?)
            .map_err(|e| invalid(&manifest_file, e.to_string()))?;
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
        for name in &manifest.sections {
            let file = format!("{dir_name}/{name}");
            let section: Section =
                serde_yaml_ng::from_str(&read(name)?).map_err(|e| invalid(&file, e.to_string()))?;
            for item in section.groups.iter().flat_map(|g| &g.items) {
                if !ids.insert(item.id.clone()) {
                    return Err(invalid(&file, format!("item {} appears twice", item.id)));
                }
                validate(item, known_components)
                    .map_err(|m| invalid(&file, format!("item {}: {m}", item.id)))?;
            }
            sections.push(section);
        }
        Ok(Bundle {
            benchmark: manifest.benchmark,
            title: manifest.title,
            kubernetes: manifest.kubernetes,
            sections,
            components: BTreeMap::new(),
        })
    }
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
    let mut texts = vec![item.remediation.clone(), item.settings.to_string()];
    texts.extend(item.grants.paths.iter().cloned());
    for text in texts {
        for var in variables(&text) {
            if !crate::scan::KNOWN_VARIABLES.contains(&var) {
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
pub struct Library {
    bundles: Vec<Bundle>,
}

impl Library {
    /// The bundles embedded in the binary, plus those under `extra` (which win
    /// on a name clash). A bundle directory may ship `components/<name>.wasm`.
    pub fn load(extra: Option<&Path>) -> Result<Library, BundleError> {
        let known: HashSet<String> = crate::embedded::COMPONENTS
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        let mut bundles = Vec::new();
        let mut names: Vec<&str> = crate::embedded::BUNDLE_FILES
            .iter()
            .filter_map(|(path, _)| path.strip_suffix("/bundle.yaml"))
            .collect();
        names.sort();
        for name in names {
            let read = |file: &str| -> Result<String, BundleError> {
                let want = format!("{name}/{file}");
                crate::embedded::BUNDLE_FILES
                    .iter()
                    .find(|(p, _)| *p == want)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or_else(|| invalid(&want, "is named in bundle.yaml but missing"))
            };
            bundles.push(Bundle::parse(name, &read, &known)?);
        }
        if let Some(dir) = extra {
            let entries =
                std::fs::read_dir(dir).map_err(|e| BundleError::Io(dir.to_path_buf(), e))?;
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
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
            for bundle_dir in dirs {
                let name = bundle_dir
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let components = read_components(&bundle_dir.join("components"))?;
                let mut local_known = known.clone();
                local_known.extend(components.keys().cloned());
                let read = |file: &str| -> Result<String, BundleError> {
                    let path = bundle_dir.join(file);
                    std::fs::read_to_string(&path).map_err(|e| BundleError::Io(path, e))
                };
                let mut bundle = Bundle::parse(&name, &read, &local_known)?;
                bundle.components = components;
                bundles.retain(|b| b.benchmark != bundle.benchmark);
                bundles.push(bundle);
            }
        }
        Ok(Library { bundles })
    }

    pub fn bundles(&self) -> &[Bundle] {
        &self.bundles
    }

    pub fn get(&self, name: &str) -> Result<&Bundle, BundleError> {
        self.bundles
            .iter()
            .find(|b| b.benchmark.eq_ignore_ascii_case(name))
            .ok_or_else(|| BundleError::Unknown {
                name: name.to_owned(),
                known: self
                    .bundles
                    .iter()
                    .map(|b| b.benchmark.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

fn read_components(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_some_and(|e| e == "wasm") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).map_err(|e| BundleError::Io(path.clone(), e))?;
            out.insert(name, bytes);
        }
    }
    Ok(out)
}
