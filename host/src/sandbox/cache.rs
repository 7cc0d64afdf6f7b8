//! Precompiled components on disk, keyed by the component's hash and the
//! engine's compatibility hash, so a warm scan deserialises and never compiles.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// `$KUBECIS_CACHE_DIR`, else `$XDG_CACHE_HOME/kubecis`, else `~/.cache/kubecis`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("KUBECIS_CACHE_DIR") {
            return Some(dir.into());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(base.join("kubecis"))
    }

    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// `sha256` is the component's hex SHA-256 (computed at build time for
    /// the built-in ones). The entry is `<key>.cwasm`, its checksum `<key>.sum`.
    fn path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let digest = sha256.get(..32).unwrap_or(sha256);
        self.dir.join(format!("{digest}-{:016x}.cwasm", h.finish()))
    }

    /// The component from the cache, or compiled and stored. A cache that
    /// cannot be read or written only costs a compile; a corrupt entry is replaced.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, bool)> {
        let path = self.path(engine, sha256);
        if checksum_matches(&path) {
            // SAFETY: the file is what `precompile_component` of an engine with
            // the same compatibility hash wrote, verified by its checksum; it
            // is mapped, not copied.
            if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((c, true));
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        // SAFETY: produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        let _ = self.store(&path, &compiled);
        Ok((component, false))
    }

    fn store(&self, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let write = |to: &Path, bytes: &[u8]| -> std::io::Result<()> {
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            tmp.write_all(bytes)?;
            tmp.persist(to).map_err(|e| e.error)?;
            Ok(())
        };
        // The entry first, its checksum last: a half-written pair never verifies.
        write(path, compiled)?;
        write(
            &path.with_extension("sum"),
            blake3::hash(compiled).as_bytes(),
        )
    }
}

/// Whether the entry's bytes hash to the checksum stored beside it (BLAKE3:
/// a warm scan hashes every entry it loads, a megabyte, in a tenth of a millisecond).
/// Read through the node's reader: an entry that is a FIFO or a link is no entry.
fn checksum_matches(path: &Path) -> bool {
    use crate::node::read;
    let Ok(expected) = read::regular_file(&path.with_extension("sum"), 64) else {
        return false;
    };
    let Ok(file) = read::open_regular(path) else {
        return false;
    };
    let mut hasher = blake3::Hasher::new();
    let reader = std::io::Read::take(file, MAX_ENTRY_BYTES);
    hasher
        .update_reader(std::io::BufReader::with_capacity(64 << 10, reader))
        .is_ok()
        && hasher.finalize().as_bytes().as_slice() == expected.as_slice()
}

/// A compiled check is about a megabyte; anything far larger is not one of ours.
const MAX_ENTRY_BYTES: u64 = 256 << 20;
