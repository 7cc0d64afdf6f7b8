//! The `kubecis:check/node` interface as the host serves it: facts from the
//! node, only within the running item's grant, never a secret, and never
//! past the check's deadline or its budget of bytes.

use super::CheckState;
use super::bindings::kubecis::check::node::{Error, FileKind, FileStat, Host, NodeInfo, Process};
use super::secrets::{self, WITHHELD};
use crate::node::{self as n, NodeError, NodePath};
use std::time::Instant;

/// Most bytes one answer may carry into a check.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Most bytes all answers of one run may carry into a check together.
pub const MAX_HANDED_BYTES: usize = 4 << 20;

/// Longest path and key a check may ask about.
const MAX_PATH_BYTES: usize = 4096;
const MAX_KEY_BYTES: usize = 1024;

/// What a trap says when a host call finds the deadline passed.
pub const DEADLINE_PASSED: &str = "the check's deadline passed during a host call";

/// A host call's answer to the check, or a trap that ends the check.
type Answer<T> = wasmtime::Result<Result<T, Error>>;

impl From<NodeError> for Error {
    fn from(e: NodeError) -> Error {
        match e {
            NodeError::NotFound(m) => Error::NotFound(m),
            NodeError::Denied(m) => Error::Denied(m),
            NodeError::Invalid(m) => Error::Invalid(m),
            NodeError::TooLarge(m) => Error::TooLarge(m),
        }
    }
}

/// How much of a path a grant opens.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    /// Owner, group, mode, kind, directory entries.
    Metadata,
    /// Values of a configuration document.
    Content,
}

impl CheckState {
    /// Runs one host call inside the deadline: a call that starts or ends
    /// past it traps, so no answer reaches a check that ran out of time.
    fn within_deadline<T>(
        &mut self,
        call: impl FnOnce(&mut CheckState) -> Result<T, Error>,
    ) -> Answer<T> {
        self.check_deadline()?;
        let answer = call(self);
        self.check_deadline()?;
        Ok(answer)
    }

    fn check_deadline(&mut self) -> wasmtime::Result<()> {
        if Instant::now() >= self.deadline {
            self.timed_out = true;
            return Err(wasmtime::Error::msg(DEADLINE_PASSED));
        }
        Ok(())
    }

    /// The path, normalised, if the grant covers it for this access.
    fn granted_path(&self, text: &str, access: Access) -> Result<NodePath, Error> {
        // Linux's own limits: longer is no path, only a way to grow the host.
        if text.len() > MAX_PATH_BYTES || text.split('/').any(|c| c.len() > 255) {
            return Err(Error::Invalid(format!(
                "a path of {} bytes: paths are at most {MAX_PATH_BYTES} bytes, names at most 255",
                text.len()
            )));
        }
        let path = NodePath::parse(text)
            .ok_or_else(|| Error::Invalid(format!("{text:?} is not an absolute path")))?;
        let grant = &self.grant;
        let granted = |p: &NodePath| {
            let content = grant.content.iter().any(|g| p.within(g));
            content || (access == Access::Metadata && grant.metadata.iter().any(|g| p.within(g)))
        };
        let what = match access {
            Access::Metadata => "the item's grant",
            Access::Content => "the item's content grant",
        };
        if !granted(&path) {
            return Err(Error::Denied(format!("{path} is outside {what}")));
        }
        // A symlink inside the grant must not lead a check to what it was not
        // granted; a grant names the path as the node shows it, so a granted
        // path whose directories are links (merged /usr) is compared resolved too.
        let real = self.node.resolve(&path)?;
        let granted_resolved = |p: &NodePath| {
            let resolve = |g: &NodePath| self.node.resolve(g).ok();
            let content = grant
                .content
                .iter()
                .filter_map(resolve)
                .any(|g| p.within(&g));
            content
                || (access == Access::Metadata
                    && grant
                        .metadata
                        .iter()
                        .filter_map(resolve)
                        .any(|g| p.within(&g)))
        };
        if !granted(&real) && !granted_resolved(&real) {
            return Err(Error::Denied(format!(
                "{path} leads to {real}, outside {what}"
            )));
        }
        Ok(path)
    }

    /// Counts an answer against the per-answer cap and the run's budget.
    fn hand(&mut self, what: &str, size: usize) -> Result<(), Error> {
        if size > MAX_ANSWER_BYTES {
            return Err(Error::TooLarge(format!(
                "{what} is {size} bytes; one answer to a check may carry {MAX_ANSWER_BYTES}"
            )));
        }
        if self.handed + size > MAX_HANDED_BYTES {
            return Err(Error::TooLarge(format!(
                "{what} would bring what this check received to more than {MAX_HANDED_BYTES} bytes"
            )));
        }
        self.handed += size;
        Ok(())
    }

