//! Bundle packages (`NAME-VERSION.kcb`): one tar file holding a bundle's
//! files, a manifest with each file's SHA-256, the bundle's name and
//! version, and optionally an Ed25519 signature over the manifest.
//!
//! Ed25519 rather than sigstore: a package is verified on nodes and in
//! clusters that are often air-gapped, against keys the operator holds,
//! with no transparency log or certificate authority to reach; the keys are
//! 32 bytes, the signatures deterministic, and the crate pure Rust.
//!
//! A package is read as warily as a node: bounded, regular files with
//! plain relative names only, every file named by the manifest present and
//! matching its digest, nothing present that the manifest does not name,
//! and the signature checked against the operator's trusted keys before
//! any of it is parsed.

use super::directory::{BundleFiles, MAX_COMPONENT_BYTES};
use super::{BundleError, invalid};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "kubecis-bundle.json";
pub const SIGNATURE: &str = "kubecis-bundle.sig";
const SCHEMA: &str = "kubecis.bundle/v1";
/// Most entries and bytes a package may hold.
const MAX_ENTRIES: usize = 512;
const MAX_PACKAGE_BYTES: u64 = 128 << 20;

/// The manifest: what the package holds, signed as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub name: String,
    pub version: String,
    /// Every file of the bundle: its path and SHA-256 (hex).
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignatureFile {
    algorithm: String,
    key_id: String,
    signature: String,
}

/// A public key the operator trusts, and where it was read from.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub id: String,
    pub key: VerifyingKey,
    pub from: String,
}

/// The operator's trusted keys, and whether unsigned packages may run.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub keys: Vec<TrustedKey>,
    pub allow_unsigned: bool,
}

/// Who vouches for a package that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Signer {
    Key {
        id: String,
        from: String,
    },
    /// Accepted without a signature because the operator said so.
    Unsigned,
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key { id, from } => write!(f, "key {id} ({from})"),
            Signer::Unsigned => f.write_str("UNSIGNED (accepted with --allow-unsigned)"),
        }
    }
}

/// A verified package: its manifest, signer and files.
#[derive(Debug)]
pub struct Package {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub signer: Signer,
    files: BTreeMap<String, Vec<u8>>,
}

/// Compares two package versions: dot-separated parts, numbers as numbers
/// (1.10.0 > 1.9.2), other parts as text; a part more is newer (1.2.1 > 1.2).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-', '+'])
            .map(|p| (p.parse().unwrap_or(u64::MAX), p.to_owned()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// The id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..16].to_owned()
}

const PUBLIC_PREFIX: &str = "kubecis-ed25519-public ";
const SECRET_PREFIX: &str = "kubecis-ed25519-secret ";

/// A new key pair as file texts: (secret, public).
pub fn keygen() -> std::io::Result<(String, String)> {
    let mut seed = [0u8; 32];
    crate::sandbox::random(&mut seed)?;
    let secret = SigningKey::from_bytes(&seed);
    let public = secret.verifying_key();
    Ok((
        format!("{SECRET_PREFIX}{}\n", hex::encode(seed)),
        format!(
            "{PUBLIC_PREFIX}{} {}\n",
            hex::encode(public.as_bytes()),
            key_id(&public)
        ),
    ))
}

fn key_bytes(text: &str, prefix: &str, file: &str) -> Result<[u8; 32], BundleError> {
    let wrong = || {
        invalid(
            file,
            format!(
                "is not a kubecis key file (expected a line \"{}<64 hex digits>\")",
                prefix
            ),
        )
    };
    let rest = text.trim().strip_prefix(prefix).ok_or_else(wrong)?;
    let hex_part = rest.split_whitespace().next().ok_or_else(wrong)?;
    let bytes = hex::decode(hex_part).map_err(|_| wrong())?;
    bytes.try_into().map_err(|_| wrong())
}

/// A public key file's key.
pub fn public_key(text: &str, file: &str) -> Result<TrustedKey, BundleError> {
    let bytes = key_bytes(text, PUBLIC_PREFIX, file)?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| invalid(file, "does not hold a valid Ed25519 public key"))?;
    Ok(TrustedKey {
        id: key_id(&key),
        key,
        from: file.to_owned(),
    })
}

fn secret_key(text: &str, file: &str) -> Result<SigningKey, BundleError> {
    Ok(SigningKey::from_bytes(&key_bytes(
        text,
        SECRET_PREFIX,
        file,
    )?))
}

