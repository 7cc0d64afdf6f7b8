//! Cluster reports from three fixture nodes of different roles: node lists,
//! mixed states, node health, filters, top failures, the CSV exports, and diff.

use crate::support;

use kubecis_report::cluster::{ClusterGroup, ClusterReport, ClusterState, Health};
use std::path::{Path, PathBuf};
use support::{Materialised, kubecis, stderr};

/// Scan a fixture as a named node into `dir/<name>.json`.
fn scan_node(fixture: &str, name: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let node = Materialised::new(fixture);
    let out = dir.join(format!("{name}.json"));
    let (root, o) = (node.root().display().to_string(), out.display().to_string());
    let cache = node.cache().display().to_string();
    let mut args = vec![
        "scan",
        "--root",
        &root,
        "--node-name",
        name,
        "--format",
        "json",
        "-o",
        &o,
        "--cache-dir",
        &cache,
    ];
    args.extend(extra);
    let run = kubecis(&args);
    // 3: a scan that judged nothing (some tests want one) still writes its report.
    assert!(
        matches!(run.status.code(), Some(0 | 3)) && out.is_file(),
        "{}",
        stderr(&run)
    );
    out
}

/// One scan of a node named `name` in its own subdirectory `sub` (scans of
/// one node at two moments, to compare).
fn scan_apart(dir: &Path, sub: &str, fixture: &str, name: &str, extra: &[&str]) -> PathBuf {
    let into = dir.join(sub);
    std::fs::create_dir_all(&into).unwrap();
    scan_node(fixture, name, &into, extra)
}

/// `kubecis diff OLD NEW --format json`: (exit status, the diff).
fn diff_json(old: &Path, new: &Path) -> (i32, serde_json::Value) {
    let out = kubecis(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap(), value)
}

/// cp-1 (kubeadm defaults), cp-3 (misconfigured), worker-1.
fn cluster() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = vec![
        scan_node("kubeadm-control-plane", "cp-1", dir.path(), &[]),
        scan_node("misconfigured-control-plane", "cp-3", dir.path(), &[]),
        scan_node(
            "kubeadm-worker",
            "worker-1",
            dir.path(),
            &["--k8s-version", "1.26.9"],
        ),
    ];
    (dir, files)
}

fn report(files: &[PathBuf], extra: &[&str]) -> (i32, String, String) {
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kubecis(&refs);
    let err = stderr(&out);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        err,
    )
}

fn json(files: &[PathBuf], extra: &[&str]) -> ClusterGroup {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let (code, out, err) = report(files, &args);
    assert_eq!(code, 0, "{err}");
    let r: ClusterReport = serde_json::from_str(&out).unwrap();
    assert_eq!(r.groups.len(), 1);
    r.groups.into_iter().next().unwrap()
}

#[test]
fn node_lists_and_states_across_nodes() {
    let (_dir, files) = cluster();
    let g = json(&files, &[]);
    assert_eq!(g.benchmark, "cis-1.8");
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["cp-1", "cp-3", "worker-1"]);
    assert_eq!(
        g.nodes[0].kubernetes_version.as_deref(),
        Some("1.26.9"),
        "from the apiserver image tag"
    );
    let item = |id: &str| g.items.iter().find(|i| i.id == id).unwrap();

    // Both control planes fail profiling (default true; explicit true); the worker is not a master.
    let profiling = item("1.2.16");
    assert_eq!(profiling.state, ClusterState::Fail);
    assert_eq!(profiling.nodes, ["cp-1", "cp-3"]);
    assert_eq!(profiling.failed_nodes, ["cp-1", "cp-3"]);
    assert!(profiling.passed_nodes.is_empty() && profiling.missing_nodes.is_empty());

    // Kubelet anonymous auth: off on cp-1 and the worker, on for cp-3.
    let anon = item("4.2.1");
    assert_eq!(anon.state, ClusterState::Mixed);
    assert_eq!(anon.nodes, ["cp-1", "cp-3", "worker-1"]);
    assert_eq!(anon.passed_nodes, ["cp-1", "worker-1"]);
    assert_eq!(anon.failed_nodes, ["cp-3"]);
    let found: Vec<&str> = anon.results.iter().map(|r| r.actual.as_str()).collect();
    assert!(
        found[1].contains("true"),
        "each node's found value: {found:?}"
    );

    // Everyone agrees: the node type decides who counts.
    assert_eq!(
        item("1.1.1").state,
        ClusterState::Mixed,
        "manifest 600 on cp-1, 644 on cp-3"
    );
    assert_eq!(item("1.1.1").nodes, ["cp-1", "cp-3"]);
}

