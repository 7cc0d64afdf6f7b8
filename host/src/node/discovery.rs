//! Which Kubernetes components run on a node, where their files are, and
//! which roles the node has. Facts (binary names, candidate paths) follow
//! kube-bench's config; the live command line always beats a guessed path.

use super::{Node, NodePath, Process};
use kubecis_sdk::flags::Flags;
use std::collections::BTreeMap;

/// A Kubernetes component kubecis knows how to find.
pub struct Component {
    pub name: &'static str,
    /// argv patterns: a binary name, or `binary subcommand`.
    bins: &'static [&'static str],
}

pub const COMPONENTS: &[Component] = &[
    Component {
        name: "apiserver",
        bins: &[
            "kube-apiserver",
            "hyperkube apiserver",
            "hyperkube kube-apiserver",
            "apiserver",
        ],
    },
    Component {
        name: "controllermanager",
        bins: &[
            "kube-controller-manager",
            "kube-controller",
            "hyperkube controller-manager",
            "hyperkube kube-controller-manager",
            "controller-manager",
        ],
    },
    Component {
        name: "scheduler",
        bins: &[
            "kube-scheduler",
            "hyperkube scheduler",
            "hyperkube kube-scheduler",
            "scheduler",
        ],
    },
    Component {
        name: "etcd",
        bins: &["etcd"],
    },
    Component {
        name: "kubelet",
        bins: &["kubelet", "hyperkube kubelet"],
    },
    Component {
        name: "proxy",
        bins: &[
            "kube-proxy",
            "hyperkube proxy",
            "hyperkube kube-proxy",
            "proxy",
        ],
    },
];

/// Whether a process is an instance of a component.
fn is_instance(component: &Component, p: &Process) -> bool {
    let base = p.binary.rsplit('/').next().unwrap_or(&p.binary);
    component
        .bins
        .iter()
        .any(|pattern| match pattern.split_once(' ') {
            None => base == *pattern,
            Some((bin, sub)) => base == bin && p.args.first().is_some_and(|a| a == sub),
        })
}

/// Candidate files per variable: (variable, live flag of the component, candidates, default).
struct Place {
    var: &'static str,
    component: &'static str,
    flag: Option<&'static str>,
    candidates: &'static [&'static str],
}

