//! A live node: processes named like the Kubernetes components and a real etcd
//! (Debian's etcd-server), in a private mount and PID namespace so the test
//! never touches the machine's real paths. Needs root, unshare, gcc and etcd.

use crate::support;

use kubecis_model::report::{Report, State};
use std::process::Command;

fn live_scan() -> Report {
    let etcd = Command::new("etcd").arg("--version").output();
    assert!(
        etcd.is_ok_and(|o| o.status.success()),
        "the live test needs a real etcd: apt-get install etcd-server"
    );
    let work = tempfile::tempdir().unwrap();
    let out = support::live_node::command(work.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("running unshare (the live test runs as root)");
    assert!(
        out.status.success(),
        "live node script failed: {}",
        support::stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report from the live scan")
}

fn state(report: &Report, id: &str) -> State {
    report
        .result(id)
        .unwrap_or_else(|| panic!("{id} missing"))
        .state
}

#[test]
fn live_node_is_discovered_and_judged() {
    let report = live_scan();
    assert_eq!(report.node.source, "live");
    assert_eq!(report.node.name, "live-node");
    assert_eq!(
        report.benchmark, "cis-1.8",
        "auto: {}",
        report.benchmark_from
    );
    // The running binary is asked for its version before any file is read.
    let from = report
        .node
        .kubernetes_version_from
        .as_deref()
        .unwrap_or_default();
    assert!(
        from.contains("--version` of the running") && from.contains("Kubernetes v1.26.9"),
        "{from}"
    );
    assert_eq!(report.node.components, ["apiserver", "etcd", "kubelet"]);
    assert_eq!(
        report.node.files["kubelet.conf"],
        "/etc/kubernetes/kubelet/custom-config.yaml"
    );

    // The fake API server's command line, read the way Kubernetes reads it.
    assert_eq!(
        state(&report, "1.2.1"),
        State::Pass,
        "--anonymous-auth=false"
    );
    assert_eq!(
        state(&report, "1.2.7"),
        State::Pass,
        "--authorization-mode Node,RBAC (space form)"
    );
    assert_eq!(
        state(&report, "1.2.16"),
        State::Fail,
        "the last --profiling=true wins"
    );
    assert_eq!(state(&report, "1.1.1"), State::Fail, "manifest is 644");

    // The kubelet's live --config, not the default path.
    let anon = report.result("4.2.1").unwrap();
    assert_eq!(anon.state, State::Pass, "{anon:?}");
    assert!(
        anon.actual
            .contains("/etc/kubernetes/kubelet/custom-config.yaml"),
        "{}",
        anon.actual
    );
    assert_eq!(state(&report, "4.2.4"), State::Pass, "readOnlyPort: 0");

    // The real etcd: plain HTTP, data dir it created itself.
    let etcd_tls = report.result("2.1").unwrap();
    assert_eq!(etcd_tls.state, State::Fail, "{etcd_tls:?}");
    assert_eq!(state(&report, "2.2"), State::Fail, "no --client-cert-auth");
    assert_eq!(state(&report, "2.3"), State::Pass, "--auto-tls not set");
    assert_eq!(
        state(&report, "1.1.11"),
        State::Pass,
        "etcd creates its data dir 700"
    );
    assert_eq!(
        state(&report, "1.1.12"),
        State::Fail,
        "data dir owned by root, not etcd"
    );

    // Nothing else on this machine looks like a component.
    assert_eq!(
        state(&report, "1.3.2"),
        State::NotApplicable,
        "no controller manager runs"
    );
}
