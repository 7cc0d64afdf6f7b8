//! What a binary ships built in, given to the engine by its caller (the
//! `kubecis-builtin` crate embeds them at build time).

use super::{BundleError, CheckComponent, Text, invalid};
use std::borrow::Cow;
use std::collections::HashSet;

/// Built-in check components and bundles.
pub struct Builtins {
    /// (name in bundles, wasm, hex SHA-256 of the wasm).
    pub components: &'static [(&'static str, &'static [u8], &'static str)],
    /// (path under `profiles/`, the file as JSON).
    pub bundle_files: &'static [(&'static str, &'static str)],
    /// (benchmark, hex SHA-256 of its files' names and bytes).
    pub bundle_digests: &'static [(&'static str, &'static str)],
}

impl Builtins {
    /// The names of the built-in check components.
    pub fn component_names(&self) -> HashSet<String> {
        self.components
            .iter()
            .map(|(n, _, _)| (*n).to_owned())
            .collect()
    }

    /// A built-in component by name, borrowed from the binary.
    pub fn component(&self, name: &str) -> Option<CheckComponent> {
        self.components
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, wasm, sha256)| CheckComponent {
                wasm: Cow::Borrowed(wasm),
                sha256: Cow::Borrowed(sha256),
            })
    }

    /// The built-in benchmarks' names.
    pub fn benchmarks(&self) -> impl Iterator<Item = &'static str> {
        self.bundle_files
            .iter()
            .filter_map(|(path, _)| path.strip_suffix("/bundle.yaml"))
    }

    /// A built-in bundle file, as the JSON `build.rs` made of it.
    pub(super) fn file(&self, bundle: &str, file: &str) -> Result<Text, BundleError> {
        let want = format!("{bundle}/{file}");
        self.bundle_files
            .iter()
            .find(|(p, _)| *p == want)
            .map(|(_, json)| Text::Json(json))
            .ok_or_else(|| invalid(&want, "is named in bundle.yaml but missing"))
    }

    pub(super) fn digest(&self, bundle: &str) -> String {
        self.bundle_digests
            .iter()
            .find(|(b, _)| *b == bundle)
            .map(|(_, d)| (*d).to_owned())
            .unwrap_or_default()
    }
}
