//! The command line: reports on standard output or written atomically, and
//! bad input answered with a clear message, exit code 2 and no output.

use crate::support;

use kubecis_model::report::{Report, SCHEMA, State};
use support::{Materialised, kubecis, scan_fixture, stderr, write_bundle};

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
    let (root, cache) = node.root_and_cache();
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
    let (root, cache) = node.root_and_cache();
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
    let (root, cache) = node.root_and_cache();
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
    for known in [
        "unknown benchmark \"cis-9.9\"; known: aks-1.8, cis-1.4, cis-1.5, cis-1.6, cis-1.7, cis-1.8, cis-1.9, cis-1.10, cis-1.11, cis-1.12, cis-1.20, cis-1.23, cis-1.24, eks-1.8.0, gke-1.9.0, k3s-cis-1.7,",
        " rke2-cis-1.7, rke2-cis-1.8,",
        " rke-cis-1.4, rke-cis-1.7, rke-cis-1.8, rke-cis-1.23, rke-cis-1.24",
    ] {
        assert_usage_error(&["scan", "--benchmark", "cis-9.9", "--root", "/"], known);
    }
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
            .any(|l| l.starts_with("cis-1.12 ") && l.contains("1.32-1.34")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("k3s-cis-1.8 ")
            && l.contains("k3s-cis-1.8-hardened (1 skipped, 14 not applicable)")
            && l.contains("k3s-cis-1.8-permissive [default]")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("rke-cis-1.8 ") && l.contains("1.26-1.32")),
        "{text}"
    );
}