const PLACES: &[Place] = &[
    Place {
        var: "apiserver.conf",
        component: "apiserver",
        flag: None,
        candidates: &[
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "/etc/kubernetes/manifests/kube-apiserver.yml",
            "/etc/kubernetes/manifests/kube-apiserver.manifest",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
        ],
    },
    Place {
        var: "controllermanager.conf",
        component: "controllermanager",
        flag: None,
        candidates: &[
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            "/etc/kubernetes/manifests/kube-controller-manager.yml",
            "/etc/kubernetes/manifests/kube-controller-manager.manifest",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-controller-manager.yaml",
        ],
    },
    Place {
        var: "controllermanager.kubeconfig",
        component: "controllermanager",
        flag: Some("kubeconfig"),
        candidates: &[
            "/etc/kubernetes/controller-manager.conf",
            "/var/lib/kube-controller-manager/kubeconfig",
            "/var/lib/rancher/rke2/server/cred/controller.kubeconfig",
        ],
    },
    Place {
        var: "scheduler.conf",
        component: "scheduler",
        flag: None,
        candidates: &[
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            "/etc/kubernetes/manifests/kube-scheduler.yml",
            "/etc/kubernetes/manifests/kube-scheduler.manifest",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-scheduler.yaml",
        ],
    },
    Place {
        var: "scheduler.kubeconfig",
        component: "scheduler",
        flag: Some("kubeconfig"),
        candidates: &[
            "/etc/kubernetes/scheduler.conf",
            "/var/lib/kube-scheduler/kubeconfig",
            "/var/lib/rancher/rke2/server/cred/scheduler.kubeconfig",
        ],
    },
    Place {
        var: "etcd.conf",
        component: "etcd",
        flag: Some("config-file"),
        candidates: &[
            "/etc/kubernetes/manifests/etcd.yaml",
            "/etc/kubernetes/manifests/etcd.yml",
            "/etc/kubernetes/manifests/etcd.manifest",
            "/etc/etcd/etcd.conf",
            "/var/lib/rancher/rke2/agent/pod-manifests/etcd.yaml",
        ],
    },
    Place {
        var: "etcd.datadir",
        component: "etcd",
        flag: Some("data-dir"),
        candidates: &[
            "/var/lib/etcd/default.etcd",
            "/var/lib/etcd/data.etcd",
            "/var/lib/etcd",
            "/var/lib/rancher/rke2/server/db/etcd",
        ],
    },
    Place {
        var: "kubelet.conf",
        component: "kubelet",
        flag: Some("config"),
        candidates: &[
            "/var/lib/kubelet/config.yaml",
            "/etc/kubernetes/kubelet-config.yaml",
            "/etc/kubernetes/kubelet/kubelet-config.json",
            "/var/lib/kubelet/config.yml",
            "/etc/kubernetes/kubelet/config.json",
            "/home/kubernetes/kubelet-config.yaml",
        ],
    },
    Place {
        var: "kubelet.kubeconfig",
        component: "kubelet",
        flag: Some("kubeconfig"),
        candidates: &[
            "/etc/kubernetes/kubelet.conf",
            "/etc/kubernetes/kubelet-kubeconfig.conf",
            "/var/lib/kubelet/kubeconfig",
            "/etc/kubernetes/kubelet-kubeconfig",
            "/etc/kubernetes/ssl/kubecfg-kube-node.yaml",
            "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
        ],
    },
    Place {
        var: "kubelet.svc",
        component: "kubelet",
        flag: None,
        candidates: &[
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/etc/systemd/system/kubelet.service",
            "/lib/systemd/system/kubelet.service",
        ],
    },
    Place {
        var: "kubelet.cafile",
        component: "kubelet",
        flag: Some("client-ca-file"),
        candidates: &[
            "/etc/kubernetes/pki/ca.crt",
            "/etc/kubernetes/ssl/kube-ca.pem",
            "/etc/kubernetes/certs/ca.crt",
            "/var/lib/rancher/rke2/agent/client-ca.crt",
        ],
    },
    Place {
        var: "proxy.conf",
        component: "proxy",
        flag: Some("config"),
        candidates: &["/etc/kubernetes/proxy", "/var/lib/kube-proxy/config.conf"],
    },
    Place {
        var: "proxy.kubeconfig",
        component: "proxy",
        flag: Some("kubeconfig"),
        candidates: &[
            "/etc/kubernetes/proxy.conf",
            "/var/lib/kube-proxy/kubeconfig.conf",
            "/etc/kubernetes/ssl/kubecfg-kube-proxy.yaml",
            "/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
        ],
    },
    Place {
        var: "proxy.svc",
        component: "proxy",
        flag: None,
        candidates: &[
            "/etc/systemd/system/kube-proxy.service",
            "/lib/systemd/system/kube-proxy.service",
        ],
    },
];

/// What discovery found on a node.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Running processes per component name.
    pub running: BTreeMap<&'static str, Vec<Process>>,
    /// Variable values for bundles (`kubelet.conf` → `/var/lib/kubelet/config.yaml`).
    pub vars: BTreeMap<String, String>,
    /// The Kubernetes version the node shows, and where it was read.
    pub kubernetes_version: Option<(String, String)>,
    /// kubeadm, rke, rke2, k3s or unknown, and the evidence.
    pub distribution: (String, String),
}

impl Discovery {
    pub fn run(node: &Node) -> Discovery {
        let mut d = Discovery::default();
        for component in COMPONENTS {
            let found: Vec<Process> = node
                .processes()
                .iter()
                .filter(|p| is_instance(component, p))
                .cloned()
                .collect();
            if !found.is_empty() {
                d.running.insert(component.name, found);
            }
        }
        for place in PLACES {
            let value = d.locate(node, place);
            d.vars.insert(place.var.to_owned(), value);
        }
        d.kubernetes_version = d.find_kubernetes_version(node);
        d.distribution = d.find_distribution(node);
        d
    }

    /// Processes of a component (empty when it is not running).
    pub fn processes(&self, component: &str) -> &[Process] {
        self.running.get(component).map_or(&[], Vec::as_slice)
    }

    pub fn is_running(&self, component: &str) -> bool {
        self.running.contains_key(component)
    }

    /// The live flag's value when it names a file in the root, else the first
    /// candidate that exists, else the live value or the first candidate.
    fn locate(&self, node: &Node, place: &Place) -> String {
        let exists = |p: &str| NodePath::parse(p).is_some_and(|p| node.stat(&p).is_ok());
        let live = place
            .flag
            .and_then(|flag| self.live_value(node, place.component, flag));
        if let Some(v) = live.as_ref().filter(|v| exists(v)) {
            return v.clone();
        }
        if let Some(c) = place.candidates.iter().find(|c| exists(c)) {
            return (*c).to_owned();
        }
        live.unwrap_or_else(|| place.candidates[0].to_owned())
    }

