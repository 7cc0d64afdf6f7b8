//! Which Kubernetes components run on a node, with which arguments, where
//! their files are, which version and distribution the node runs. Facts
//! (binary names, candidate paths) follow kube-bench's config; the live
//! command line always beats a guessed path.

mod command;
mod components;
mod distribution;
mod etcd_config;
mod k3s;
mod node_type;
mod places;
mod version;

pub use components::{COMPONENTS, Component};
pub use distribution::DISTRIBUTIONS;
pub use kubecis_model::NodeType;
pub use node_type::node_types;

/// The `${variables}` bundles may use: one per place discovery looks for.
pub fn variables() -> impl Iterator<Item = &'static str> {
    places::PLACES.iter().map(|p| p.var)
}

/// Whether a grant's component is one kubecis can find.
pub fn is_component(name: &str) -> bool {
    COMPONENTS.iter().any(|c| c.name == name)
}

/// The components kubecis knows, by name.
pub fn component_names() -> Vec<&'static str> {
    COMPONENTS.iter().map(|c| c.name).collect()
}
pub use version::KubernetesVersion;

use super::{Node, NodePath, Process};
use kubecis_sdk::flags::Flags;
use std::collections::BTreeMap;

/// What discovery found on a node.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Running processes per component name.
    pub running: BTreeMap<&'static str, Vec<Process>>,
    /// Components whose arguments are not their own command line, and where
    /// they were read (k3s's log, etcd's `--config-file`).
    pub arguments_from: BTreeMap<&'static str, String>,
    /// Components that run but whose arguments cannot be read, and why.
    pub unreadable: BTreeMap<&'static str, String>,
    /// Variable values for bundles (`kubelet.conf` → `/var/lib/kubelet/config.yaml`).
    pub vars: BTreeMap<String, String>,
    /// Variables whose file this node's component does not have, and why.
    pub absent: BTreeMap<String, String>,
    /// The Kubernetes version the node shows, and where it was read.
    pub kubernetes_version: KubernetesVersion,
    /// kubeadm, rke, rke2, k3s or unknown, and the evidence.
    pub distribution: (String, String),
    /// The version k3s logged at start-up, and where.
    k3s_version: Option<(String, String)>,
}

impl Discovery {
    pub fn run(node: &Node) -> Discovery {
        let mut d = Discovery::default();
        for component in COMPONENTS {
            let found: Vec<Process> = node
                .processes()
                .iter()
                .filter(|p| components::is_instance(component, p))
                .cloned()
                .collect();
            if !found.is_empty() {
                d.running.insert(component.name, found);
            }
        }
        d.apply_etcd_config_file(node);
        d.find_k3s_components(node);
        for place in places::PLACES {
            let (file, absent) = d.locate(node, place);
            if let Some(why) = absent {
                d.absent.insert(place.var.to_owned(), why);
            }
            d.vars.insert(place.var.to_owned(), file);
        }
        d.kubernetes_version = d.find_kubernetes_version(node);
        d.distribution = d.find_distribution(node);
        d
    }

    /// Processes of a component (empty when it is not running).
    pub fn processes(&self, component: &str) -> &[Process] {
        self.running.get(component).map_or(&[], Vec::as_slice)
    }

    /// Every component that runs, whether or not its arguments can be read.
    pub fn components(&self) -> std::collections::BTreeSet<&'static str> {
        self.running
            .keys()
            .chain(self.unreadable.keys())
            .copied()
            .collect()
    }

    /// Whether the component runs, whether or not its arguments can be read.
    pub fn is_running(&self, component: &str) -> bool {
        self.running.contains_key(component) || self.unreadable.contains_key(component)
    }

    /// Whether a component reads its own environment: one whose arguments
    /// come from elsewhere (a config file etcd prefers, k3s's process) does not.
    pub fn reads_environment(&self, component: &str) -> bool {
        !self.arguments_from.contains_key(component)
    }

    /// etcd given `--config-file` runs with that file's settings only.
    fn apply_etcd_config_file(&mut self, node: &Node) {
        let Some(processes) = self.running.get_mut("etcd") else {
            return;
        };
        for process in processes.iter_mut() {
            let Some(file) = Flags::parse(&process.args)
                .get("config-file")
                .filter(|f| !f.is_empty())
                .map(|f| f.into_owned())
            else {
                continue;
            };
            let read = NodePath::parse(&file)
                .ok_or_else(|| format!("--config-file={file} is not an absolute path"))
                .and_then(|path| etcd_config::read(node, &path));
            match read {
                Ok(args) => {
                    // Kept first so that the file itself stays known (`${etcd.conf}`).
                    process.args = std::iter::once(format!("--config-file={file}"))
                        .chain(args)
                        .collect();
                    self.arguments_from.insert(
                        "etcd",
                        format!(
                            "etcd's --config-file {file} (etcd then ignores its other flags and its environment)"
                        ),
                    );
                }
                Err(e) => {
                    self.unreadable.insert(
                        "etcd",
                        format!(
                            "etcd takes its settings from --config-file, which cannot be read: {e}"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod testing {
    use crate::node::Node;

    /// A node root with these processes (argv joined by spaces) and directories.
    pub fn root_with(procs: &[&str], dirs: &[&str]) -> (tempfile::TempDir, Node) {
        let tmp = tempfile::tempdir().unwrap();
        for (i, line) in procs.iter().enumerate() {
            let dir = tmp.path().join(format!("proc/{}", 100 + i));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("cmdline"), line.replace(' ', "\0") + "\0").unwrap();
        }
        for d in dirs {
            std::fs::create_dir_all(tmp.path().join(d.trim_start_matches('/'))).unwrap();
        }
        let node = Node::at_root(tmp.path(), None).unwrap();
        (tmp, node)
    }
}
