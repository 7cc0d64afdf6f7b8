//! Kubernetes command-line semantics through a real `flag` component: list
//! flags add up, Go booleans, empty values leave a flag unset; and the built-in
//! bundles judging feature gates, durations, integers and defaults by value.

use crate::support;

use kubecis_model::report::{Report, State};
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

/// A node root with these processes (pid, argv) and files (path under the root, text), scanned
/// with a built-in benchmark.
fn scan_node(
    cache: &std::path::Path,
    benchmark: &str,
    processes: &[(u32, Vec<&str>)],
    files: &[(&str, &str)],
) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for (pid, argv) in processes {
        let proc = root.join(format!("proc/{pid}"));
        std::fs::create_dir_all(&proc).unwrap();
        std::fs::write(proc.join("cmdline"), argv.join("\0") + "\0").unwrap();
    }
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = kubecis(&[
        "scan",
        "--benchmark",
        benchmark,
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The generic benchmarks: their RotateKubeletServerCertificate, idle timeout and pod PIDs
/// items share ids and settings.
const GENERIC: &[&str] = &["cis-1.8", "cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12"];

const KUBELET_CONFIG: &str = "var/lib/kubelet/config.yaml";

fn kubelet(extra: &[&'static str]) -> (u32, Vec<&'static str>) {
    let mut argv = vec!["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"];
    argv.extend_from_slice(extra);
    (1120, argv)
}

fn kubelet_config(extra: &str) -> String {
    format!("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n{extra}")
}

/// What a test expects of an item: its state and a piece of its actual value or reason.
fn check(report: &Report, id: &str, want: State, mentions: &str, case: &str) {
    let r = report
        .result(id)
        .unwrap_or_else(|| panic!("{case}: no {id}"));
    assert_eq!(r.state, want, "{case}: {id}: {r:?}");
    assert!(
        r.actual.contains(mentions) || r.reason.contains(mentions),
        "{case}: {id} does not mention {mentions:?}: {r:?}"
    );
}

/// Each case (kubelet flags, kubelet config, expected state, evidence it
/// mentions) on a kubelet, judged by item `id` of every generic bundle.
fn check_kubelet_cases(id: &str, cases: &[(&[&'static str], &str, State, &str)]) {
    let cache = tempfile::tempdir().unwrap();
    for benchmark in GENERIC {
        for (flags, config, want, says) in cases {
            let config = kubelet_config(config);
            let report = scan_node(
                cache.path(),
                benchmark,
                &[kubelet(flags)],
                &[(KUBELET_CONFIG, &config)],
            );
            let case = format!("{benchmark}: {flags:?} {config:?}");
            check(&report, id, *want, says, &case);
        }
    }
}

#[test]
fn a_feature_gate_is_judged_by_its_value_not_its_text() {
    let cache = tempfile::tempdir().unwrap();
    let gate_off = "featureGates:\n  RotateKubeletServerCertificate: false\n";
    // (case, controller manager flags, kubelet flags, kubelet config, 1.3.6, 4.2.11, mentions)
    type Case = (
        &'static str,
        Vec<&'static str>,
        Vec<&'static str>,
        &'static str,
        (State, &'static str),
        (State, &'static str),
    );
    let cases: Vec<Case> = vec![
        (
            "False and 0 are false to Go; an unrelated kubelet gate does not hide the config's",
            vec!["--feature-gates=RotateKubeletServerCertificate=False"],
            vec!["--feature-gates=GracefulNodeShutdown=true"],
            gate_off,
            (State::Fail, "RotateKubeletServerCertificate=False"),
            (
                State::Warn,
                "featureGates.RotateKubeletServerCertificate: false",
            ),
        ),
        (
            "0 on the command line; off in YAML is false to the kubelet",
            vec!["--feature-gates=RotateKubeletServerCertificate=0"],
            vec![],
            "featureGates:\n  RotateKubeletServerCertificate: off\n",
            (State::Fail, "RotateKubeletServerCertificate=0"),
            (State::Warn, "RotateKubeletServerCertificate: off"),
        ),
        (
            "the last entry wins, across repeated flags; the command line beats the config file",
            vec![
                "--feature-gates=RotateKubeletServerCertificate=false",
                "--feature-gates=Other=true,RotateKubeletServerCertificate=true",
            ],
            vec!["--feature-gates", "RotateKubeletServerCertificate=T"],
            gate_off,
            (
                State::Pass,
                "RotateKubeletServerCertificate=true in --feature-gates",
            ),
            (
                State::Pass,
                "RotateKubeletServerCertificate=T in --feature-gates",
            ),
        ),
        (
            "a later entry of one list turns the gate off",
            vec![
                "--feature-gates=RotateKubeletServerCertificate=true,RotateKubeletServerCertificate=f",
            ],
            vec!["--feature-gates=RotateKubeletServerCertificate=true"],
            "",
            (State::Fail, "RotateKubeletServerCertificate=f"),
            (State::Pass, "RotateKubeletServerCertificate=true"),
        ),
        (
            "a gate set nowhere has its default",
            vec!["--feature-gates=GracefulNodeShutdown=true"],
            vec![],
            "",
            (State::Pass, "defaults to true"),
            (State::Pass, "defaults to true"),
        ),
        (
            "AllBeta=false turns off a beta gate that is not named",
            vec!["--feature-gates=AllBeta=false"],
            vec![],
            "featureGates:\n  AllBeta: false\n",
            (State::Fail, "AllBeta=false in --feature-gates"),
            (State::Warn, "featureGates.AllBeta: false"),
        ),
        (
            "a named gate wins over AllBeta, wherever each is",
            vec!["--feature-gates=AllBeta=false,RotateKubeletServerCertificate=true"],
            vec!["--feature-gates=AllBeta=false"],
            "featureGates:\n  RotateKubeletServerCertificate: true\n",
            (State::Pass, "RotateKubeletServerCertificate=true"),
            (
                State::Pass,
                "featureGates.RotateKubeletServerCertificate: true",
            ),
        ),
        (
            "what Kubernetes could not parse is an error",
            vec!["--feature-gates=RotateKubeletServerCertificate"],
            vec!["--feature-gates=RotateKubeletServerCertificate=maybe"],
            "",
            (State::Error, "has no value"),
            (State::Error, "not a boolean"),
        ),
        (
            "a config value that is no boolean is an error",
            vec![],
            vec![],
            "featureGates:\n  RotateKubeletServerCertificate: \"nope\"\n",
            (State::Pass, "defaults to true"),
            (State::Error, "not a boolean"),
        ),
    ];
    for benchmark in GENERIC {
        for (case, cm, kl, config, (cm_state, cm_says), (kl_state, kl_says)) in &cases {
            let mut cm_argv = vec!["kube-controller-manager", "--bind-address=127.0.0.1"];
            cm_argv.extend_from_slice(cm);
            let config = kubelet_config(config);
            let report = scan_node(
                cache.path(),
                benchmark,
                &[(2433, cm_argv), kubelet(kl)],
                &[(KUBELET_CONFIG, &config)],
            );
            let case = format!("{benchmark}: {case}");
            check(&report, "1.3.6", *cm_state, cm_says, &case);
            check(&report, "4.2.11", *kl_state, kl_says, &case);
        }
    }
}

#[test]
fn the_idle_timeout_is_a_go_duration_and_only_the_config_file_defaults_a_zero() {
    // (kubelet flags, config, 4.2.5 (manual: warn, not fail), mentions)
    let cases: &[(&[&'static str], &str, State, &str)] = &[
        (
            &["--streaming-connection-idle-timeout=0s"],
            "",
            State::Warn,
            "=0s",
        ),
        (
            &["--streaming-connection-idle-timeout=0"],
            "",
            State::Warn,
            "=0 on the command line",
        ),
        (
            &["--streaming-connection-idle-timeout=0m"],
            "",
            State::Warn,
            "=0m",
        ),
        (
            &["--streaming-connection-idle-timeout", "0h0m0s"],
            "",
            State::Warn,
            "=0h0m0s",
        ),
        (
            &["--streaming-connection-idle-timeout=1h30m"],
            "",
            State::Pass,
            "=1h30m",
        ),
        (
            &["--streaming-connection-idle-timeout=300ms"],
            "",
            State::Pass,
            "=300ms",
        ),
        (
            &["--streaming-connection-idle-timeout=5min"],
            "",
            State::Error,
            "unknown unit",
        ),
        (
            &["--streaming-connection-idle-timeout=300"],
            "",
            State::Error,
            "unit",
        ),
        // kubeadm serializes the zero value; the kubelet defaults it to 4h.
        (
            &[],
            "streamingConnectionIdleTimeout: 0s\n",
            State::Pass,
            "default 4h",
        ),
        (
            &[],
            "streamingConnectionIdleTimeout: 5m0s\n",
            State::Pass,
            "5m0s",
        ),
        (&[], "", State::Pass, "defaults to 4h"),
        // The command line is applied after defaulting: its zero stays zero.
        (
            &["--streaming-connection-idle-timeout=0s"],
            "streamingConnectionIdleTimeout: 5m0s\n",
            State::Warn,
            "=0s on the command line",
        ),
        // A number is no duration to the kubelet's decoder.
        (
            &[],
            "streamingConnectionIdleTimeout: 300\n",
            State::Error,
            "unit",
        ),
    ];
    check_kubelet_cases("4.2.5", cases);
}

#[test]
fn only_a_positive_pod_pids_limit_passes() {
    // (kubelet flags, config, 4.2.13 (manual: warn, not fail), mentions)
    let cases: &[(&[&'static str], &str, State, &str)] = &[
        (&["--pod-max-pids=-1"], "", State::Warn, "--pod-max-pids=-1"),
        (&[], "podPidsLimit: -1\n", State::Warn, "podPidsLimit: -1"),
        (&[], "podPidsLimit: 0\n", State::Warn, "podPidsLimit: 0"),
        (&[], "", State::Warn, "defaults to -1"),
        (
            &[],
            "podPidsLimit: 4096\n",
            State::Pass,
            "podPidsLimit: 4096",
        ),
        (
            &["--pod-max-pids=1024"],
            "podPidsLimit: -1\n",
            State::Pass,
            "--pod-max-pids=1024",
        ),
        (
            &["--pod-max-pids=0x400"],
            "",
            State::Pass,
            "--pod-max-pids=0x400",
        ),
        (
            &["--pod-max-pids=-1"],
            "podPidsLimit: 4096\n",
            State::Warn,
            "--pod-max-pids=-1",
        ),
        (&["--pod-max-pids=lots"], "", State::Error, "not an integer"),
    ];
    check_kubelet_cases("4.2.13", cases);
}

#[test]
fn booleans_numbers_and_absent_addresses_as_kubernetes_reads_them() {
    let cache = tempfile::tempdir().unwrap();
    let config = kubelet_config(
        "authentication:\n  anonymous:\n    enabled: off\ntlsCertFile:\ntlsPrivateKeyFile: null\n",
    );
    let report = scan_node(
        cache.path(),
        "cis-1.8",
        &[
            (
                2451,
                vec![
                    "kube-apiserver",
                    "--anonymous-auth=0",
                    "--profiling=F",
                    "--audit-log-maxage=0x1e",
                    "--audit-log-maxbackup=010",
                    "--audit-log-maxsize=1_000",
                ],
            ),
            // No --bind-address: both listen on every interface.
            (
                2433,
                vec![
                    "kube-controller-manager",
                    "--use-service-account-credentials=yes",
                ],
            ),
            (2440, vec!["kube-scheduler", "--profiling=false"]),
            (2400, vec!["etcd", "--client-cert-auth=true"]),
            kubelet(&[]),
        ],
        &[
            (KUBELET_CONFIG, &config),
            ("proc/2400/environ", "ETCD_PEER_AUTO_TLS=1\0"),
        ],
    );
    let case = "cis-1.8";
    check(&report, "1.2.1", State::Pass, "--anonymous-auth=0", case);
    check(&report, "1.2.16", State::Pass, "--profiling=F", case);
    check(&report, "1.2.18", State::Pass, "0x1e", case);
    check(&report, "1.2.19", State::Fail, "010", case);
    check(&report, "1.2.20", State::Pass, "1_000", case);
    check(&report, "1.3.3", State::Error, "not a boolean", case);
    check(&report, "1.3.7", State::Fail, "defaults to 0.0.0.0", case);
    check(&report, "1.4.2", State::Fail, "defaults to 0.0.0.0", case);
    check(&report, "2.6", State::Fail, "ETCD_PEER_AUTO_TLS=1", case);
    // `off` is false to the kubelet's YAML decoding.
    check(&report, "4.2.1", State::Pass, "enabled: off", case);
    // A null value leaves the field unset: no serving certificate is configured.
    check(
        &report,
        "4.2.9",
        State::Warn,
        "tlsCertFile is not set",
        case,
    );
}

#[test]
fn the_cis_1_4_bundles_judge_gates_durations_and_addresses_by_value() {
    let cache = tempfile::tempdir().unwrap();
    for benchmark in ["cis-1.4", "rke-cis-1.4"] {
        let report = scan_node(
            cache.path(),
            benchmark,
            &[
                (
                    2451,
                    vec!["kube-apiserver", "--feature-gates=AdvancedAuditing=False"],
                ),
                // No --address: the insecure port listens on every interface.
                (
                    2433,
                    vec![
                        "kube-controller-manager",
                        "--feature-gates",
                        "RotateKubeletServerCertificate=0",
                    ],
                ),
                (2440, vec!["kube-scheduler"]),
                (
                    1978,
                    vec![
                        "kubelet",
                        "--feature-gates=RotateKubeletServerCertificate=false,RotateKubeletServerCertificate=1",
                    ],
                ),
            ],
            &[],
        );
        let case = benchmark;
        check(
            &report,
            "1.1.37a",
            State::Fail,
            "AdvancedAuditing=False",
            case,
        );
        check(
            &report,
            "1.3.6",
            State::Fail,
            "RotateKubeletServerCertificate=0",
            case,
        );
        check(&report, "1.3.7", State::Fail, "defaults to 0.0.0.0", case);
        check(&report, "1.2.2", State::Fail, "defaults to 0.0.0.0", case);
        check(
            &report,
            "2.1.13",
            State::Pass,
            "RotateKubeletServerCertificate=1",
            case,
        );
        // The kubelet's own default, 4h.
        check(&report, "2.1.5", State::Pass, "defaults to 4h", case);
    }
}

/// A static pod manifest that shows the node's Kubernetes version (its image tag).
fn apiserver_manifest(version: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver, namespace: kube-system}}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v{version}\n    command: [kube-apiserver]\n"
    )
}

/// Insecure serving flags matter only where the component still serves
/// insecurely: kube-apiserver before 1.20, the controller manager before
/// 1.22, the scheduler before 1.23 (`removed_in` in the bundle). Before,
/// an absent flag is judged by Kubernetes' default; from then on it passes.
#[test]
fn insecure_serving_flags_are_judged_by_the_nodes_kubernetes_version() {
    const MANIFEST: &str = "etc/kubernetes/manifests/kube-apiserver.yaml";
    let cache = tempfile::tempdir().unwrap();
    // (benchmark, item, version, argv, state, evidence)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<&'a str>, State, &'a str);
    let cases: &[Case] = &[
        // (benchmark, item, version, argv, state, evidence)
        (
            "cis-1.5",
            "1.2.19",
            "1.19.16",
            vec!["kube-apiserver"],
            State::Fail,
            "--insecure-port is not set",
        ),
        (
            "cis-1.5",
            "1.2.19",
            "1.19.16",
            vec!["kube-apiserver", "--insecure-port=0"],
            State::Pass,
            "--insecure-port=0",
        ),
        (
            "cis-1.5",
            "1.2.19",
            "1.19.16",
            vec!["kube-apiserver", "--insecure-port=8080"],
            State::Fail,
            "--insecure-port=8080",
        ),
        (
            "cis-1.5",
            "1.2.19",
            "1.20.0",
            vec!["kube-apiserver"],
            State::Pass,
            "no effect from Kubernetes 1.20 on (this node runs 1.20.0)",
        ),
        (
            "cis-1.5",
            "1.2.19",
            "1.26.9",
            vec!["kube-apiserver"],
            State::Pass,
            "no effect from Kubernetes 1.20 on",
        ),
        (
            "cis-1.4",
            "1.2.2",
            "1.22.17",
            vec!["kube-scheduler"],
            State::Fail,
            "Kubernetes defaults to 0.0.0.0",
        ),
        (
            "cis-1.4",
            "1.2.2",
            "1.23.0",
            vec!["kube-scheduler"],
            State::Pass,
            "no effect from Kubernetes 1.23 on",
        ),
        (
            "cis-1.4",
            "1.3.7",
            "1.21.14",
            vec!["kube-controller-manager"],
            State::Fail,
            "Kubernetes defaults to 0.0.0.0",
        ),
        (
            "cis-1.4",
            "1.3.7",
            "1.22.0",
            vec!["kube-controller-manager"],
            State::Pass,
            "no effect from Kubernetes 1.22 on",
        ),
    ];
    for (benchmark, id, version, argv, want, says) in cases {
        let manifest = apiserver_manifest(version);
        let report = scan_node(
            cache.path(),
            benchmark,
            &[(2216, argv.clone())],
            &[(MANIFEST, &manifest)],
        );
        let case = format!("{benchmark} {id} on {version}: {argv:?}");
        check(&report, id, *want, says, &case);
    }
}

/// Encryption at rest is judged from the EncryptionConfiguration the live
/// `--encryption-provider-config` names: the first provider of the entry that
/// covers secrets writes them, so it must be a strong one.
#[test]
fn the_first_provider_for_secrets_decides_encryption_at_rest() {
    const ENC: &str = "etc/kubernetes/enc/enc.yaml";
    let config = |resources: &str, providers: &str| {
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [{resources}]\n    providers:\n{providers}"
        )
    };
    const AESCBC: &str = "      - aescbc:\n          keys:\n            - {name: key1, secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==}\n";
    const IDENTITY: &str = "      - identity: {}\n";
    const KMS: &str = "      - kms:\n          apiVersion: v2\n          name: vault\n          endpoint: unix:///var/run/kms.sock\n";
    const SECRETBOX: &str = "      - secretbox:\n          keys:\n            - {name: key1, secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=}\n";
    let apiserver = |flag: bool| {
        let mut argv = vec!["kube-apiserver", "--secure-port=6443"];
        if flag {
            argv.push("--encryption-provider-config=/etc/kubernetes/enc/enc.yaml");
        }
        (2216, argv)
    };
    let cache = tempfile::tempdir().unwrap();
    // (benchmark and item, flag set, file, state, evidence)
    let cases = [
        (
            "rke-cis-1.4",
            "1.1.35",
            true,
            Some(config("secrets", &format!("{AESCBC}{IDENTITY}"))),
            State::Pass,
            "aescbc, identity",
        ),
        (
            "rke-cis-1.4",
            "1.1.35",
            true,
            Some(config("secrets", &format!("{IDENTITY}{AESCBC}"))),
            State::Fail,
            "identity comes first",
        ),
        (
            "rke-cis-1.4",
            "1.1.35",
            true,
            Some(config("secrets", SECRETBOX)),
            State::Fail,
            "secretbox comes first",
        ),
        (
            "rke-cis-1.4",
            "1.1.35",
            true,
            Some(config("configmaps", AESCBC)),
            State::Fail,
            "covers secrets",
        ),
        (
            "rke-cis-1.4",
            "1.1.35",
            false,
            None,
            State::Fail,
            "stores secrets in etcd unencrypted",
        ),
        (
            "rke-cis-1.4",
            "1.1.35",
            true,
            None,
            State::Error,
            "is not on this node",
        ),
        // A manual item whose evidence passes passes; one whose evidence fails warns.
        (
            "cis-1.8",
            "1.2.29",
            true,
            Some(config("\"*.*\"", KMS)),
            State::Pass,
            "kms",
        ),
        (
            "cis-1.8",
            "1.2.29",
            true,
            Some(config("secrets", SECRETBOX)),
            State::Pass,
            "secretbox",
        ),
        (
            "cis-1.8",
            "1.2.29",
            true,
            Some(config("secrets", IDENTITY)),
            State::Warn,
            "identity comes first",
        ),
    ];
    for (benchmark, id, flag, file, want, says) in cases {
        let files: Vec<(&str, &str)> = file.as_deref().map(|f| (ENC, f)).into_iter().collect();
        let report = scan_node(cache.path(), benchmark, &[apiserver(flag)], &files);
        let case = format!("{benchmark} {id}: flag {flag}, file {file:?}");
        check(&report, id, want, says, &case);
        // The keys in the file never reach the report.
        let text = serde_json::to_string(&report).unwrap();
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("YWJjZGVm"),
            "{case}"
        );
    }
}

/// rke-cis-1.4 1.1.38: Rancher's own test passes whatever is set; kubecis
/// asks for a positive timeout, the 60s default counting as one.
#[test]
fn the_request_timeout_of_rke_cis_1_4_must_be_a_positive_duration() {
    let cache = tempfile::tempdir().unwrap();
    for (flag, want, says) in [
        (None, State::Pass, "Kubernetes defaults to 60s"),
        (
            Some("--request-timeout=300s"),
            State::Pass,
            "--request-timeout=300s",
        ),
        (Some("--request-timeout=1m30s"), State::Pass, "1m30s"),
        (
            Some("--request-timeout=0s"),
            State::Fail,
            "--request-timeout=0s",
        ),
    ] {
        let mut argv = vec!["kube-apiserver"];
        argv.extend(flag);
        let report = scan_node(cache.path(), "rke-cis-1.4", &[(2216, argv)], &[]);
        check(&report, "1.1.38", want, says, &format!("{flag:?}"));
    }
}

/// The kubelet's `--config-dir`: each `.conf` file overrides the `--config`
/// file key by key, in lexical order; the command line beats them all; the
/// report names the file that set the value.
#[test]
fn kubelet_drop_ins_override_its_config_file_in_lexical_order() {
    let cache = tempfile::tempdir().unwrap();
    const DIR: &str = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
    let anonymous = |on: bool| {
        kubelet_config(&format!(
            "authentication:\n  anonymous:\n    enabled: {on}\n"
        ))
    };
    let base = anonymous(false);
    let defaults = anonymous(false);
    let debug = anonymous(true);
    let stray = anonymous(false);
    let d = |name: &str| format!("{}/{name}", DIR.trim_start_matches('/'));
    let (defaults_path, debug_path, stray_path) = (
        d("00-k3s-defaults.conf"),
        d("50-debug.conf"),
        d("90-notes.txt"),
    );
    for benchmark in ["cis-1.11", "k3s-cis-1.11"] {
        let scan = |flags: &[&'static str], files: &[(&str, &str)]| {
            let mut all = vec![(KUBELET_CONFIG, base.as_str())];
            all.extend_from_slice(files);
            scan_node(cache.path(), benchmark, &[kubelet(flags)], &all)
        };
        let with_dir: &[&'static str] =
            &["--config-dir=/var/lib/rancher/k3s/agent/etc/kubelet.conf.d"];
        // The last .conf file sets it; a file without .conf is not the kubelet's.
        let report = scan(
            with_dir,
            &[
                (&defaults_path, &defaults),
                (&debug_path, &debug),
                (&stray_path, &stray),
            ],
        );
        check(&report, "4.2.1", State::Fail, "50-debug.conf", benchmark);
        // Without the override, the drop-in that has the key is named.
        let report = scan(with_dir, &[(&defaults_path, &defaults)]);
        check(
            &report,
            "4.2.1",
            State::Pass,
            "00-k3s-defaults.conf",
            benchmark,
        );
        // The command line wins over every file.
        let flags: &[&'static str] = &[
            "--config-dir=/var/lib/rancher/k3s/agent/etc/kubelet.conf.d",
            "--anonymous-auth=false",
        ];
        let report = scan(flags, &[(&debug_path, &debug)]);
        check(&report, "4.2.1", State::Pass, "command line", benchmark);
        // Without --config-dir, the directory is not the kubelet's.
        let report = scan(&[], &[(&debug_path, &debug)]);
        check(&report, "4.2.1", State::Pass, "config.yaml", benchmark);
    }
}

/// A bundle that grants the kubelet's config file but not its drop-in
/// directory cannot judge a kubelet that has one: an error, never a pass.
#[test]
fn a_drop_in_directory_outside_the_grant_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let proc = root.join("proc/1120");
    std::fs::create_dir_all(&proc).unwrap();
    std::fs::write(
        proc.join("cmdline"),
        "/usr/bin/kubelet\0--config=/var/lib/kubelet/config.yaml\0--config-dir=/etc/kubernetes/kubelet.conf.d\0",
    )
    .unwrap();
    put(
        root.join("var/lib/kubelet/config.yaml"),
        &kubelet_config("authentication:\n  anonymous:\n    enabled: false\n"),
    );
    put(
        root.join("etc/kubernetes/kubelet.conf.d/10-open.conf"),
        &kubelet_config("authentication:\n  anonymous:\n    enabled: true\n"),
    );
    let bundles = dir.path().join("bundles");
    write_bundle(
        &bundles,
        "old-kubelet",
        "node",
        r#"- id: "9.1.1"
  title: anonymous off, granted the config file alone
  automated: true
  scored: true
  check: flag
  settings: {component: kubelet, config: "${kubelet.conf}", tests: [{flag: --anonymous-auth, key: authentication.anonymous.enabled, compare: {op: eq, value: "false"}, default: "true"}]}
  grants: {processes: [kubelet], content: ["${kubelet.conf}"]}
  remediation: r
- id: "9.1.2"
  title: the kubelet names a config file
  automated: true
  scored: true
  check: flag
  settings: {component: kubelet, tests: [{flag: --config}]}
  grants: {processes: [kubelet]}
  remediation: r
"#,
    );
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "old-kubelet",
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
    let r = report.result("9.1.1").unwrap();
    assert_eq!(r.state, State::Error, "{r:?}");
    assert!(r.reason.contains("--config-dir"), "{r:?}");
}

/// Write a file, creating its directory.
fn put(path: std::path::PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
