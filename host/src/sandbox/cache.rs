//! Precompiled components on disk, keyed by the component's hash and the
//! engine's compatibility hash, so a warm scan deserialises and never compiles.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Bytes of the checksum in front of every cache file.
const SUM: usize = 32;

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

    /// `sha256` is the component's hex SHA-256 (computed at build time for the built-in ones).
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
        if let Ok(bytes) = std::fs::read(&path)
            && bytes.len() > SUM
            && Sha256::digest(&bytes[SUM..]).as_slice() == &bytes[..SUM]
        {
            // SAFETY: the bytes are what `precompile_component` of an engine with
            // the same compatibility hash wrote, verified by their checksum.
            if let Ok(c) = unsafe { Component::deserialize(engine, &bytes[SUM..]) } {
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
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(&Sha256::digest(compiled))?;
        tmp.write_all(compiled)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
