//! Which Kubernetes distribution set the node up, and the evidence.

use super::Discovery;
use crate::node::{Node, NodePath};
use kubecis_sdk::flags::Flags;

/// Every distribution discovery can name (bundles' `remediation_for` keys).
pub const DISTRIBUTIONS: [&str; 7] = ["kubeadm", "k3s", "rke2", "rke", "eks", "gke", "aks"];

impl Discovery {
    /// The Kubernetes distribution and the evidence for it: k3s and RKE2 by
    /// their own processes or data directories, RKE by its /etc/kubernetes/ssl
    /// kubeconfigs, kubeadm by its static pods, bootstrap kubeconfig or drop-in,
    /// EKS, GKE and AKS by what their node images install.
    pub(super) fn find_distribution(&self, node: &Node) -> (String, String) {
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
        let rules: [(&str, bool, &str); 12] = [
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
            // Managed clouds' worker images, after kubeadm: a kubeadm cluster
            // on cloud VMs may carry a provider's files too.
            (
                "eks",
                exists("/etc/eks"),
                "/etc/eks exists (an EKS-optimized node image)",
            ),
            (
                "gke",
                exists("/home/kubernetes/kubelet-config.yaml") || exists("/home/kubernetes/bin"),
                "GKE's /home/kubernetes holds the kubelet",
            ),
            (
                "aks",
                exists("/etc/kubernetes/azure.json") && exists("/etc/default/kubelet"),
                "/etc/kubernetes/azure.json and /etc/default/kubelet exist (an AKS node)",
            ),
        ];
        debug_assert!(rules.iter().all(|(d, _, _)| DISTRIBUTIONS.contains(d)));
        rules.iter().find(|(_, holds, _)| *holds).map_or(
            (
                "unknown".to_owned(),
                "no distribution's traces found".to_owned(),
            ),
            |(d, _, why)| ((*d).to_owned(), (*why).to_owned()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::root_with;
    use super::*;

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
        let kubelet = ["/usr/bin/kubelet --config=/etc/kubernetes/kubelet/kubelet-config.json"];
        assert_eq!(distribution(&kubelet, &["/etc/eks"]), "eks");
        assert_eq!(distribution(&kubelet, &["/home/kubernetes/bin"]), "gke");
        assert_eq!(
            distribution(
                &kubelet,
                &["/etc/kubernetes/azure.json", "/etc/default/kubelet"]
            ),
            "aks"
        );
        // A kubeadm cluster on cloud VMs keeps its own name.
        assert_eq!(
            distribution(
                &["/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"],
                &[
                    "/etc/eks",
                    "/etc/kubernetes/azure.json",
                    "/etc/default/kubelet"
                ]
            ),
            "kubeadm"
        );
    }
}