    fn processes_of(&mut self, component: String) -> Result<Vec<Process>, Error> {
        if !self.grant.processes.contains(&component) {
            return Err(Error::Denied(format!(
                "processes of {component} are outside the item's grant"
            )));
        }
        let found: Vec<Process> = self
            .discovery
            .processes(&component)
            .iter()
            .map(|p| Process {
                pid: p.pid,
                binary: if secrets::is_secret_value(&p.binary) {
                    WITHHELD.into()
                } else {
                    p.binary.clone()
                },
                args: secrets::redact_args(&p.args),
            })
            .collect();
        let size = found
            .iter()
            .map(|p| p.binary.len() + p.args.iter().map(String::len).sum::<usize>())
            .sum();
        self.hand("the processes' argument lists", size)?;
        Ok(found)
    }

    fn environment_of(&mut self, pid: u32) -> Result<Vec<(String, String)>, Error> {
        let discovery = &self.discovery;
        let owner = self
            .grant
            .environment
            .iter()
            .find(|(c, _)| discovery.processes(c).iter().any(|p| p.pid == pid));
        let Some((owner, names)) = owner else {
            return Err(Error::Denied(format!(
                "the environment of pid {pid} is outside the item's grant"
            )));
        };
        // A component run inside another process, or from a config file that
        // overrides the environment, is not configured by that environment.
        if !discovery.reads_environment(owner) {
            return Ok(Vec::new());
        }
        let granted = |name: &str| {
            names.iter().any(|g| match g.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == g,
            })
        };
        let env: Vec<(String, String)> = self
            .node
            .environment(pid)?
            .into_iter()
            .filter(|(k, _)| granted(k))
            .map(|(k, v)| {
                let secret = secrets::is_secret_name(&k) || secrets::is_secret_value(&v);
                (k, if secret { WITHHELD.into() } else { v })
            })
            .collect();
        let size = env.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.hand("the environment", size)?;
        Ok(env)
    }

    fn stat_of(&mut self, path: String) -> Result<FileStat, Error> {
        let path = self.granted_path(&path, Access::Metadata)?;
        let st = self.node.stat(&path)?;
        let size =
            st.user.as_ref().map_or(0, String::len) + st.group.as_ref().map_or(0, String::len);
        self.hand("a file's metadata", size)?;
        Ok(FileStat {
            kind: match st.kind {
                n::FileKind::File => FileKind::File,
                n::FileKind::Directory => FileKind::Directory,
                n::FileKind::Symlink => FileKind::Symlink,
                n::FileKind::Other => FileKind::Other,
            },
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            user: st.user,
            group: st.group,
        })
    }

    fn listing_of(&mut self, path: String) -> Result<Vec<String>, Error> {
        let path = self.granted_path(&path, Access::Metadata)?;
        let names = self.node.list_dir(&path)?;
        let size = names.iter().map(String::len).sum();
        self.hand(&format!("the listing of {path}"), size)?;
        Ok(names)
    }

    fn value_of(&mut self, path: String, key: String) -> Result<String, Error> {
        let path = self.granted_path(&path, Access::Content)?;
        if key.len() > MAX_KEY_BYTES {
            return Err(Error::Invalid(format!(
                "a key of {} bytes: keys are at most {MAX_KEY_BYTES} bytes",
                key.len()
            )));
        }
        let parts: Vec<&str> = key
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split('.')
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(Error::Invalid(format!(
                "no key given for {path}: checks receive values of a configuration file, never the whole file"
            )));
        }
        // Any part: `password.0` walks into a secret as surely as `password`.
        if parts.iter().any(|p| secrets::is_secret_name(p)) {
            return Err(Error::Denied(format!(
                "{key} of {path} is a secret; checks are never handed secrets"
            )));
        }
        let mut value = self.node.config_value(&path, &key)?;
        if value.as_str().is_some_and(secrets::is_secret_value) {
            return Err(Error::Denied(format!(
                "{key} of {path} holds a key, certificate or token; checks are never handed secrets"
            )));
        }
        secrets::redact(&mut value);
        let value = value.to_string();
        self.hand(&format!("{key} of {path}"), value.len())?;
        Ok(value)
    }
}

impl Host for CheckState {
    fn processes(&mut self, component: String) -> Answer<Vec<Process>> {
        self.within_deadline(|s| s.processes_of(component))
    }

    fn environment(&mut self, pid: u32) -> Answer<Vec<(String, String)>> {
        self.within_deadline(|s| s.environment_of(pid))
    }

    fn stat(&mut self, path: String) -> Answer<FileStat> {
        self.within_deadline(|s| s.stat_of(path))
    }

    fn list_dir(&mut self, path: String) -> Answer<Vec<String>> {
        self.within_deadline(|s| s.listing_of(path))
    }

    fn config_value(&mut self, path: String, key: String) -> Answer<String> {
        self.within_deadline(|s| s.value_of(path, key))
    }

    fn info(&mut self) -> wasmtime::Result<NodeInfo> {
        self.check_deadline()?;
        // Never waits on a version probe still running: the check has a deadline.
        let version = self.discovery.kubernetes_version.settled().map(|(v, _)| v);
        Ok(NodeInfo {
            distribution: self.discovery.distribution.0.clone(),
            // A version read from the node is the node's text: bounded.
            kubernetes_version: version.filter(|v| v.len() <= MAX_VERSION_BYTES),
        })
    }
}

/// Longest Kubernetes version handed to a check (`1.30.4+rke2r1` is 13).
const MAX_VERSION_BYTES: usize = 64;
