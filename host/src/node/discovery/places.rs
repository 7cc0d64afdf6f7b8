//! Where a component's files are: the live flag when it names a file in the
//! root, else the first candidate path that exists. Candidates follow
//! kube-bench's config plus the paths of RKE, RKE2 and k3s.

use super::Discovery;
use crate::node::{Node, NodePath};
use kubecis_sdk::flags::Flags;

/// Candidate files per variable: (variable, live flag of the component, candidates, default).
pub(super) struct Place {
    pub(super) var: &'static str,
    component: &'static str,
    flag: Option<&'static str>,
    /// An existing candidate beats the live flag: `etcd.conf` is etcd's pod
    /// spec when there is one, its `--config-file` only otherwise.
    candidates_first: bool,
    candidates: &'static [&'static str],
}

pub(super) const PLACES: &[Place] = &[
    Place {
        var: "apiserver.conf",
        component: "apiserver",
        flag: None,
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: true,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
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
        candidates_first: false,
        candidates: &["/etc/kubernetes/proxy", "/var/lib/kube-proxy/config.conf"],
    },
    Place {
        var: "proxy.kubeconfig",
        component: "proxy",
        flag: Some("kubeconfig"),
        candidates_first: false,
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
        candidates_first: false,
        candidates: &[
            "/etc/systemd/system/kube-proxy.service",
            "/lib/systemd/system/kube-proxy.service",
        ],
    },
];

impl Discovery {
    /// The live flag's value when it names a file in the root, else the first
    /// candidate that exists (or the other way round, for `candidates_first`),
    /// else the live value or the first candidate.
    pub(super) fn locate(&self, node: &Node, place: &Place) -> String {
        let exists = |p: &str| NodePath::parse(p).is_some_and(|p| node.stat(&p).is_ok());
        let live = place
            .flag
            .and_then(|flag| self.live_value(node, place.component, flag));
        let live_file = live.as_ref().filter(|v| exists(v));
        let candidate = place.candidates.iter().find(|c| exists(c));
        match (live_file, candidate) {
            (Some(_), Some(c)) if place.candidates_first => return (*c).to_owned(),
            (Some(v), _) => return v.clone(),
            (None, Some(c)) => return (*c).to_owned(),
            (None, None) => {}
        }
        live.unwrap_or_else(|| place.candidates[0].to_owned())
    }

    /// Why a place's file is not this node's, though a candidate may exist:
    /// a running kubelet that names no client CA verifies no client
    /// certificates, so no CA file on disk is its CA.
    pub(super) fn absence(&self, node: &Node, place: &Place) -> Option<String> {
        if place.var != "kubelet.cafile" || self.processes("kubelet").is_empty() {
            return None;
        }
        match self.live_value(node, "kubelet", "client-ca-file") {
            Some(_) => None,
            None => Some(
                "the kubelet names no client CA file (neither --client-ca-file nor \
                 authentication.x509.clientCAFile in its config)"
                    .to_owned(),
            ),
        }
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