#[test]
fn a_node_that_should_have_run_an_item_and_did_not_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cp = scan_node("kubeadm-control-plane", "cp-1", dir.path(), &[]);
    let partial = scan_node(
        "kubeadm-worker",
        "worker-1",
        dir.path(),
        &["--check", "4.1.1", "--k8s-version", "1.26.9"],
    );
    let g = json(&[cp, partial], &[]);
    let anon = g.items.iter().find(|i| i.id == "4.2.1").unwrap();
    assert_eq!(anon.missing_nodes, ["worker-1"]);
    let (_, text, _) = report(
        &[
            dir.path().join("cp-1.json"),
            dir.path().join("worker-1.json"),
        ],
        &[],
    );
    assert!(text.contains("NOT REPORTED by worker-1"), "{text}");
}

#[test]
fn node_health_follows_the_thresholds() {
    let (dir, files) = cluster();
    let g = json(&files, &[]);
    for n in &g.nodes {
        assert_eq!(
            n.tests_total,
            n.tests_passing + n.tests_failing + n.tests_unknown
        );
        let want = if n.tests_passing == n.tests_total {
            Health::High
        } else if n.tests_passing * 2 >= n.tests_total {
            Health::Med
        } else {
            Health::Low
        };
        assert_eq!(n.health, want, "{}: defaults 100/50", n.name);
    }
    // A node at exactly 50%: one passing and one failing test.
    let half = scan_node(
        "kubeadm-worker",
        "half",
        dir.path(),
        &["--check", "4.1.1,4.1.5", "--k8s-version", "1.26.9"],
    );
    let health = |cfg: &str| {
        let path = dir.path().join("edge.yaml");
        std::fs::write(&path, cfg).unwrap();
        let g = json(
            std::slice::from_ref(&half),
            &["--config", path.to_str().unwrap()],
        );
        assert_eq!((g.nodes[0].tests_passing, g.nodes[0].tests_total), (1, 2));
        g.nodes[0].health
    };
    assert_eq!(
        health("{}"),
        Health::Med,
        "50% is at the default medThreshold"
    );
    assert_eq!(
        health("medThreshold: 51"),
        Health::Low,
        "just below the threshold"
    );
    assert_eq!(
        health("highThreshold: 50"),
        Health::High,
        "at highThreshold"
    );
    assert_eq!(health("highThreshold: 51\nmedThreshold: 51"), Health::Low);
}

#[test]
fn filters_by_kubernetes_version_and_unscored_tests() {
    let (dir, files) = cluster();
    let cfg = dir.path().join("filters.yaml");
    std::fs::write(
        &cfg,
        "kind: GlobalReport\nspec:\n  reportType: cis-benchmark\n  cis:\n    includeUnscoredTests: false\n    resultsFilters:\n    - benchmarkSelection: {kubernetesVersion: '1.26'}\n      exclude: ['1.2', '4.2.1']\n    - benchmarkSelection: {kubernetesVersion: '1.27'}\n      include: ['5']\n",
    )
    .unwrap();
    let g = json(&files, &["--config", cfg.to_str().unwrap()]);
    assert!(
        g.items
            .iter()
            .all(|i| !i.id.starts_with("1.2.") && i.id != "4.2.1")
    );
    assert!(g.items.iter().all(|i| i.scored), "unscored tests left out");
    assert!(
        g.items.iter().any(|i| i.id.starts_with("1.1.")),
        "the 1.27 filter does not touch 1.26 nodes"
    );
}

