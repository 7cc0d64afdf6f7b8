//! The node as the host sees it: processes, files and config values, from the
//! live node or from a node root directory, behind one interface.

pub mod discovery;
mod paths;
pub mod read;
mod resolve;
mod users;

pub use paths::NodePath;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Why the node could not answer a question.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NodeError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooLarge(String),
}

/// A process as found in `proc/<pid>/cmdline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub binary: String,
    pub args: Vec<String>,
}

/// What `stat` tells about a node path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// Config files larger than this are refused (a kubelet config is a few KiB).
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Where the node's facts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// This machine: `/` and `/proc`.
    Live,
    /// A node filesystem mounted or copied at a directory.
    Root(PathBuf),
}

/// A node, opened for one scan. Processes are read once, when it is opened.
pub struct Node {
    source: Source,
    root: Dir,
    proc_dir: PathBuf,
    processes: Vec<Process>,
    users: users::Names,
    /// Parsed config files, shared by every check of the scan.
    configs: Mutex<HashMap<NodePath, Result<Arc<serde_json::Value>, NodeError>>>,
    /// Where each path asked about leads: a scan asks about the same files
    /// many times (grant check, mode, owner), and resolving walks every component.
    resolved: Mutex<HashMap<NodePath, Result<NodePath, NodeError>>>,
    /// Each resolved file's stat, asked for by one item for its mode and another for its owner.
    stats: Mutex<HashMap<NodePath, Result<FileStat, NodeError>>>,
}

impl Node {
    /// The live node: files under `/`, processes from `/proc`.
    pub fn live() -> io::Result<Node> {
        Node::open(Source::Live, None)
    }

    /// A node root directory; processes from `proc_dir`, or `DIR/proc` when not given.
    pub fn at_root(dir: &Path, proc_dir: Option<&Path>) -> io::Result<Node> {
        Node::open(Source::Root(dir.to_path_buf()), proc_dir)
    }

