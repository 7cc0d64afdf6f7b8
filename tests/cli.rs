//! The command line: reports on standard output or written atomically, and
//! bad input answered with a clear message, exit code 2 and no output.

mod support;

use kubecis::report::{Report, SCHEMA, State};
use support::{Materialised, kubecis, stderr, write_bundle};

fn scan_args<'a>(node: &'a Materialised, root: &'a str, cache: &'a str) -> Vec<&'a str> {
    let _ = node;
    vec![
        "scan",
        "--benchmark",
        "cis-1.8",
        "--root",
        root,
        "--cache-dir",
        cache,
    ]
}

#[test]
fn json_report_has_the_documented_schema() {
    let node = Materialised::new("kubeadm-control-plane");
    let (root, cache) = (
        node.root().display().to_string(),
        node.cache().display().to_string(),
    );
    let mut args = scan_args(&node, &root, &cache);
    args.extend(["--format", "json", "--node-name", "cp-1"]);
    let out = kubecis(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(raw["schema"], SCHEMA);
    assert_eq!(raw["benchmark"], "cis-1.8");
    assert_eq!(raw["node"]["name"], "cp-1");
    let first = &raw["results"][0];
    for key in [
        "id",
        "title",
        "state",
        "scored",
        "nodeType",
        "expected",
        "actual",
        "reason",
        "remediation",
    ] {
        assert!(first.get(key).is_some(), "result lacks {key}: {first}");
    }
    let report: Report = serde_json::from_value(raw).unwrap();
    assert_eq!(report.results.len(), 130);
    assert_eq!(report.totals.values().sum::<usize>(), 130);
    let r = report.result("1.2.16").unwrap();
    assert_eq!(r.state, State::Fail);
    assert!(
        r.remediation
            .contains("/etc/kubernetes/manifests/kube-apiserver.yaml"),
        "{}",
        r.remediation
    );
}

#[test]
fn text_report_shows_sections_failures_remediation_and_totals() {
    let node = Materialised::new("misconfigured-control-plane");
    let (root, cache) = (
        node.root().display().to_string(),
        node.cache().display().to_string(),
    );
    let out = kubecis(&scan_args(&node, &root, &cache));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("== Control Plane Security Configuration [master] =="));
    assert!(text.contains("[FAIL] 1.2.16 Ensure that the --profiling argument is set to false"));
    assert!(
        text.contains("found: --profiling=true on the command line"),
        "last --profiling must win"
    );
    assert!(text.contains("== Remediations =="));
    assert!(text.contains("130 checks:"));
    assert!(
        !text.contains("\x1b["),
        "no colour when NO_COLOR is set or output is not a terminal"
    );
}