#[test]
fn top_failed_tests_most_failing_first() {
    let (dir, files) = cluster();
    let cfg = dir.path().join("top.yaml");
    std::fs::write(&cfg, "numFailedTests: 3\n").unwrap();
    let g = json(&files, &["--config", cfg.to_str().unwrap()]);
    assert_eq!(g.top_failed.len(), 3);
    let counts: Vec<usize> = g.top_failed.iter().map(|t| t.failed_nodes).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let most = g.items.iter().map(|i| i.failed_nodes.len()).max().unwrap();
    assert_eq!(counts[0], most);
    for t in &g.top_failed {
        let item = g.items.iter().find(|i| i.id == t.id).unwrap();
        assert_eq!(item.failed_nodes.len(), t.failed_nodes);
    }
}

#[test]
fn every_csv_export_parses_back() {
    let (_dir, files) = cluster();
    let g = json(&files, &[]);
    let csv = |kind: &str| {
        let (code, out, err) = report(&files, &["--format", "csv", "--csv", kind]);
        assert_eq!(code, 0, "{err}");
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        (header, rows)
    };
    let (h, rows) = csv("rancher");
    assert_eq!(
        h,
        [
            "ID",
            "Description",
            "Remediation",
            "State of Test",
            "Node type",
            "Nodes",
            "Passed_Nodes",
            "Failed_Nodes"
        ]
    );
    let anon = rows.iter().find(|r| &r[0] == "4.2.1").unwrap();
    assert_eq!(
        (&anon[3], &anon[5], &anon[6], &anon[7]),
        ("mixed", "cp-1,cp-3,worker-1", "cp-1,worker-1", "cp-3")
    );

    let (h, all) = csv("all-tests");
    assert_eq!(
        h,
        [
            "nodeName",
            "testIndex",
            "testDescription",
            "status",
            "scored",
            "remediation"
        ]
    );
    assert_eq!(
        all.len(),
        g.items.iter().map(|i| i.results.len()).sum::<usize>()
    );
    let (_, failed) = csv("failed-tests");
    assert!(!failed.is_empty() && failed.iter().all(|r| &r[3] == "FAIL"));
    assert_eq!(
        failed.len(),
        g.items.iter().map(|i| i.failed_nodes.len()).sum::<usize>()
    );

    let (h, nodes) = csv("node-summary");
    assert_eq!(
        h,
        [
            "node",
            "version",
            "status",
            "testsPassing",
            "testsFailing",
            "testsUnknown",
            "testsTotal"
        ]
    );
    assert_eq!(nodes.len(), 3);
    assert_eq!(&nodes[2][1], "1.26.9");
    assert_eq!(&nodes[1][2], g.nodes[1].health.to_string());

    let (_, total) = csv("total-summary");
    assert_eq!(total.len(), 1);
    assert_eq!(&total[0][1], "3");
}

#[test]
fn the_calico_manuals_global_report_is_accepted() {
    let (_dir, files) = cluster();
    let manual =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cluster/daily-cis-results.yaml");
    let g = json(&files, &["--config", manual.to_str().unwrap()]);
    assert_eq!(g.top_failed.len(), 5);
    // Its filter selects Kubernetes 1.13: these 1.26 nodes keep 1.1.4 and 1.2.5.
    assert!(g.items.iter().any(|i| i.id == "1.2.5"));
}