    fn open(source: Source, proc_dir: Option<&Path>) -> io::Result<Node> {
        let root_path = match &source {
            Source::Live => PathBuf::from("/"),
            Source::Root(dir) => dir.clone(),
        };
        let meta = std::fs::metadata(&root_path).map_err(|e| {
            io::Error::new(e.kind(), format!("node root {}: {e}", root_path.display()))
        })?;
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("node root {} is not a directory", root_path.display()),
            ));
        }
        let root = Dir::open_ambient_dir(&root_path, ambient_authority())?;
        if let Some(dir) = proc_dir
            && !std::fs::metadata(dir).is_ok_and(|m| m.is_dir())
        {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the process directory {} is not a directory; expected the node's /proc",
                    dir.display()
                ),
            ));
        }
        let proc_dir = match proc_dir {
            Some(dir) => dir.to_path_buf(),
            None => {
                let dir = root_path.join("proc");
                // A root's own proc must be its own: a link could lead to this host's /proc.
                if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "{} is a symbolic link; give the node's processes' directory with --proc",
                            dir.display()
                        ),
                    ));
                }
                dir
            }
        };
        let processes = read_processes(&proc_dir);
        let users = users::Names::read(&root);
        Ok(Node {
            source,
            root,
            proc_dir,
            processes,
            users,
            configs: Mutex::new(HashMap::new()),
            resolved: Mutex::new(HashMap::new()),
            stats: Mutex::new(HashMap::new()),
        })
    }

    /// Where a node path really leads, symlinks resolved inside the root.
    pub fn resolve(&self, path: &NodePath) -> Result<NodePath, NodeError> {
        cached(&self.resolved, path, || resolve::resolve(&self.root, path))
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// A node file opened for reading (symlinks resolved inside the root);
    /// for host-side discovery only: checks read files through `config_value`.
    /// Only a regular file opens, and never blocks (a FIFO is refused at once).
    pub fn open_file(&self, path: &NodePath) -> Result<std::fs::File, NodeError> {
        let real = self.resolve(path)?;
        read::open_regular_in(&self.root, real.relative()).map_err(|e| read_error(path, e))
    }

    /// Where process directories are read (`/proc` on a live node).
    pub fn proc_dir(&self) -> &Path {
        &self.proc_dir
    }

    /// Every process found, lowest pid first.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// The environment of a process.
    pub fn environment(&self, pid: u32) -> Result<Vec<(String, String)>, NodeError> {
        let path = pid_dir(&self.proc_dir, pid)
            .ok_or_else(|| NodeError::NotFound(format!("process {pid} does not exist")))?
            .join("environ");
        let bytes = read::regular_file(&path, MAX_PROC_BYTES)
            .map_err(|e| read_error(&path.display(), e))?;
        Ok(split_nul(&bytes)
            .into_iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect())
    }

    /// Stat of a node path; symlinks are followed as long as they stay in the root.
    pub fn stat(&self, path: &NodePath) -> Result<FileStat, NodeError> {
        let path = self.resolve(path)?;
        cached(&self.stats, &path, || self.stat_resolved(&path))
    }

    fn stat_resolved(&self, path: &NodePath) -> Result<FileStat, NodeError> {
        use cap_std::fs::MetadataExt;
        let meta = self
            .root
            .metadata(path.relative())
            .map_err(|e| io_error(&path.to_string(), e))?;
        let ft = meta.file_type();
        let kind = if ft.is_file() {
            FileKind::File
        } else if ft.is_dir() {
            FileKind::Directory
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else {
            FileKind::Other
        };
        let (uid, gid) = (meta.uid(), meta.gid());
        Ok(FileStat {
            kind,
            mode: meta.mode() & 0o7777,
            uid,
            gid,
            user: self.users.user(uid),
            group: self.users.group(gid),
        })
    }

    /// Entry names of a node directory, sorted.
    pub fn list_dir(&self, path: &NodePath) -> Result<Vec<String>, NodeError> {
        let path = &self.resolve(path)?;
        let entries = self
            .root
            .read_dir(path.relative())
            .map_err(|e| io_error(&path.to_string(), e))?;
        let mut names: Vec<String> = Vec::new();
        let mut bytes = 0;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            bytes += name.len();
            // Stop reading a huge directory here, not after listing all of it.
            if bytes > MAX_LISTING_BYTES {
                return Err(NodeError::TooLarge(format!(
                    "the listing of {path} is larger than {MAX_LISTING_BYTES} bytes"
                )));
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    /// A value of a YAML or JSON file by dotted key path (`""` for the whole document).
    pub fn config_value(&self, path: &NodePath, key: &str) -> Result<serde_json::Value, NodeError> {
        let doc = self.config(path)?;
        // Keys, certificates, shadow files and the like parse as one YAML
        // scalar: they are not configuration, and their text is not handed out.
        if !(doc.is_object() || doc.is_array() || doc.is_null()) {
            return Err(NodeError::Invalid(format!(
                "{path} is not a configuration document (a mapping or a list); its content is not read"
            )));
        }
        let mut value: &serde_json::Value = &doc;
        for part in key_parts(key) {
            value = match value {
                serde_json::Value::Object(map) => map.get(part),
                serde_json::Value::Array(items) => {
                    part.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            }
            .ok_or_else(|| NodeError::NotFound(format!("key {key} is not set in {path}")))?;
        }
        Ok(value.clone())
    }

    fn config(&self, path: &NodePath) -> Result<Arc<serde_json::Value>, NodeError> {
        cached(&self.configs, path, || {
            self.parse_config(path).map(Arc::new)
        })
    }

    fn parse_config(&self, path: &NodePath) -> Result<serde_json::Value, NodeError> {
        if holds_credentials(path) {
            return Err(not_configuration(path));
        }
        let bytes = read::bounded(self.open_file(path)?, MAX_CONFIG_BYTES)
            .map_err(|e| read_error(path, e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| NodeError::Invalid(format!("{path} is not UTF-8 text")))?;
        if text.contains("-----BEGIN ") {
            return Err(not_configuration(path));
        }
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        // YAML is a superset of JSON: one parser serves both.
        crate::yaml::from_str(&text)
            .map_err(|e| NodeError::Invalid(format!("{path} is not valid YAML or JSON: {e}")))
    }
}

/// Most bytes of names a directory listing gathers.
const MAX_LISTING_BYTES: usize = 1 << 20;

/// Most answers a node cache keeps: a scan asks about a few hundred paths;
/// a check asking about ever new ones must not grow the host without end.
const MAX_CACHED: usize = 1024;

/// The cached answer for `key`, or `compute`'s, kept while the cache has room.
fn cached<V: Clone>(
    cache: &Mutex<HashMap<NodePath, V>>,
    key: &NodePath,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(v) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
        return v.clone();
    }
    let value = compute();
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() < MAX_CACHED {
        cache.insert(key.clone(), value.clone());
    }
    value
}

/// Files that hold keys, certificates or password hashes by their name:
/// whatever they parse as, they are not configuration to hand a check.
fn holds_credentials(path: &NodePath) -> bool {
    let name = path.to_string();
    let name = name.rsplit('/').next().unwrap_or_default();
    let base = name.trim_end_matches('-');
    ["shadow", "gshadow", "master.passwd", "sudoers"].contains(&base)
        || [
            ".key", ".pem", ".crt", ".p12", ".pfx", ".der", ".csr", ".jks",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn not_configuration(path: &NodePath) -> NodeError {
    NodeError::Invalid(format!(
        "{path} is not a configuration document: it holds keys, certificates or password hashes, and its content is not read"
    ))
}

/// `authentication.anonymous.enabled`, or kube-bench's `{.authentication.anonymous.enabled}`.
fn key_parts(key: &str) -> impl Iterator<Item = &str> {
    key.trim_start_matches('{')
        .trim_end_matches('}')
        .split('.')
        .filter(|p| !p.is_empty())
}

/// How a refused or failed read is told to a check.
fn read_error(what: &impl std::fmt::Display, e: read::ReadError) -> NodeError {
    match e {
        read::ReadError::Io(e) => io_error(&what.to_string(), e),
        read::ReadError::TooLarge(_) => NodeError::TooLarge(format!("{what} {e}")),
        read::ReadError::NotRegular(_) => NodeError::Invalid(format!("{what} {e}")),
    }
}

/// Most bytes read of a process's `cmdline` or `environ` (Linux allows 2 MiB of arguments).
const MAX_PROC_BYTES: u64 = 2 << 20;

fn io_error(what: &str, e: io::Error) -> NodeError {
    match e.kind() {
        io::ErrorKind::NotFound => NodeError::NotFound(format!("{what} does not exist")),
        io::ErrorKind::NotADirectory => NodeError::NotFound(format!("{what} does not exist")),
        // cap-std refuses a path or symlink that leads out of the root.
        io::ErrorKind::PermissionDenied => NodeError::Denied(format!("{what}: {e}")),
        _ => NodeError::Invalid(format!("{what}: {e}")),
    }
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// A process's directory, when it is a directory and not a link (which in
/// a node root could lead to this host's processes).
fn pid_dir(proc_dir: &Path, pid: u32) -> Option<PathBuf> {
    let dir = proc_dir.join(pid.to_string());
    std::fs::symlink_metadata(&dir)
        .is_ok_and(|m| m.is_dir())
        .then_some(dir)
}

/// A process from its argv. A program that rewrote its title (k3s and
/// RKE2 call `SetProcTitle("/usr/local/bin/k3s server")`) leaves one string
/// where argv was, padded with NULs: its words are its argv.
fn process_of(pid: u32, argv: Vec<String>) -> Option<Process> {
    let mut argv = argv.into_iter();
    let first = argv.next()?;
    let rest: Vec<String> = argv.collect();
    if rest.is_empty() && first.contains(' ') {
        let mut words = first.split_whitespace().map(str::to_owned);
        let binary = words.next()?;
        return Some(Process {
            pid,
            binary,
            args: words.collect(),
        });
    }
    Some(Process {
        pid,
        binary: first,
        args: rest,
    })
}

/// Every `proc/<pid>/cmdline` with at least one argument, by pid.
fn read_processes(proc_dir: &Path) -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return Vec::new();
    };
    let mut processes: Vec<Process> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let cmdline = pid_dir(proc_dir, pid)?.join("cmdline");
            let bytes = read::regular_file(&cmdline, MAX_PROC_BYTES).ok()?;
            process_of(pid, split_nul(&bytes))
        })
        .collect();
    processes.sort_by_key(|p| p.pid);
    processes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_rewritten_process_title_is_read_as_its_words() {
        // k3s's cmdline after SetProcTitle: one string, then NUL padding.
        let mut cmdline = b"/usr/local/bin/k3s server".to_vec();
        cmdline.extend([0u8; 40]);
        let p = process_of(7, split_nul(&cmdline)).unwrap();
        assert_eq!(p.binary, "/usr/local/bin/k3s");
        assert_eq!(p.args, argv(&["server"]));
        let p = process_of(8, argv(&["/usr/local/bin/rke2 agent"])).unwrap();
        assert_eq!(
            (p.binary.as_str(), p.args),
            ("/usr/local/bin/rke2", argv(&["agent"]))
        );
    }

    #[test]
    fn an_ordinary_argv_is_kept_as_it_is() {
        let p = process_of(9, argv(&["/bin/sh", "-c", "echo a b"])).unwrap();
        assert_eq!(p.binary, "/bin/sh");
        assert_eq!(p.args, argv(&["-c", "echo a b"]));
        let p = process_of(10, argv(&["kubelet"])).unwrap();
        assert_eq!((p.binary.as_str(), p.args.len()), ("kubelet", 0));
        assert!(process_of(11, Vec::new()).is_none());
    }
}
