//! Which Kubernetes distribution set the node up, and the evidence.

use super::Discovery;
use crate::node::{Node, NodePath};
use kubecis_sdk::flags::Flags;

impl Discovery {
    /// The Kubernetes distribution and the evidence for it: k3s and RKE2 by
    /// their own processes or data directories, RKE by its /etc/kubernetes/ssl
    /// kubeconfigs, kubeadm by its static pods, bootstrap kubeconfig or drop-in.
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
    }
}