#[test]
fn different_benchmarks_are_grouped_never_mixed() {
    let (dir, mut files) = cluster();
    files.push(scan_node(
        "kubeadm-worker",
        "worker-2",
        dir.path(),
        &["--benchmark", "cis-1.12"],
    ));
    let (code, out, err) = report(&files, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let r: ClusterReport = serde_json::from_str(&out).unwrap();
    let groups: Vec<(&str, usize)> = r
        .groups
        .iter()
        .map(|g| (g.benchmark.as_str(), g.nodes.len()))
        .collect();
    assert_eq!(groups, [("cis-1.12", 1), ("cis-1.8", 3)]);
    let (code, out, err) = report(&files, &["--format", "csv"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(
            "the inputs hold cis-1.12 without a profile (1 node); cis-1.8 without a profile (3 nodes); choose one with --benchmark B and --profile P"
        ),
        "{err}"
    );
    assert_eq!(
        report(&files, &["--format", "csv", "--benchmark", "cis-1.12"]).0,
        0
    );
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"Controls\": []}").unwrap();
    let (code, out, err) = report(std::slice::from_ref(&junk), &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(&format!("{}: not a kubecis node report", junk.display())),
        "{err}"
    );
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "highThreshold: 150\n").unwrap();
    let (code, _, err) = report(&[junk], &["--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("highThreshold is 150; expected a percentage from 0 to 100"),
        "{err}"
    );
}

#[test]
fn diff_of_two_real_scans_gates_on_new_failures() {
    let dir = tempfile::tempdir().unwrap();
    let before = scan_apart(dir.path(), "a", "misconfigured-control-plane", "cp", &[]);
    let after = scan_apart(dir.path(), "b", "hardened-control-plane", "cp", &[]);
    let (code, improved) = diff_json(&before, &after);
    assert_eq!(code, 0, "no new failures");
    assert!(improved["newFailures"].as_array().unwrap().is_empty());
    let fixed: Vec<&str> = improved["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        fixed.contains(&"1.2.16") && fixed.contains(&"4.2.1"),
        "{fixed:?}"
    );

    let (code, regressed) = diff_json(&after, &before);
    assert_eq!(code, 1, "new failures gate CI");
    let new: Vec<&str> = regressed["newFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(new, fixed, "what one direction fixes, the other breaks");
    assert!(regressed["unchanged"].as_u64().unwrap() > 0);

    let text = kubecis(&["diff", after.to_str().unwrap(), before.to_str().unwrap()]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("New failures:") && text.contains("1.2.16") && text.contains("pass -> fail"),
        "{text}"
    );
}

/// A Kubernetes upgrade moves a node to the next benchmark version: items are
/// paired by title across the renumbering, and those of one side only are named.
#[test]
fn diff_compares_two_benchmark_versions() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = "misconfigured-control-plane";
    let old = scan_apart(dir.path(), "a", fixture, "cp", &["--benchmark", "cis-1.8"]);
    let new = scan_apart(dir.path(), "b", fixture, "cp", &["--benchmark", "cis-1.9"]);
    let (code, d) = diff_json(&old, &new);
    assert_eq!(code, 0, "{d}");
    assert_eq!(d["benchmark"], "cis-1.9");
    assert_eq!(d["oldBenchmark"], "cis-1.8");
    let ids = |key: &str| -> Vec<String> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // SecurityContextDeny left the benchmark; the kube-proxy metrics item joined it.
    assert_eq!(ids("onlyOld"), ["1.2.12"]);
    assert_eq!(ids("onlyNew"), ["4.3.1"]);
    // The same node under both versions: every paired item kept its state,
    // though many were renumbered (1.2.15 NodeRestriction is 1.2.14 in cis-1.9).
    assert!(d["newFailures"].as_array().unwrap().is_empty(), "{d}");
    assert!(d["changed"].as_array().unwrap().is_empty(), "{d}");
    assert_eq!(d["unchanged"], 129);

    // Against a hardened node scanned with cis-1.9, a renumbered item says where it was.
    let hardened = scan_apart(
        dir.path(),
        "c",
        "hardened-control-plane",
        "cp",
        &["--benchmark", "cis-1.9"],
    );
    let (_, d) = diff_json(&old, &hardened);
    let node_restriction = d["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains("NodeRestriction"))
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(node_restriction["id"], "1.2.14");
    assert_eq!(node_restriction["oldId"], "1.2.15");
    let text = kubecis(&["diff", old.to_str().unwrap(), hardened.to_str().unwrap()]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("cis-1.8 -> cis-1.9:"), "{text}");
    assert!(text.contains("1.2.14 (was 1.2.15)"), "{text}");
    assert!(
        text.contains("Only in the old benchmark:\n  1.2.12"),
        "{text}"
    );
}

/// `diff` trips on whatever entered a --fail-on state, errors included.
#[test]
fn diff_gate_counts_new_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = "hardened-control-plane";
    let ok = scan_apart(dir.path(), "a", fixture, "cp", &["--check", "1.1.1,1.2.16"]);
    let broken = scan_apart(
        dir.path(),
        "b",
        fixture,
        "cp",
        &["--check", "1.1.1,1.2.16,4.2.1", "--check-memory-mib", "1"],
    );
    let (old, new) = (ok.to_str().unwrap(), broken.to_str().unwrap());
    assert_eq!(kubecis(&["diff", old, new]).status.code(), Some(1));
    assert_eq!(
        kubecis(&["diff", old, new, "--fail-on", "fail"])
            .status
            .code(),
        Some(0),
        "errors left out of the gate by choice"
    );
    assert_eq!(
        kubecis(&["diff", old, new, "--exit-code", "7"])
            .status
            .code(),
        Some(7)
    );
}

#[test]
fn report_gate_and_empty_inputs() {
    let (dir, files) = cluster();
    let (code, _, err) = report(&files, &[]);
    assert_eq!(code, 0, "a report alone does not gate: {err}");
    assert_eq!(report(&files, &["--fail-on", "fail"]).0, 1);
    assert_eq!(report(&files, &["--exit-code", "5"]).0, 5);

    // A node that reported nothing but errors trips the default gate.
    let errors = scan_node(
        "kubeadm-worker",
        "worker-9",
        dir.path(),
        &[
            "--k8s-version",
            "1.26.9",
            "--check",
            "4.1.1,4.2.1",
            "--check-memory-mib",
            "1",
        ],
    );
    let only_errors = [errors];
    let (code, _, err) = report(&only_errors, &["--exit-code", "4"]);
    assert_eq!(code, 3, "nothing judged: {err}");
    assert!(err.contains("nothing was judged"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = report(&[empty.path().to_path_buf()], &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(&format!("{} holds no node report", empty.path().display())),
        "{err}"
    );
}

#[test]
fn a_node_reported_twice_names_both_files() {
    let (dir, mut files) = cluster();
    let copy = dir.path().join("cp-1-again.json");
    std::fs::copy(&files[0], &copy).unwrap();
    files.push(copy.clone());
    let (code, _, err) = report(&files, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "node cp-1 appears twice for cis-1.8: in {} and in {}",
            files[0].display(),
            copy.display()
        )),
        "{err}"
    );
}

#[test]
fn csv_of_two_profiles_is_chosen_with_profile() {
    let dir = tempfile::tempdir().unwrap();
    let files = vec![
        scan_node(
            "rke-node",
            "rke-1",
            dir.path(),
            &[
                "--benchmark",
                "rke-cis-1.4",
                "--profile",
                "rke-cis-1.4-permissive",
            ],
        ),
        scan_node(
            "rke-node",
            "rke-2",
            dir.path(),
            &[
                "--benchmark",
                "rke-cis-1.4",
                "--profile",
                "rke-cis-1.4-hardened",
            ],
        ),
    ];
    let (code, _, err) = report(&files, &["--format", "csv"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rke-cis-1.4 with profile rke-cis-1.4-hardened (1 node)")
            && err.contains("--profile P"),
        "{err}"
    );
    let (code, out, err) = report(
        &files,
        &["--format", "csv", "--profile", "RKE-CIS-1.4-Permissive"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.contains("rke-1")), "{out}");
    assert!(!out.contains("rke-2"), "{out}");
}
