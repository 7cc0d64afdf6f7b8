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
            .read_link_contents(&next)
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

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;
    use std::os::unix::fs::symlink;

    fn node_root() -> (tempfile::TempDir, Dir) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("etc/kubernetes")).unwrap();
        std::fs::create_dir_all(tmp.path().join("var/lib/kubelet")).unwrap();
        std::fs::write(tmp.path().join("var/lib/kubelet/config.yaml"), "x").unwrap();
        let dir = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        (tmp, dir)
    }

    fn at(root: &Dir, p: &str) -> Result<String, NodeError> {
        resolve(root, &NodePath::parse(p).unwrap()).map(|p| p.to_string())
    }

    #[test]
    fn absolute_targets_start_again_at_the_node_root() {
        let (tmp, root) = node_root();
        symlink(
            "/var/lib/kubelet/config.yaml",
            tmp.path().join("etc/kubernetes/kubelet.yaml"),
        )
        .unwrap();
        assert_eq!(
            at(&root, "/etc/kubernetes/kubelet.yaml").unwrap(),
            "/var/lib/kubelet/config.yaml"
        );
    }

    #[test]
    fn relative_targets_and_chains_resolve() {
        let (tmp, root) = node_root();
        symlink("../../var/lib", tmp.path().join("etc/kubernetes/lib")).unwrap();
        symlink("lib/kubelet", tmp.path().join("etc/kubernetes/k")).unwrap();
        assert_eq!(
            at(&root, "/etc/kubernetes/k/config.yaml").unwrap(),
            "/var/lib/kubelet/config.yaml"
        );
    }

    #[test]
    fn climbing_above_the_root_and_loops_are_refused() {
        let (tmp, root) = node_root();
        symlink("../../../../outside", tmp.path().join("etc/kubernetes/up")).unwrap();
        assert!(matches!(
            at(&root, "/etc/kubernetes/up"),
            Err(NodeError::Denied(_))
        ));
        symlink("loop-b", tmp.path().join("etc/loop-a")).unwrap();
        symlink("loop-a", tmp.path().join("etc/loop-b")).unwrap();
        assert!(
            matches!(at(&root, "/etc/loop-a"), Err(NodeError::Invalid(m)) if m.contains("too many levels"))
        );
    }

    #[test]
    fn missing_paths_resolve_to_themselves() {
        let (_tmp, root) = node_root();
        assert_eq!(
            at(&root, "/etc/kubernetes/absent.conf").unwrap(),
            "/etc/kubernetes/absent.conf"
        );
    }
}
