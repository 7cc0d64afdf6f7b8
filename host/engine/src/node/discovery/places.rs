//! Where a component's files are: the live flag when it names a file in the
//! root, else the first candidate path that exists. Candidates follow
//! kube-bench's config plus the paths of RKE, RKE2 and k3s.

use super::Discovery;
use crate::node::{Node, NodePath};
use kubecis_sdk::flags::Flags;

/// Candidate files per variable: the variable, the component's live flag
/// (and the key of its `--config` file that stands for it), which evidence
/// wins, and the candidate paths (the first is the default).
pub(super) struct Place {
    pub(super) var: &'static str,
    component: &'static str,
    flag: Option<&'static str>,
    config_key: Option<&'static str>,
    order: Order,
    candidates: &'static [&'static str],
}

/// Which evidence names a place's file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The live flag when its file exists, else the first existing candidate.
    LiveFirst,
    /// An existing candidate, else the live flag: `etcd.conf` is etcd's pod
    /// spec when there is one, its `--config-file` only otherwise.
    CandidatesFirst,
    /// While the component runs, only its own setting names the file: a
    /// kubelet that names no client CA verifies no client certificates, so
    /// no CA file on disk is its CA.
    LiveOnly,
}

pub(super) const PLACES: &[Place] = &[
    Place {
        var: "apiserver.conf",
        component: "apiserver",
        flag: None,
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "/etc/kubernetes/manifests/kube-apiserver.yml",
            "/etc/kubernetes/manifests/kube-apiserver.manifest",
            "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
        ],
    },
    Place {
        // Only the running API server's own flag names it: no file on disk
        // is its encryption configuration unless the flag says so.
        var: "apiserver.encryptionconfig",
        component: "apiserver",
        flag: Some("encryption-provider-config"),
        config_key: None,
        order: Order::LiveOnly,
        candidates: &[
            "/etc/kubernetes/enc/enc.yaml",
            "/var/lib/rancher/rke2/server/cred/encryption-config.json",
            "/var/lib/rancher/k3s/server/cred/encryption-config.json",
            "/etc/kubernetes/ssl/encryption.yaml",
        ],
    },
    Place {
        var: "controllermanager.conf",
        component: "controllermanager",
        flag: None,
        config_key: None,
        order: Order::LiveFirst,
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
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/kubernetes/controller-manager.conf",
            "/var/lib/kube-controller-manager/kubeconfig",
            "/var/lib/rancher/rke2/server/cred/controller.kubeconfig",
            "/var/lib/rancher/k3s/server/cred/controller.kubeconfig",
        ],
    },
    Place {
        var: "scheduler.conf",
        component: "scheduler",
        flag: None,
        config_key: None,
        order: Order::LiveFirst,
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
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/kubernetes/scheduler.conf",
            "/var/lib/kube-scheduler/kubeconfig",
            "/var/lib/rancher/rke2/server/cred/scheduler.kubeconfig",
            "/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig",
        ],
    },
    Place {
        var: "etcd.conf",
        component: "etcd",
        flag: Some("config-file"),
        config_key: None,
        order: Order::CandidatesFirst,
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
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/var/lib/etcd/default.etcd",
            "/var/lib/etcd/data.etcd",
            "/var/lib/etcd",
            "/var/lib/rancher/rke2/server/db/etcd",
            "/var/lib/rancher/k3s/server/db/etcd",
        ],
    },
    Place {
        var: "kubelet.conf",
        component: "kubelet",
        flag: Some("config"),
        config_key: None,
        order: Order::LiveFirst,
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
        // The kubelet's drop-in directory: its `.conf` files override the
        // `--config` file, in lexical order. Only the running kubelet's flag
        // names it.
        var: "kubelet.confdir",
        component: "kubelet",
        flag: Some("config-dir"),
        config_key: None,
        order: Order::LiveOnly,
        candidates: &[
            "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d",
            "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d",
            "/etc/kubernetes/kubelet.conf.d",
        ],
    },
    Place {
        var: "kubelet.kubeconfig",
        component: "kubelet",
        flag: Some("kubeconfig"),
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/kubernetes/kubelet.conf",
            "/etc/kubernetes/kubelet-kubeconfig.conf",
            "/var/lib/kubelet/kubeconfig",
            "/etc/kubernetes/kubelet-kubeconfig",
            "/etc/kubernetes/ssl/kubecfg-kube-node.yaml",
            "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
            "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
        ],
    },
    Place {
        var: "kubelet.svc",
        component: "kubelet",
        flag: None,
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/etc/systemd/system/kubelet.service",
            "/lib/systemd/system/kubelet.service",
            "/etc/systemd/system/k3s.service",
            "/etc/systemd/system/k3s-agent.service",
        ],
    },
    Place {
        var: "kubelet.cafile",
        component: "kubelet",
        flag: Some("client-ca-file"),
        config_key: Some("authentication.x509.clientCAFile"),
        order: Order::LiveOnly,
        candidates: &[
            "/etc/kubernetes/pki/ca.crt",
            "/etc/kubernetes/ssl/kube-ca.pem",
            "/etc/kubernetes/certs/ca.crt",
            "/var/lib/rancher/rke2/agent/client-ca.crt",
            "/var/lib/rancher/k3s/agent/client-ca.crt",
        ],
    },
    Place {
        var: "proxy.conf",
        component: "proxy",
        flag: Some("config"),
        config_key: None,
        order: Order::LiveFirst,
        candidates: &["/etc/kubernetes/proxy", "/var/lib/kube-proxy/config.conf"],
    },
    Place {
        var: "proxy.kubeconfig",
        component: "proxy",
        flag: Some("kubeconfig"),
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/kubernetes/proxy.conf",
            "/var/lib/kube-proxy/kubeconfig.conf",
            "/etc/kubernetes/ssl/kubecfg-kube-proxy.yaml",
            "/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
            "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
        ],
    },
    Place {
        var: "proxy.svc",
        component: "proxy",
        flag: None,
        config_key: None,
        order: Order::LiveFirst,
        candidates: &[
            "/etc/systemd/system/kube-proxy.service",
            "/lib/systemd/system/kube-proxy.service",
        ],
    },
];

