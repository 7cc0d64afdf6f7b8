//! Kubernetes command-line semantics through a real `flag` component: list
//! flags add up, Go booleans, empty values leave a flag unset.

mod support;

use kubecis::report::{Report, State};
use support::{kubecis, stderr, write_bundle};

const ITEMS: &str = r#"
- id: "9.1.1"
  title: an empty value leaves the flag unset
  automated: true
  scored: true
  check: flag
  settings: {component: apiserver, tests: [{flag: --kubelet-certificate-authority}]}
  grants: {processes: [apiserver]}
  remediation: r
- id: "9.1.2"
  title: "--profiling=0 is false to Go"
  automated: true
  scored: true
  check: flag
  settings: {component: apiserver, tests: [{flag: --profiling, compare: {op: eq, value: "false"}, default: "true"}]}
  grants: {processes: [apiserver]}
  remediation: r
- id: "9.1.3"
  title: repeated --authorization-mode adds up
  automated: true
  scored: true
  check: flag
  settings: {component: apiserver, tests: [{flag: --authorization-mode, compare: {op: has, value: Node}}, {flag: --authorization-mode, compare: {op: has, value: RBAC}}]}
  grants: {processes: [apiserver]}
  remediation: r
- id: "9.1.4"
  title: repeated --disable-admission-plugins adds up
  automated: true
  scored: true
  check: flag
  settings: {component: apiserver, tests: [{flag: --disable-admission-plugins, compare: {op: nothave, value: ServiceAccount}}]}
  grants: {processes: [apiserver]}
  remediation: r
- id: "9.1.5"
  title: an empty token file is no token file
  automated: true
  scored: true
  check: flag
  settings: {component: apiserver, tests: [{flag: --token-auth-file, set: false}]}
  grants: {processes: [apiserver]}
  remediation: r
"#;

#[test]
fn kubernetes_reads_these_flags_so_kubecis_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let proc = root.join("proc/4242");
    std::fs::create_dir_all(&proc).unwrap();
    let argv = [
        "kube-apiserver",
        "--kubelet-certificate-authority=",
        "--profiling=0",
        "--authorization-mode=Node",
        "--disable-admission-plugins=ServiceAccount",
        "--authorization-mode=RBAC",
        "--disable-admission-plugins=PodNodeSelector",
        "--token-auth-file=",
    ];
    std::fs::write(proc.join("cmdline"), argv.join("\0") + "\0").unwrap();
    let bundles = dir.path().join("bundles");
    write_bundle(&bundles, "flag-semantics", "master", ITEMS);
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "flag-semantics",
        "--bundle-dir",
        bundles.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    let state = |id: &str| report.result(id).unwrap().state;
    assert_eq!(state("9.1.1"), State::Fail, "{:?}", report.result("9.1.1"));
    assert_eq!(state("9.1.2"), State::Pass);
    assert_eq!(state("9.1.3"), State::Pass, "Node and RBAC, from two flags");
    let disabled = report.result("9.1.4").unwrap();
    assert_eq!(disabled.state, State::Fail, "{disabled:?}");
    assert!(
        disabled.actual.contains("ServiceAccount,PodNodeSelector"),
        "{}",
        disabled.actual
    );
    assert_eq!(state("9.1.5"), State::Pass);
}

#[test]
fn a_malformed_config_file_is_an_error_with_its_reason_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("proc/77")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(
        root.join("proc/77/cmdline"),
        "/usr/bin/kubelet\0--config=/var/lib/kubelet/config.yaml\0",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/kubelet/config.yaml"),
        "authentication:\n  anonymous: {enabled: false\n  x509: [\n",
    )
    .unwrap();
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "cis-1.8",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    let anon = report.result("4.2.1").unwrap();
    assert_eq!(anon.state, State::Error, "{anon:?}");
    assert!(
        anon.reason
            .contains("/var/lib/kubelet/config.yaml is not valid YAML or JSON"),
        "{}",
        anon.reason
    );
    // No kubelet item that reads the broken file passes on it.
    let kubelet: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.id.starts_with("4.2."))
        .collect();
    assert!(
        kubelet
            .iter()
            .all(|r| !r.actual.contains("in /var/lib/kubelet/config.yaml")),
        "{kubelet:?}"
    );
    assert!(kubelet.iter().filter(|r| r.state == State::Error).count() >= 5);
}
