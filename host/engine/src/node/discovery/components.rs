//! The Kubernetes components kubecis knows, and how their processes look.

use crate::node::Process;

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
pub(super) fn is_instance(component: &Component, p: &Process) -> bool {
    let base = p.binary.rsplit('/').next().unwrap_or(&p.binary);
    component
        .bins
        .iter()
        .any(|pattern| match pattern.split_once(' ') {
            None => base == *pattern,
            Some((bin, sub)) => base == bin && p.args.first().is_some_and(|a| a == sub),
        })
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