impl Discovery {
    /// A place's file, and why the running component has none (`LiveOnly`).
    /// The file is the live setting when its file exists in the root, else
    /// the first candidate that exists (the other way round for
    /// `CandidatesFirst`), else the live value or the first candidate.
    pub(super) fn locate(&self, node: &Node, place: &Place) -> (String, Option<String>) {
        let exists = |p: &str| NodePath::parse(p).is_some_and(|p| node.stat(&p).is_ok());
        let live = self.live_value(node, place);
        let absent = (place.order == Order::LiveOnly
            && live.is_none()
            && !self.processes(place.component).is_empty())
        .then(|| {
            let mut why = format!(
                "the running {} names no --{}",
                place.component,
                place.flag.unwrap_or_default()
            );
            if let Some(key) = place.config_key {
                why.push_str(&format!(" (nor {key} in its config file)"));
            }
            why
        });
        let live_file = live.as_ref().filter(|v| exists(v));
        let candidate = place.candidates.iter().find(|c| exists(c));
        let file = match (live_file, candidate) {
            (Some(_), Some(c)) if place.order == Order::CandidatesFirst => (*c).to_owned(),
            (Some(v), _) => v.clone(),
            (None, Some(c)) => (*c).to_owned(),
            (None, None) => live.unwrap_or_else(|| place.candidates[0].to_owned()),
        };
        (file, absent)
    }

    /// The place's flag on the component's first process, else its config
    /// key in the file the process's `--config` names.
    fn live_value(&self, node: &Node, place: &Place) -> Option<String> {
        let process = self.processes(place.component).first()?;
        let flags = Flags::parse(&process.args);
        if let Some(v) = place
            .flag
            .and_then(|f| flags.get(f))
            .filter(|v| !v.is_empty())
        {
            return Some(v.into_owned());
        }
        let config = NodePath::parse(&flags.get("config")?)?;
        let value = node.config_value(&config, place.config_key?).ok()?;
        value.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
    }
}