/// Packs a bundle directory: every regular file under it. Its
/// `bundle.yaml` gives the name (`benchmark`) and the `version`.
pub fn pack(dir: &Path) -> Result<Vec<u8>, BundleError> {
    let shown = dir.display().to_string();
    #[derive(Deserialize)]
    struct Head {
        benchmark: String,
        version: Option<String>,
    }
    let head_file = dir.join("bundle.yaml");
    let head_shown = head_file.display().to_string();
    let text = crate::node::read::regular_file(&head_file, 1 << 20)
        .map_err(|e| invalid(&head_shown, e.to_string()))?;
    let head: Head = crate::yaml::from_str(&String::from_utf8_lossy(&text))
        .map_err(|e| invalid(&head_shown, e.to_string()))?;
    let version = head.version.unwrap_or_default();
    if version.is_empty()
        || !version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    {
        return Err(invalid(
            &head_shown,
            format!(
                "version {version:?}: a package needs the bundle's version, e.g. version: 1.2.0"
            ),
        ));
    }
    let mut files = BTreeMap::new();
    collect(dir, dir, &mut files)?;
    for reserved in [MANIFEST, SIGNATURE] {
        if files.contains_key(reserved) {
            return Err(invalid(
                &shown,
                format!("holds {reserved}, a name packages keep for themselves"),
            ));
        }
    }
    let manifest = Manifest {
        schema: SCHEMA.into(),
        name: head.benchmark,
        version,
        files: files
            .iter()
            .map(|(p, b)| (p.clone(), hex::encode(Sha256::digest(b))))
            .collect(),
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    manifest_bytes.push(b'\n');
    write_tar(&manifest_bytes, None, &files)
}

fn collect(
    base: &Path,
    dir: &Path,
    into: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), BundleError> {
    let io = |e| BundleError::Io(dir.to_path_buf(), e);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            collect(base, &path, into)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(base)
                .expect("under the base")
                .to_string_lossy()
                .into_owned();
            let file = crate::node::read::open_regular(&path)
                .map_err(|e| invalid(&path.display().to_string(), e.to_string()))?;
            let bytes = crate::node::read::bounded(file, MAX_COMPONENT_BYTES)
                .map_err(|e| invalid(&path.display().to_string(), e.to_string()))?;
            into.insert(rel, bytes);
        } else {
            return Err(invalid(
                &path.display().to_string(),
                "is neither a file nor a directory; a package holds only files",
            ));
        }
    }
    Ok(())
}

fn write_tar(
    manifest: &[u8],
    signature: Option<&[u8]>,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, BundleError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes)
            .map_err(|e| invalid(name, e.to_string()))
    };
    add(MANIFEST, manifest)?;
    if let Some(sig) = signature {
        add(SIGNATURE, sig)?;
    }
    for (name, bytes) in files {
        add(name, bytes)?;
    }
    builder
        .into_inner()
        .map_err(|e| invalid("package", e.to_string()))
}

/// The raw entries of a package: bounded, regular files with plain names.
fn entries(bytes: &[u8], shown: &str) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let bad = |m: String| invalid(shown, m);
    let mut archive = tar::Archive::new(bytes);
    let mut out = BTreeMap::new();
    for entry in archive
        .entries()
        .map_err(|e| bad(format!("is not a kubecis package (a tar file): {e}")))?
    {
        let mut entry = entry.map_err(|e| bad(format!("is not a readable tar file: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| bad(format!("holds an entry with an unreadable name: {e}")))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad(format!("holds {name:?}, which is not a regular file")));
        }
        let plain = !name.is_empty()
            && !name.starts_with('/')
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain {
            return Err(bad(format!(
                "holds {name:?}, which is not a plain relative name"
            )));
        }
        if out.len() >= MAX_ENTRIES {
            return Err(bad(format!("holds more than {MAX_ENTRIES} files")));
        }
        let mut data = Vec::new();
        entry
            .by_ref()
            .take(MAX_COMPONENT_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if data.len() as u64 > MAX_COMPONENT_BYTES {
            return Err(bad(format!(
                "{name} is larger than {MAX_COMPONENT_BYTES} bytes"
            )));
        }
        if out.insert(name.clone(), data).is_some() {
            return Err(bad(format!("holds {name} twice")));
        }
    }
    Ok(out)
}

/// Signs a package with a secret key file's key: the package again, with
/// its signature (a previous one replaced).
pub fn sign(
    package: &[u8],
    shown: &str,
    secret: &str,
    secret_file: &str,
) -> Result<Vec<u8>, BundleError> {
    let key = secret_key(secret, secret_file)?;
    let mut files = entries(package, shown)?;
    let manifest = files
        .remove(MANIFEST)
        .ok_or_else(|| invalid(shown, format!("holds no {MANIFEST}")))?;
    files.remove(SIGNATURE);
    // What is signed must be what verifies: the files against the manifest.
    check_files(&manifest, &files, shown)?;
    let signature = SignatureFile {
        algorithm: "ed25519".into(),
        key_id: key_id(&key.verifying_key()),
        signature: hex::encode(key.sign(&manifest).to_bytes()),
    };
    let sig = serde_json::to_vec(&signature).expect("a signature serialises");
    write_tar(&manifest, Some(&sig), &files)
}

fn check_files(
    manifest_bytes: &[u8],
    files: &BTreeMap<String, Vec<u8>>,
    shown: &str,
) -> Result<Manifest, BundleError> {
    let bad = |m: String| invalid(shown, m);
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| bad(format!("{MANIFEST} is not a package manifest: {e}")))?;
    if manifest.schema != SCHEMA {
        return Err(bad(format!(
            "{MANIFEST} is of schema {:?}; this kubecis reads {SCHEMA}",
            manifest.schema
        )));
    }
    let missing: Vec<&str> = manifest
        .files
        .keys()
        .filter(|f| !files.contains_key(*f))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "its manifest names files that are not in the package: {}",
            missing.join(", ")
        )));
    }
    if let Some(extra) = files.keys().find(|f| !manifest.files.contains_key(*f)) {
        return Err(bad(format!(
            "holds {extra}, which its manifest does not name"
        )));
    }
    for (name, expected) in &manifest.files {
        if hex::encode(Sha256::digest(&files[name])) != *expected {
            return Err(bad(format!(
                "{name} does not match its digest in the manifest: the package was changed after it was packed"
            )));
        }
    }
    Ok(manifest)
}

