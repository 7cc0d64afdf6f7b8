//! The `kubecis:check/node` interface as the host serves it: facts from the
//! node, only within the running item's grant.

use super::CheckState;
use super::bindings::kubecis::check::node::{Error, FileKind, FileStat, Host, Process};
use crate::node::{self as n, NodeError, NodePath};

/// Most bytes one answer may carry into a check.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

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

impl CheckState {
    /// The path, normalised, if the grant covers it.
    fn granted_path(&self, text: &str) -> Result<NodePath, Error> {
        let path = NodePath::parse(text)
            .ok_or_else(|| Error::Invalid(format!("{text:?} is not an absolute path")))?;
        let granted = |p: &NodePath| self.grant.paths.iter().any(|g| p.within(g));
        if !granted(&path) {
            return Err(Error::Denied(format!("{path} is outside the item's grant")));
        }
        // A symlink inside the grant must not lead a check to what it was not granted.
        let real = self.node.resolve(&path)?;
        if !granted(&real) {
            return Err(Error::Denied(format!(
                "{path} leads to {real}, outside the item's grant"
            )));
        }
        Ok(path)
    }

    fn sized<T>(&self, what: &str, size: usize, value: T) -> Result<T, Error> {
        if size > MAX_ANSWER_BYTES {
            return Err(Error::TooLarge(format!(
                "{what} is {size} bytes; a check may receive {MAX_ANSWER_BYTES}"
            )));
        }
        Ok(value)
    }
}

impl Host for CheckState {
    fn processes(&mut self, component: String) -> Result<Vec<Process>, Error> {
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
                binary: p.binary.clone(),
                args: p.args.clone(),
            })
            .collect();
        let size = found.iter().flat_map(|p| &p.args).map(String::len).sum();
        self.sized("the argument lists", size, found)
    }

    fn environment(&mut self, pid: u32) -> Result<Vec<(String, String)>, Error> {
        let owner = self
            .grant
            .environment
            .iter()
            .find(|c| self.discovery.processes(c).iter().any(|p| p.pid == pid));
        let Some(owner) = owner else {
            return Err(Error::Denied(format!(
                "the environment of pid {pid} is outside the item's grant"
            )));
        };
        // A component run inside another process, or from a config file that
        // overrides the environment, is not configured by that environment.
        if !self.discovery.reads_environment(owner) {
            return Ok(Vec::new());
        }
        let env = self.node.environment(pid)?;
        let size = env.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.sized("the environment", size, env)
    }

    fn stat(&mut self, path: String) -> Result<FileStat, Error> {
        let path = self.granted_path(&path)?;
        let st = self.node.stat(&path)?;
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

    fn list_dir(&mut self, path: String) -> Result<Vec<String>, Error> {
        let path = self.granted_path(&path)?;
        let names = self.node.list_dir(&path)?;
        let size = names.iter().map(String::len).sum();
        self.sized(&format!("the listing of {path}"), size, names)
    }

    fn config_value(&mut self, path: String, key: String) -> Result<String, Error> {
        let path = self.granted_path(&path)?;
        let value = self.node.config_value(&path, &key)?.to_string();
        self.sized(&format!("{key} of {path}"), value.len(), value)
    }
}