    /// A flag of the component's first process; for the kubelet's client CA also
    /// its config file's `authentication.x509.clientCAFile`.
    fn live_value(&self, node: &Node, component: &str, flag: &str) -> Option<String> {
        let process = self.processes(component).first()?;
        let flags = Flags::parse(&process.args);
        if let Some(v) = flags.get(flag).filter(|v| !v.is_empty()) {
            return Some(v.into_owned());
        }
        if component == "kubelet" && flag == "client-ca-file" {
            let config = NodePath::parse(&flags.get("config")?)?;
            let value = node
                .config_value(&config, "authentication.x509.clientCAFile")
                .ok()?;
            return value.as_str().map(str::to_owned);
        }
        None
    }
}

impl Discovery {
    /// The Kubernetes version this node root shows: the image tag of a
    /// control-plane static pod (`registry.k8s.io/kube-apiserver:v1.26.9`).
    /// Returns the version and where it was read.
    fn find_kubernetes_version(&self, node: &Node) -> Option<(String, String)> {
        for var in ["apiserver.conf", "controllermanager.conf", "scheduler.conf"] {
            let path = NodePath::parse(self.vars.get(var)?)?;
            let Ok(image) = node.config_value(&path, "spec.containers.0.image") else {
                continue;
            };
            if let Some(version) = image.as_str().and_then(version_of_image) {
                return Some((version, format!("image tag in {path}")));
            }
        }
        None
    }
}

impl Discovery {
    /// The Kubernetes distribution and the evidence for it: k3s and RKE2 by
    /// their own processes or data directories, RKE by its /etc/kubernetes/ssl
    /// kubeconfigs, kubeadm by its static pods, bootstrap kubeconfig or drop-in.
    fn find_distribution(&self, node: &Node) -> (String, String) {
        let exists = |p: &str| NodePath::parse(p).is_some_and(|p| node.stat(&p).is_ok());
        let runs = |bin: &str| {
            node.processes()
                .iter()
                .any(|p| p.binary.rsplit('/').next() == Some(bin))
        };
        let kubelet_flag = |flag: &str| {
            self.processes("kubelet")
                .first()
                .and_then(|p| Flags::parse(&p.args).get(flag).map(|v| v.into_owned()))
        };
        let rules: [(&str, bool, &str); 9] = [
            ("k3s", runs("k3s"), "a k3s process runs"),
            (
                "k3s",
                exists("/var/lib/rancher/k3s"),
                "/var/lib/rancher/k3s exists",
            ),
            ("rke2", runs("rke2"), "an rke2 process runs"),
            (
                "rke2",
                exists("/var/lib/rancher/rke2"),
                "/var/lib/rancher/rke2 exists",
            ),
            (
                "rke",
                kubelet_flag("kubeconfig").is_some_and(|k| k.starts_with("/etc/kubernetes/ssl/")),
                "the kubelet's kubeconfig is under /etc/kubernetes/ssl",
            ),
            (
                "rke",
                exists("/etc/kubernetes/ssl/kubecfg-kube-node.yaml"),
                "/etc/kubernetes/ssl/kubecfg-kube-node.yaml exists",
            ),
            (
                "kubeadm",
                exists("/etc/kubernetes/manifests/kube-apiserver.yaml"),
                "/etc/kubernetes/manifests/kube-apiserver.yaml exists",
            ),
            (
                "kubeadm",
                kubelet_flag("bootstrap-kubeconfig")
                    .is_some_and(|k| k == "/etc/kubernetes/bootstrap-kubelet.conf"),
                "the kubelet joins with /etc/kubernetes/bootstrap-kubelet.conf",
            ),
            (
                "kubeadm",
                exists("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf")
                    || exists("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"),
                "the kubelet has kubeadm's 10-kubeadm.conf drop-in",
            ),
        ];
        rules.iter().find(|(_, holds, _)| *holds).map_or(
            (
                "unknown".to_owned(),
                "no distribution's traces found".to_owned(),
            ),
            |(d, _, why)| ((*d).to_owned(), (*why).to_owned()),
        )
    }
}

/// `registry.k8s.io/kube-apiserver:v1.26.9` → `1.26.9`.
fn version_of_image(image: &str) -> Option<String> {
    let tag = image.rsplit_once(':')?.1.trim_start_matches('v');
    let core = tag.split(['-', '+', '_']).next()?;
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric.then(|| core.to_owned())
}