impl Package {
    /// Reads and verifies a package: its signature against `trust` first,
    /// then every file against the manifest.
    pub fn open(path: &Path, trust: &Trust) -> Result<Package, BundleError> {
        let shown = path.display().to_string();
        let file =
            crate::node::read::open_regular(path).map_err(|e| invalid(&shown, e.to_string()))?;
        let bytes = crate::node::read::bounded(file, MAX_PACKAGE_BYTES)
            .map_err(|e| invalid(&shown, e.to_string()))?;
        Package::from_bytes(&bytes, path, trust)
    }

    pub fn from_bytes(bytes: &[u8], path: &Path, trust: &Trust) -> Result<Package, BundleError> {
        let shown = path.display().to_string();
        let bad = |m: String| invalid(&shown, m);
        let mut files = entries(bytes, &shown)?;
        let manifest_bytes = files
            .remove(MANIFEST)
            .ok_or_else(|| bad(format!("is not a kubecis package: it holds no {MANIFEST}")))?;
        let signer = match files.remove(SIGNATURE) {
            None if trust.allow_unsigned => Signer::Unsigned,
            None => {
                return Err(bad(
                    "is not signed; sign it with `kubecis bundle sign`, or accept unsigned packages with --allow-unsigned".into(),
                ));
            }
            Some(sig) => {
                let sig: SignatureFile = serde_json::from_slice(&sig)
                    .map_err(|e| bad(format!("{SIGNATURE} is not a signature file: {e}")))?;
                if sig.algorithm != "ed25519" {
                    return Err(bad(format!(
                        "is signed with {:?}; kubecis verifies ed25519",
                        sig.algorithm
                    )));
                }
                let Some(key) = trust.keys.iter().find(|k| k.id == sig.key_id) else {
                    return Err(bad(format!(
                        "is signed by key {}, which is not among the trusted keys ({})",
                        sig.key_id,
                        if trust.keys.is_empty() {
                            "none given: --trust-key FILE or --trust-dir DIR".to_owned()
                        } else {
                            trust
                                .keys
                                .iter()
                                .map(|k| k.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    )));
                };
                let signature = hex::decode(&sig.signature)
                    .ok()
                    .and_then(|b| <[u8; 64]>::try_from(b).ok())
                    .map(|b| Signature::from_bytes(&b))
                    .ok_or_else(|| bad(format!("{SIGNATURE} holds no Ed25519 signature")))?;
                key.key.verify(&manifest_bytes, &signature).map_err(|_| {
                    bad(format!(
                        "its signature does not verify with key {}: the manifest was changed after it was signed",
                        key.id
                    ))
                })?;
                Signer::Key {
                    id: key.id.clone(),
                    from: key.from.clone(),
                }
            }
        };
        let manifest = check_files(&manifest_bytes, &files, &shown)?;
        Ok(Package {
            path: path.to_path_buf(),
            manifest,
            signer,
            files,
        })
    }
}

impl BundleFiles for Package {
    fn read(&self, file: &str, limit: u64) -> Result<Vec<u8>, String> {
        let bytes = self
            .files
            .get(file)
            .ok_or_else(|| "is not in the package".to_owned())?;
        if bytes.len() as u64 > limit {
            return Err(format!("is larger than {limit} bytes"));
        }
        Ok(bytes.clone())
    }

    fn component_files(&self) -> Vec<String> {
        self.files
            .keys()
            .filter_map(|f| f.strip_prefix("components/"))
            .filter(|f| !f.contains('/'))
            .map(str::to_owned)
            .collect()
    }

    fn shown(&self, file: &str) -> String {
        format!("{}:{file}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert_eq!(compare_versions("1.10.0", "1.9.2"), Greater);
        assert_eq!(compare_versions("1.2", "1.2.1"), Less);
        assert_eq!(compare_versions("2.0.0", "2.0.0"), Equal);
        assert_eq!(compare_versions("1.0.0", "0.9"), Greater);
    }
}