#[test]
fn the_gate_counts_errors_and_a_scan_that_judged_nothing_fails() {
    let bad = Materialised::new("misconfigured-control-plane");
    assert_eq!(scan_fixture(&bad, &["--exit-code", "4"]).0, 4);
    assert_eq!(scan_fixture(&bad, &["--fail-on", "fail"]).0, 1);
    assert_eq!(scan_fixture(&bad, &[]).0, 0, "without a gate, a report");

    // Every check errs (the memory cap is below what a component needs);
    // only the manual items, which no check judges, warn.
    let node = Materialised::new("kubeadm-control-plane");
    let (code, out, err) = scan_fixture(&node, &["--check-memory-mib", "1", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Report = serde_json::from_str(&out).unwrap();
    assert!(
        report
            .results
            .iter()
            .all(|r| matches!(r.state, State::Error | State::Warn | State::NotApplicable))
    );
    assert!(report.totals[&State::Error] > 80);
    assert_eq!(
        scan_fixture(&node, &["--check-memory-mib", "1", "--exit-code", "4"]).0,
        4,
        "errors trip the gate by default"
    );
    assert_eq!(
        scan_fixture(&node, &["--check-memory-mib", "1", "--fail-on", "error"]).0,
        1
    );
    assert_eq!(
        scan_fixture(
            &node,
            &[
                "--check-memory-mib",
                "1",
                "--fail-on",
                "fail",
                "--exit-code",
                "4"
            ]
        )
        .0,
        0,
        "errors left out of the gate by choice"
    );
    assert_eq!(
        scan_fixture(&node, &["--fail-on", "warn"]).0,
        1,
        "manual items warn"
    );

    // Nothing but errors: whatever the gate, no success.
    let (code, _, err) = scan_fixture(
        &node,
        &["--check", "1.1.1,1.2.16", "--check-memory-mib", "1"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("nothing was judged: of 2 items, 2 error"),
        "{err}"
    );
    // Nothing that applies.
    let (code, out, err) = scan_fixture(&node, &["--check", "4.2.1", "--targets", "master"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("1 notApplicable"), "{err}");
    assert!(
        out.contains("1 item for worker nodes (node), which this node is not checked as"),
        "{out}"
    );
    // Nothing selected at all: refused before anything runs.
    let (code, out, err) = scan_fixture(&node, &["--scored-only", "--check", "1.1.9"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("leaves no item of cis-1.8 to check"), "{err}");
}

/// `| head` closes the pipe early: the command ends quietly, never a panic.
#[test]
fn a_reader_that_stops_early_is_no_crash() {
    use std::process::{Command, Stdio};
    let node = Materialised::new("kubeadm-control-plane");
    let (root, cache) = node.root_and_cache();
    let report_s = node.dir.path().join("cp.json").display().to_string();
    let (code, _, err) = scan_fixture(&node, &["--format", "json", "-o", &report_s]);
    assert_eq!(code, 0, "{err}");
    for args in [
        vec![
            "scan",
            "--root",
            &root,
            "--cache-dir",
            &cache,
            "--format",
            "json",
        ],
        vec!["scan", "--root", &root, "--cache-dir", &cache],
        vec!["benchmarks"],
        vec!["report", &report_s],
        vec!["plan", "--root", &root],
    ] {
        let mut child = Command::new(support::kubecis_path())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

#[test]
fn help_offers_only_what_each_command_takes() {
    let help = |cmd: &str| String::from_utf8(kubecis(&[cmd, "--help"]).stdout).unwrap();
    let formats = |text: &str| -> String {
        text.lines()
            .skip_while(|l| !l.contains("--format"))
            .take_while(|l| !l.trim_start().starts_with("-o"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let scan = help("scan");
    assert!(
        formats(&scan).contains("kube-bench") && formats(&scan).contains("junit"),
        "{scan}"
    );
    for cmd in ["report", "diff", "plan"] {
        let text = help(cmd);
        let f = formats(&text);
        assert!(f.contains("text") && f.contains("json"), "{cmd}: {text}");
        assert!(
            !f.contains("junit") && !f.contains("kube-bench"),
            "{cmd} offers a format it refuses: {text}"
        );
        assert!(
            text.contains("-o, --output <FILE>") && text.contains("atomically"),
            "{cmd}: {text}"
        );
    }
    assert!(formats(&help("report")).contains("csv"));
    assert!(!formats(&help("plan")).contains("csv"));
    let diff = help("diff");
    assert!(
        diff.contains("The earlier scan") && diff.contains("The later scan"),
        "{diff}"
    );
    assert!(help("scan").contains("--fail-on <STATES>"));
}

#[test]
fn mistakes_are_refused_with_what_was_wrong() {
    let node = Materialised::new("kubeadm-control-plane");
    let dir = node.dir.path();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let typo = write("typo.json", r#"{"skip": {"cis-18": ["1.1.1"]}}"#);
    let (code, out, err) = scan_fixture(&node, &["--skip-config", &typo]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(&typo) && err.contains("\"cis-18\" names no benchmark"),
        "{err}"
    );
    let profile = write(
        "profile.json",
        r#"{"skip": {"rke-cis-1.4-permissive": ["1.1.1"]}}"#,
    );
    let (code, _, err) = scan_fixture(&node, &["--skip-config", &profile]);
    assert_eq!(code, 2);
    assert!(err.contains("a profile of rke-cis-1.4"), "{err}");
    let comma = write("comma.json", "{\"skip\": {\"cis-1.8\": [\"1.1.1\",]}}");
    let (code, _, err) = scan_fixture(&node, &["--skip-config", &comma]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&comma) && err.contains("not valid JSON") && err.contains("line 1 column"),
        "{err}"
    );

    let root = node.root().display().to_string();
    let out = kubecis(&["scan", "--root", &root, "--proc", "/nonexistent-proc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent-proc is not a directory"),
        "{}",
        stderr(&out)
    );

    let (code, _, err) = scan_fixture(&node, &["--check", "1.2.16", "--skip", "1.2.16"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "1.2.16 is both asked for (--check/--group 1.2.16) and skipped (--skip 1.2.16)"
        ),
        "{err}"
    );
    let (code, _, err) = scan_fixture(&node, &["--group", "1.2", "--skip", "1.2.16"]);
    assert_eq!(code, 2, "a skipped item inside a group asked for: {err}");

    // A skip config may skip what --check asks for: said, then done.
    let listed = write("listed.json", r#"{"skip": {"cis-1.8": ["1.2.16"]}}"#);
    let (code, out, err) = scan_fixture(
        &node,
        &[
            "--check",
            "1.2.16,1.2.1",
            "--skip-config",
            &listed,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1.2.16 is asked for (--check/--group 1.2.16) but skip config"),
        "{err}"
    );
    let report: Report = serde_json::from_str(&out).unwrap();
    assert_eq!(report.result("1.2.16").unwrap().state, State::Skip);
}

#[test]
fn output_files_get_a_plain_mode_and_keep_the_one_they_replace() {
    use std::os::unix::fs::PermissionsExt;
    let node = Materialised::new("kubeadm-worker");
    let (root, cache) = node.root_and_cache();
    let file = node.dir.path().join("report.txt");
    let run = |umask: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" scan --benchmark cis-1.8 --root \"$1\" --cache-dir \"$2\" -o \"$3\""
            ))
            .arg(support::kubecis_path())
            .args([&root, &cache, &file.display().to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(run("027"), 0o640, "a new file: 0666 less the umask");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    assert_eq!(run("077"), 0o604, "a replaced file keeps its mode");

    let missing = node.dir.path().join("no-such-dir/report.json");
    let missing_s = missing.display().to_string();
    let (code, _, err) = scan_fixture(&node, &["--benchmark", "cis-1.8", "-o", &missing_s]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "the directory {} does not exist",
            node.dir.path().join("no-such-dir").display()
        )),
        "{err}"
    );
    assert!(!err.contains(".kubecis-"), "no temporary name: {err}");
}

#[test]
fn version_names_the_commit_the_engine_and_every_bundle_digest() {
    use sha2::{Digest, Sha256};
    let out = kubecis(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("kubecis 0.1.0 (commit "), "{text}");
    assert!(text.contains("\nwasmtime 48."), "{text}");
    // The digest of a bundle is that of its files, each name and text in order.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/cis-1.8");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for name in files {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let digest = hex::encode(hasher.finalize());
    assert!(
        text.contains(&format!("cis-1.8        sha256:{digest}")),
        "{text}"
    );
    for name in ["cis-1.4", "cis-1.12", "rke-cis-1.4", "flag", "file"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains("sha256:")),
            "{name}: {text}"
        );
    }
}

/// A bundle from outside is read as warily as a node: a FIFO where a file is
/// expected is refused at once, and its text is shown, never obeyed.
#[test]
fn a_bundle_from_outside_cannot_hang_or_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        dir.path(),
        "evil",
        "master",
        "- id: \"9.1.1\"\n  title: \"clears the screen \\e[2J\"\n  automated: false\n  scored: false\n  manual: a person looks\n  remediation: r",
    );
    let bundles = dir.path().display().to_string();
    let out = kubecis(&[
        "plan",
        "--bundle-dir",
        &bundles,
        "--benchmark",
        "evil",
        "--targets",
        "master",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("clears the screen \\u{1b}[2J"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");

    let items = dir.path().join("evil/items.yaml");
    std::fs::remove_file(&items).unwrap();
    let c = std::ffi::CString::new(items.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo only reads the path it is given.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    assert_usage_error(
        &["benchmarks", "--bundle-dir", &bundles],
        &format!("{}: is a FIFO, not a regular file", items.display()),
    );
}