#[test]
fn output_file_is_written_whole_and_bad_paths_leave_nothing() {
    let node = Materialised::new("kubeadm-worker");
    let (root, cache) = (
        node.root().display().to_string(),
        node.cache().display().to_string(),
    );
    let file = node.dir.path().join("report.json");
    let file_s = file.display().to_string();
    let mut args = scan_args(&node, &root, &cache);
    args.extend(["--format", "json", "-o", &file_s]);
    let out = kubecis(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let report: Report = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(report.node.node_types.len(), 1);

    // A directory in the way: the rename fails, and no temporary file stays behind.
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(node.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let in_the_way = node.root().display().to_string();
    let mut args = scan_args(&node, &root, &cache);
    args.extend(["-o", &in_the_way]);
    let out = kubecis(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("writing {in_the_way}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(), before);

    let missing = node.dir.path().join("no-such-dir/report.json");
    let missing_s = missing.display().to_string();
    let mut args = scan_args(&node, &root, &cache);
    args.extend(["-o", &missing_s]);
    let out = kubecis(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}

fn assert_usage_error(args: &[&str], message: &str) {
    let out = kubecis(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
    assert!(
        stderr(&out).contains(message),
        "{args:?}: {:?} lacks {message:?}",
        stderr(&out)
    );
}

#[test]
fn unknown_benchmark_names_the_known_ones() {
    assert_usage_error(
        &["scan", "--benchmark", "cis-9.9", "--root", "/"],
        "unknown benchmark \"cis-9.9\"; known: cis-1.4, cis-1.8, cis-1.9, cis-1.10, cis-1.11, cis-1.12, rke-cis-1.4",
    );
}

#[test]
fn missing_root_is_named() {
    assert_usage_error(
        &["scan", "--root", "/no/such/node"],
        "node root /no/such/node",
    );
}

#[test]
fn unknown_target_is_named() {
    let node = Materialised::new("kubeadm-worker");
    let root = node.root().display().to_string();
    assert_usage_error(
        &["scan", "--root", &root, "--targets", "node,workers"],
        "--targets: unknown node type \"workers\"",
    );
}

#[test]
fn a_node_without_kubernetes_says_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    let root = empty.path().display().to_string();
    assert_usage_error(
        &["scan", "--root", &root],
        "no Kubernetes component runs on this node",
    );
    assert_usage_error(
        &["scan", "--root", &root, "--benchmark", "cis-1.8"],
        "no Kubernetes component runs on this node",
    );
    assert_usage_error(
        &["scan", "--root", &root, "--targets", "node"],
        "--benchmark auto cannot tell this node's Kubernetes version",
    );
}

#[test]
fn auto_picks_the_benchmark_of_the_nodes_kubernetes_version() {
    let cp = Materialised::new("kubeadm-control-plane");
    let root = cp.root().display().to_string();
    let scan = |root: &str, extra: &[&str]| {
        let mut args = vec!["scan", "--root", root, "--format", "json"];
        args.extend(extra);
        let out = kubecis(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Report = serde_json::from_slice(&out.stdout).unwrap();
        (report, stderr(&out))
    };
    let (report, _) = scan(&root, &[]);
    assert_eq!(report.benchmark, "cis-1.8");
    assert_eq!(
        report.benchmark_from,
        "auto: Kubernetes 1.26.9 (image tag in /etc/kubernetes/manifests/kube-apiserver.yaml) maps to cis-1.8"
    );
    assert_eq!(report.node.kubernetes_version.as_deref(), Some("1.26.9"));

    // The same node after an upgrade: every supported minor version maps as kube-bench maps it.
    let manifest = cp
        .root()
        .join("etc/kubernetes/manifests/kube-apiserver.yaml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    for (minor, benchmark) in [
        ("1.27.6", "cis-1.9"),
        ("1.28.2", "cis-1.10"),
        ("1.29.0", "cis-1.11"),
        ("1.30.4", "cis-1.11"),
        ("1.31.1", "cis-1.11"),
        ("1.32.0", "cis-1.12"),
        ("1.33.3", "cis-1.12"),
        ("1.34.1", "cis-1.12"),
    ] {
        std::fs::write(&manifest, original.replace("v1.26.9", &format!("v{minor}"))).unwrap();
        let (report, warning) = scan(&root, &[]);
        assert_eq!(report.benchmark, benchmark, "Kubernetes {minor}");
        assert!(warning.is_empty(), "{warning}");
    }
    std::fs::write(&manifest, original.replace("v1.26.9", "v1.36.0")).unwrap();
    let (report, warning) = scan(&root, &[]);
    assert_eq!(report.benchmark, "cis-1.12");
    assert!(
        warning.contains(
            "Kubernetes 1.36.0: it is newer than every known benchmark; using the newest"
        ),
        "{warning}"
    );

    // A worker shows its version in the kubelet package; without it, it must be stated.
    let worker = Materialised::new("kubeadm-worker");
    let wroot = worker.root().display().to_string();
    let (report, _) = scan(&wroot, &[]);
    assert_eq!(report.benchmark, "cis-1.8");
    assert_eq!(
        report.node.kubernetes_version_from.as_deref(),
        Some("installed kubelet package 1.26.9-1.1 in /var/lib/dpkg/status")
    );
    std::fs::remove_file(worker.root().join("var/lib/dpkg/status")).unwrap();
    assert_usage_error(&["scan", "--root", &wroot], "state it with --k8s-version");
    let (report, _) = scan(&wroot, &["--k8s-version", "1.33.1"]);
    assert_eq!(report.benchmark, "cis-1.12");
    assert!(report.benchmark_from.contains("given with --k8s-version"));
}

#[test]
fn corrupt_component_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        "broken",
        "node",
        "- id: \"9.1.1\"\n  title: t\n  automated: true\n  scored: true\n  check: mine\n  remediation: r",
    );
    std::fs::write(
        dir.path().join("broken/components/mine.wasm"),
        b"\0asm\x0d\0\x01\0garbage",
    )
    .unwrap();
    let bundles = dir.path().display().to_string();
    assert_usage_error(
        &[
            "scan",
            "--benchmark",
            "broken",
            "--bundle-dir",
            &bundles,
            "--root",
            "/",
            "--targets",
            "node",
            "--no-cache",
        ],
        "component \"mine\" is not a valid kubecis check component",
    );
}

#[test]
fn malformed_bundle_names_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        "typo",
        "node",
        "- id: \"9.1.1\"\n  title: t\n  automated: true\n  scored: true\n  chekc: flag\n  remediation: r",
    );
    let bundles = dir.path().display().to_string();
    assert_usage_error(
        &[
            "scan",
            "--benchmark",
            "typo",
            "--bundle-dir",
            &bundles,
            "--root",
            "/",
        ],
        "typo/items.yaml: groups[0].items[0]: unknown field `chekc`",
    );
}

#[test]
fn bundle_with_unknown_component_or_variable_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        "unknown",
        "node",
        "- id: \"9.1.1\"\n  title: t\n  automated: true\n  scored: true\n  check: flag\n  settings: {x: \"${kubelet.confg}\"}\n  remediation: r",
    );
    let bundles = dir.path().display().to_string();
    assert_usage_error(
        &[
            "scan",
            "--benchmark",
            "unknown",
            "--bundle-dir",
            &bundles,
            "--root",
            "/",
        ],
        "item 9.1.1: unknown variable ${kubelet.confg}",
    );
}

#[test]
fn benchmarks_lists_every_bundle_with_versions_and_counts() {
    let out = kubecis(&["benchmarks"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("cis-1.8") && l.contains("1.26") && l.contains(" 130 ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("cis-1.12") && l.contains("1.32,1.33,1.34")),
        "{text}"
    );
}
