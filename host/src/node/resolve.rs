//! Symlink resolution inside a node root, the way the node itself sees paths:
//! an absolute link target starts again at the node root (never at the host's
//! `/`), and a relative target that climbs above the root is refused.

use super::{NodeError, NodePath};
use cap_std::fs::Dir;
use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};

/// Links followed before giving up, as Linux's MAXSYMLINKS.
const MAX_LINKS: usize = 40;

/// The path with every symlink resolved; the result names no symlink.
pub fn resolve(root: &Dir, path: &NodePath) -> Result<NodePath, NodeError> {
    let mut todo: VecDeque<PathBuf> = parts(path.as_path()).collect();
    let mut done = PathBuf::new(); // relative to the root
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        if part == Path::new("..") {
            if !done.pop() {
                return Err(NodeError::Denied(format!(
                    "{path} leads outside the node root"
                )));
            }
            continue;
        }
        let next = done.join(&part);
        let is_link = root
            .symlink_metadata(&next)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false); // a missing entry is reported by whoever opens it
        if !is_link {
            done = next;
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(NodeError::Invalid(format!(
                "{path}: too many levels of symbolic links"
            )));
        }
        let target = root
            .read_link(&next)
            .map_err(|e| NodeError::Invalid(format!("{path}: {e}")))?;
        if target.is_absolute() {
            done = PathBuf::new();
        }
        for (i, p) in parts(&target).enumerate() {
            todo.insert(i, p);
        }
    }
    let text = format!("/{}", done.display());
    Ok(NodePath::parse(&text).expect("absolute by construction"))
}

fn parts(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    path.components().filter_map(|c| match c {
        Component::Normal(p) => Some(PathBuf::from(p)),
        Component::ParentDir => Some(PathBuf::from("..")),
        _ => None,
    })
}
