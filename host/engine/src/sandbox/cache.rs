//! Precompiled components on disk, so a warm scan deserialises and never
//! compiles. A cache entry is native code the host will run, so whoever can
//! write one chooses what judges the node; hence:
//!
//! - the directory must be the user's own and writable by no one else;
//! - each entry is authenticated with a key only the user can read (BLAKE3
//!   keyed hash over the component's digest, the engine's compatibility hash
//!   and the entry's bytes), so a planted or copied file is recompiled, never
//!   loaded, and an entry serves only the component it was compiled from;
//! - an entry is read once into memory and verified there: no swap between
//!   the check and the load.

use crate::node::read;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct Cache {
    dir: PathBuf,
    key: [u8; 32],
}

#[derive(Debug, Error)]
pub enum CacheError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Unsafe(PathBuf, String),
}

/// A compiled check is about a megabyte; anything far larger is not one of ours.
const MAX_ENTRY_BYTES: u64 = 256 << 20;

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

    /// The cache at `dir`, created private (0700) if missing. Refused when
    /// another user owns it or group or others may write to it, and when its
    /// key is not the user's own private file.
    pub fn open(dir: PathBuf) -> Result<Cache, CacheError> {
        let io = |e| CacheError::Io(dir.clone(), e);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io)?;
        let meta = std::fs::metadata(&dir).map_err(io)?;
        private(&meta).map_err(|why| CacheError::Unsafe(dir.clone(), why))?;
        let key = load_or_create_key(&dir.join("key"))?;
        Ok(Cache { dir, key })
    }

    /// `sha256` is the component's hex SHA-256 (computed at build time for
    /// the built-in ones). The entry is `<key>.cwasm`, its tag `<key>.sum`.
    fn entry(&self, engine: &Engine, sha256: &str) -> (PathBuf, String) {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let compat = format!("{:016x}", h.finish());
        let digest = sha256.get(..32).unwrap_or(sha256);
        (
            self.dir.join(format!("{digest}-{compat}.cwasm")),
            format!("{sha256}\n{compat}\n"),
        )
    }

    fn tag(&self, binding: &str, compiled: &[u8]) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(binding.as_bytes());
        hasher.update(compiled);
        hasher.finalize()
    }

    /// The component from the cache, or compiled and stored. A cache that
    /// cannot be read or written only costs a compile; an entry that does not
    /// verify is replaced.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, bool)> {
        let (path, binding) = self.entry(engine, sha256);
        if let Some(entry) = self.verified(&path, &binding) {
            // SAFETY: the entry is what `precompile_component` of an engine
            // with the same compatibility hash wrote for this very component:
            // the tag over it needs the user's private key. It is read
            // through the descriptor that was verified, so a file renamed
            // over the entry since is not what gets loaded.
            let loaded = match entry.path() {
                Some(fd) => unsafe { Component::deserialize_file(engine, fd) },
                None => unsafe { Component::deserialize(engine, entry.bytes()) },
            };
            if let Ok(c) = loaded {
                return Ok((c, true));
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        // SAFETY: produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        let _ = self.store(&path, &binding, &compiled);
        Ok((component, false))
    }

    /// The entry's bytes when its tag verifies and the file is the user's own.
    /// The entry, open and mapped, when its tag verifies.
    fn verified(&self, path: &Path, binding: &str) -> Option<Entry> {
        let expected = read::regular_file(&path.with_extension("sum"), 64).ok()?;
        let expected: [u8; 32] = expected.try_into().ok()?;
        let file = read::open_regular(path).ok()?;
        let meta = file.metadata().ok()?;
        private(&meta).ok()?;
        if meta.len() == 0 || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        // SAFETY: a private file of the user's private cache, which only
        // this user's processes write, and only by renaming a whole file
        // over it: the mapped bytes do not change under the hash.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        (self.tag(binding, &map) == blake3::Hash::from_bytes(expected))
            .then_some(Entry { file, map })
    }

    fn store(&self, path: &Path, binding: &str, compiled: &[u8]) -> std::io::Result<()> {
        let write = |to: &Path, bytes: &[u8]| -> std::io::Result<()> {
            // Created 0600 by tempfile, then renamed into place.
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            tmp.write_all(bytes)?;
            tmp.persist(to).map_err(|e| e.error)?;
            Ok(())
        };
        // The entry first, its tag last: a half-written pair never verifies.
        write(path, compiled)?;
        write(
            &path.with_extension("sum"),
            self.tag(binding, compiled).as_bytes(),
        )
    }
}

/// Owned by this user (or root) and writable by no one else.
/// A verified cache entry: the open file and its bytes.
struct Entry {
    file: std::fs::File,
    map: memmap2::Mmap,
}

impl Entry {
    /// The open file as a path wasmtime can map itself (no copy of the
    /// code), where /proc is mounted.
    fn path(&self) -> Option<PathBuf> {
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
        path.exists().then_some(path)
    }

    fn bytes(&self) -> &[u8] {
        &self.map
    }
}

fn private(meta: &std::fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "owned by uid {}, not by this user (uid {me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by group or others (mode {:o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// The cache's key: 32 random bytes in a file only the user may read.
/// Fills `buf` from the kernel's random source with getrandom(2), which
/// needs no /dev (a container from scratch may have none).
pub(crate) fn random(buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: writes at most the rest of `buf`, which it is given.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            filled += n as usize;
        }
    }
    Ok(())
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32], CacheError> {
    let unsafe_key = |why: String| CacheError::Unsafe(path.to_path_buf(), why);
    match read::open_regular(path) {
        Ok(file) => {
            let meta = file
                .metadata()
                .map_err(|e| CacheError::Io(path.to_path_buf(), e))?;
            private(&meta).map_err(&unsafe_key)?;
            if meta.mode() & 0o044 != 0 {
                return Err(unsafe_key(format!(
                    "readable by group or others (mode {:o})",
                    meta.mode() & 0o7777
                )));
            }
            let bytes = read::bounded(file, 32).map_err(|e| unsafe_key(e.to_string()))?;
            bytes
                .try_into()
                .map_err(|_| unsafe_key("is not a 32-byte key".into()))
        }
        Err(read::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            let io = |e| CacheError::Io(path.to_path_buf(), e);
            random(&mut key).map_err(io)?;
            // create_new: two scans starting at once do not swap keys under each other.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
            {
                Ok(mut file) => {
                    file.write_all(&key).map_err(io)?;
                    Ok(key)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key(path),
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(unsafe_key(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_shared_directory_or_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        assert!(Cache::open(cache.clone()).is_ok());
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "created private");
        assert_eq!(
            std::fs::metadata(cache.join("key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = Cache::open(cache.clone()).err().unwrap().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(cache.join("key"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let err = Cache::open(cache).err().unwrap().to_string();
        assert!(err.contains("readable by group or others"), "{err}");
    }
}
