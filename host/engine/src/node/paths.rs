//! Node paths: absolute, normalised without touching the filesystem.

use std::path::{Component, Path, PathBuf};

/// A path on the node, absolute and without `.` or `..` (`..` above `/` stays at `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodePath(PathBuf);

impl NodePath {
    /// `None` when the path is not absolute.
    pub fn parse(text: &str) -> Option<NodePath> {
        let path = Path::new(text);
        if !path.is_absolute() {
            return None;
        }
        let mut out = PathBuf::from("/");
        for part in path.components() {
            match part {
                Component::Normal(p) => out.push(p),
                Component::ParentDir => {
                    out.pop();
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        Some(NodePath(out))
    }

    /// Whether this path is `prefix` or lies below it.
    pub fn within(&self, prefix: &NodePath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The path relative to the node root, for cap-std (`.` for the root itself).
    pub fn relative(&self) -> &Path {
        let rel = self.0.strip_prefix("/").unwrap_or(&self.0);
        if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        }
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

impl std::fmt::Display for NodePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.display().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_dot_dot_lexically() {
        let p = NodePath::parse("/etc/kubernetes/../../etc/shadow").unwrap();
        assert_eq!(p.to_string(), "/etc/shadow");
        assert!(!p.within(&NodePath::parse("/etc/kubernetes").unwrap()));
        assert_eq!(NodePath::parse("/../../x").unwrap().to_string(), "/x");
    }

    #[test]
    fn within_is_by_component_not_by_text() {
        let pki = NodePath::parse("/etc/kubernetes/pki").unwrap();
        assert!(
            NodePath::parse("/etc/kubernetes/pki/ca.key")
                .unwrap()
                .within(&pki)
        );
        assert!(NodePath::parse("/etc/kubernetes/pki").unwrap().within(&pki));
        assert!(
            !NodePath::parse("/etc/kubernetes/pki-evil/x")
                .unwrap()
                .within(&pki)
        );
    }

    #[test]
    fn relative_paths_are_refused() {
        assert!(NodePath::parse("etc/passwd").is_none());
        assert_eq!(NodePath::parse("/").unwrap().relative(), Path::new("."));
    }
}