/// The node types of a benchmark (its sections).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NodeType {
    Master,
    Etcd,
    Controlplane,
    Node,
    Policies,
}

impl NodeType {
    pub const ALL: [NodeType; 5] = [
        NodeType::Master,
        NodeType::Etcd,
        NodeType::Controlplane,
        NodeType::Node,
        NodeType::Policies,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Master => "master",
            NodeType::Etcd => "etcd",
            NodeType::Controlplane => "controlplane",
            NodeType::Node => "node",
            NodeType::Policies => "policies",
        }
    }

    pub fn parse(text: &str) -> Option<NodeType> {
        NodeType::ALL
            .into_iter()
            .find(|t| t.as_str() == text.trim().to_ascii_lowercase())
    }

    /// The section types a node of these running components is checked against:
    /// control-plane components make it master (with its controlplane and
    /// policies sections), etcd makes it etcd, a kubelet or proxy makes it a node.
    pub fn from_running(d: &Discovery) -> Vec<NodeType> {
        let mut types = Vec::new();
        if ["apiserver", "controllermanager", "scheduler"]
            .iter()
            .any(|c| d.is_running(c))
        {
            types.extend([NodeType::Master, NodeType::Controlplane, NodeType::Policies]);
        }
        if d.is_running("etcd") {
            types.push(NodeType::Etcd);
        }
        if d.is_running("kubelet") || d.is_running("proxy") {
            types.push(NodeType::Node);
        }
        types.sort();
        types
    }
}

impl std::fmt::Display for NodeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Process {
        let mut parts = line.split_whitespace().map(str::to_owned);
        Process {
            pid: 1,
            binary: parts.next().unwrap(),
            args: parts.collect(),
        }
    }

    fn component(name: &str) -> &'static Component {
        COMPONENTS.iter().find(|c| c.name == name).unwrap()
    }

    /// A node root with these processes (argv joined by spaces) and directories.
    fn root_with(procs: &[&str], dirs: &[&str]) -> (tempfile::TempDir, Node) {
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

    fn distribution(procs: &[&str], dirs: &[&str]) -> String {
        let (_tmp, node) = root_with(procs, dirs);
        Discovery::run(&node).distribution.0
    }

    #[test]
    fn distributions_by_their_traces() {
        assert_eq!(
            distribution(
                &["/usr/local/bin/k3s server --write-kubeconfig-mode 644"],
                &[]
            ),
            "k3s"
        );
        assert_eq!(
            distribution(
                &["/usr/local/bin/k3s agent"],
                &["/var/lib/rancher/k3s/agent"]
            ),
            "k3s"
        );
        assert_eq!(
            distribution(
                &[
                    "/usr/local/bin/rke2 server",
                    "/var/lib/rancher/rke2/data/v1.28/bin/kubelet --v=2"
                ],
                &[]
            ),
            "rke2"
        );
        assert_eq!(
            distribution(
                &["kubelet --kubeconfig=/etc/kubernetes/ssl/kubecfg-kube-node.yaml"],
                &["/etc/kubernetes/ssl"]
            ),
            "rke"
        );
        assert_eq!(
            distribution(
                &["/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"],
                &[]
            ),
            "kubeadm"
        );
        assert_eq!(
            distribution(&["/usr/bin/kubelet --config=/etc/kubelet.yaml"], &[]),
            "unknown"
        );
    }

    #[test]
    fn versions_from_image_tags() {
        assert_eq!(
            version_of_image("registry.k8s.io/kube-apiserver:v1.26.9").as_deref(),
            Some("1.26.9")
        );
        assert_eq!(
            version_of_image("rancher/hyperkube:v1.15.12-rancher2").as_deref(),
            Some("1.15.12")
        );
        assert_eq!(
            version_of_image("localhost:5000/kube-apiserver:latest"),
            None
        );
        assert_eq!(version_of_image("kube-apiserver"), None);
    }

    #[test]
    fn binaries_match_by_base_name_exactly() {
        assert!(is_instance(
            component("apiserver"),
            &p("/usr/local/bin/kube-apiserver --x=1")
        ));
        assert!(is_instance(
            component("kubelet"),
            &p("/usr/bin/hyperkube kubelet --x")
        ));
        assert!(!is_instance(
            component("kubelet"),
            &p("/usr/bin/hyperkube proxy --x")
        ));
        assert!(!is_instance(
            component("etcd"),
            &p("/usr/bin/etcdctl get /")
        ));
        assert!(!is_instance(
            component("apiserver"),
            &p("grep kube-apiserver")
        ));
    }
}
