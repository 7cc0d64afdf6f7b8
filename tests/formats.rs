//! The report formats, each parsed back; selection flags; exit codes.

use crate::support;

use kubecis_model::report::{Report, State};
use kubecis_report::output::CSV_HEADER;
use support::{Materialised, kubecis, scan_fixture, stderr};

/// Scan a fixture with extra flags; returns (exit code, stdout).
fn scan(node: &Materialised, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["--node-name", "cp-3"];
    args.extend(extra);
    let (code, out, err) = scan_fixture(node, &args);
    assert!(matches!(code, 0 | 3), "{args:?}: {err}");
    (code, out)
}

fn json(node: &Materialised, extra: &[&str]) -> Report {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    serde_json::from_str(&scan(node, &args).1).unwrap()
}

#[test]
fn csv_has_rancher_columns_and_survives_multi_line_remediation() {
    let node = Materialised::new("misconfigured-control-plane");
    let report = json(&node, &[]);
    let (_, text) = scan(&node, &["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, CSV_HEADER);
    assert_eq!(
        text.lines().next().unwrap(),
        "ID,Description,Remediation,State of Test,Node type,Nodes,Passed_Nodes,Failed_Nodes"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.results.len());
    let mut multi_line = 0;
    for (row, r) in rows.iter().zip(&report.results) {
        assert_eq!(&row[0], r.id);
        assert_eq!(
            &row[2], r.remediation,
            "remediation of {} must survive quoting",
            r.id
        );
        multi_line += usize::from(r.remediation.contains('\n'));
        assert_eq!(&row[3], r.state.as_str());
        assert_eq!(&row[4], r.node_type.as_str());
        assert_eq!(&row[6], if r.state == State::Pass { "cp-3" } else { "" });
        assert_eq!(&row[7], if r.state == State::Fail { "cp-3" } else { "" });
    }
    assert!(multi_line > 0, "some remediation spans lines");
    let profiling = rows.iter().find(|r| &r[0] == "1.2.16").unwrap();
    assert_eq!(
        (&profiling[3], &profiling[5], &profiling[7]),
        ("fail", "cp-3", "cp-3")
    );
}

#[test]
fn junit_is_valid_xml_with_failures_errors_and_skips() {
    let node = Materialised::new("misconfigured-control-plane");
    let report = json(&node, &[]);
    let (_, xml) = scan(&node, &["--format", "junit"]);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let n = |s: State| report.results.iter().filter(|r| r.state == s).count();
    assert_eq!(
        root.attribute("tests").unwrap(),
        report.results.len().to_string()
    );
    assert_eq!(
        root.attribute("failures").unwrap(),
        n(State::Fail).to_string()
    );
    let cases: Vec<_> = root
        .descendants()
        .filter(|d| d.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), report.results.len());
    let failures = cases
        .iter()
        .filter(|c| c.children().any(|x| x.has_tag_name("failure")))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| c.children().any(|x| x.has_tag_name("skipped")))
        .count();
    assert_eq!(failures, n(State::Fail));
    assert_eq!(
        skipped,
        n(State::Warn) + n(State::NotApplicable) + n(State::Skip)
    );
    let profiling = cases
        .iter()
        .find(|c| c.attribute("name").unwrap().starts_with("1.2.16 "))
        .unwrap();
    let failure = profiling
        .children()
        .find(|x| x.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("found --profiling=true")
    );
    let props: Vec<_> = root
        .descendants()
        .filter(|d| d.has_tag_name("property"))
        .collect();
    assert!(props.iter().any(
        |p| p.attribute("name") == Some("benchmark") && p.attribute("value") == Some("cis-1.8")
    ));
}

#[test]
fn kube_bench_json_has_its_shape_and_totals() {
    let node = Materialised::new("misconfigured-control-plane");
    let report = json(&node, &[]);
    let (_, text) = scan(&node, &["--format", "kube-bench"]);
    let kb: serde_json::Value = serde_json::from_str(&text).unwrap();
    let controls = kb["Controls"].as_array().unwrap();
    assert_eq!(controls.len(), 5);
    assert_eq!(controls[0]["id"], "1");
    assert_eq!(controls[0]["version"], "cis-1.8");
    assert_eq!(controls[0]["node_type"], "master");
    let results: Vec<&serde_json::Value> = controls
        .iter()
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|t| t["results"].as_array().unwrap())
        .collect();
    assert_eq!(results.len(), report.results.len());
    for key in [
        "test_number",
        "test_desc",
        "status",
        "actual_value",
        "expected_result",
        "remediation",
        "scored",
    ] {
        assert!(
            results[0].get(key).is_some(),
            "kube-bench result lacks {key}"
        );
    }
    let r = results
        .iter()
        .find(|r| r["test_number"] == "1.2.16")
        .unwrap();
    assert_eq!(r["status"], "FAIL");
    assert_eq!(r["scored"], true);
    let n = |s: State| report.results.iter().filter(|r| r.state == s).count();
    assert_eq!(kb["Totals"]["total_fail"], n(State::Fail));
    assert_eq!(kb["Totals"]["total_pass"], n(State::Pass));
    assert_eq!(kb["Totals"]["total_warn"], n(State::Warn) + n(State::Error));
    assert_eq!(
        kb["Totals"]["total_info"],
        n(State::NotApplicable) + n(State::Skip)
    );
}

#[test]
fn exit_code_is_given_only_when_an_item_fails() {
    let bad = Materialised::new("misconfigured-control-plane");
    assert_eq!(scan(&bad, &["--exit-code", "3"]).0, 3);
    assert_eq!(
        scan(&bad, &[]).0,
        0,
        "without --exit-code failures still exit 0"
    );
    let good = Materialised::new("hardened-control-plane");
    assert_eq!(scan(&good, &["--exit-code", "3"]).0, 0);
}

#[test]
fn selection_by_check_group_skip_and_scored_only() {
    let node = Materialised::new("kubeadm-control-plane");
    let only = json(&node, &["--check", "1.2.16,4.2.1"]);
    let ids: Vec<&str> = only.results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["1.2.16", "4.2.1"]);

    let group = json(&node, &["--group", "1.3"]);
    assert!(!group.results.is_empty() && group.results.iter().all(|r| r.id.starts_with("1.3.")));

    let skipped = json(&node, &["--skip", "1.2,4.2.1"]);
    for r in &skipped.results {
        let want_skip = r.id.starts_with("1.2.") || r.id == "4.2.1";
        assert_eq!(r.state == State::Skip, want_skip, "{}", r.id);
        if want_skip {
            assert_eq!(r.skipped_by.as_deref(), Some("user (--skip)"));
        }
    }

    let scored = json(&node, &["--scored-only"]);
    assert!(scored.results.iter().all(|r| r.scored));
    assert!(scored.results.len() < 130);
}

#[test]
fn unknown_ids_in_a_selection_are_refused() {
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "cis-1.8",
        "--root",
        "/",
        "--check",
        "1.2.99",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"1.2.99\", which is no item, group or section of cis-1.8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn text_report_says_what_why_and_how_to_fix_each_item_once() {
    let node = Materialised::new("kubeadm-control-plane");
    let (_, text) = scan(&node, &["--skip", "1.2.16"]);
    let header: Vec<&str> = text.lines().take(6).collect();
    assert_eq!(header[0], "CIS Kubernetes Benchmark v1.8.0 (cis-1.8)");
    assert!(
        header[1].starts_with("kubecis 0.1.0, scan of 20") && header[1].ends_with(" ms"),
        "{header:?}"
    );
    assert!(header[2].starts_with("node cp-3 (root:"), "{header:?}");
    assert_eq!(
        header[3],
        "Kubernetes 1.26.9 (image tag in /etc/kubernetes/manifests/kube-apiserver.yaml)"
    );
    assert!(
        header[4].starts_with("benchmark: auto: Kubernetes 1.26.9"),
        "{header:?}"
    );
    assert_eq!(header[5], "profile: none");

    // Remediation for what warns as well as what fails, as kube-bench prints it.
    let remediations = text.split("== Remediations ==").nth(1).unwrap();
    assert!(remediations.contains("[FAIL] 1.1.12 "), "{remediations}");
    assert!(remediations.contains("[WARN] 1.1.9 "), "{remediations}");
    assert!(
        remediations.contains("chmod 600 /etc/cni/net.d/10-calico.conflist")
            || remediations.contains("1.1.9")
    );

    // Skipped once, by whom.
    assert!(
        text.contains("[SKIP] 1.2.16 ") && text.contains("skipped by the user (--skip)"),
        "{text}"
    );
    assert!(!text.contains("skipped by the user in"), "{text}");
    // Each fact once per item: no line repeats the one above it.
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        assert!(
            pair[0] != pair[1] || pair[0].trim().is_empty(),
            "repeated: {:?}",
            pair[0]
        );
    }
    // Totals per section, then for the scan.
    let summary = text.split("== Summary ==").nth(1).unwrap();
    assert!(
        summary.contains("section") && summary.contains(" pass  fail"),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("1 Control Plane Security Configuration")),
        "{summary}"
    );
    assert!(
        summary.lines().any(|l| l.starts_with("130 checks: ")),
        "{summary}"
    );
    assert!(
        !text.contains(" 1 items") && !text.contains("a etcd"),
        "{text}"
    );
}

#[test]
fn text_wraps_at_columns() {
    let node = Materialised::new("misconfigured-control-plane");
    let (root, cache) = node.root_and_cache();
    let out = std::process::Command::new(support::kubecis_path())
        .args(["scan", "--root", &root, "--cache-dir", &cache])
        .env("COLUMNS", "72")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let body = text.split("== Summary ==").next().unwrap();
    let long: Vec<&str> = body
        .lines()
        .filter(|l| l.chars().count() > 72 && l.trim().contains(' '))
        .collect();
    assert!(long.is_empty(), "{long:#?}");
    assert!(
        text.contains("[FAIL] 1.2.16 Ensure that the --profiling argument is"),
        "{text}"
    );
}

/// Colour only where it shows: a terminal, but not `TERM=dumb`.
#[test]
fn colour_follows_the_terminal() {
    let node = Materialised::new("kubeadm-worker");
    let (root, cache) = node.root_and_cache();
    let on_tty = |term: &str| {
        let command = format!(
            "{} scan --root {root} --cache-dir {cache} --benchmark cis-1.8",
            support::kubecis_path()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("TERM", term)
            .env_remove("NO_COLOR")
            .output()
            .expect("running script (util-linux)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(on_tty("xterm").contains("\x1b[32m[PASS]"));
    let dumb = on_tty("dumb");
    assert!(dumb.contains("[PASS]") && !dumb.contains("\x1b["), "{dumb}");
}

#[test]
fn kube_bench_json_is_what_its_importers_expect() {
    let node = Materialised::new("misconfigured-control-plane");
    let report = json(&node, &[]);
    let (_, text) = scan(&node, &["--format", "kube-bench"]);
    let kb: serde_json::Value = serde_json::from_str(&text).unwrap();
    let controls = kb["Controls"].as_array().unwrap();
    assert!(controls.iter().all(|c| c["detected_version"] == "1.26"));
    let results: Vec<&serde_json::Value> = controls
        .iter()
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|t| t["results"].as_array().unwrap())
        .collect();
    for key in [
        "test_number",
        "test_desc",
        "audit",
        "AuditEnv",
        "AuditConfig",
        "type",
        "remediation",
        "test_info",
        "status",
        "actual_value",
        "scored",
        "IsMultiple",
        "expected_result",
    ] {
        assert!(
            results.iter().all(|r| r.get(key).is_some()),
            "a result lacks {key}"
        );
    }
    // kube-bench's manual tests: what DefectDojo's importer and others drop.
    let manual = |r: &&&serde_json::Value| r["reason"] == "Test marked as a manual test";
    let manual_count = results.iter().filter(|r| manual(r)).count();
    let expected_manual = report.results.iter().filter(|r| r.manual).count();
    assert!(expected_manual > 30);
    assert_eq!(manual_count, expected_manual);
    for r in results.iter().filter(|r| manual(r)) {
        assert_eq!(r["type"], "manual");
        assert_eq!(r["status"], "WARN");
        assert!(
            !r["kubecis_reason"].as_str().unwrap().is_empty(),
            "kubecis' own reason kept: {r}"
        );
    }
    // As an importer reads it: FAIL is a finding; WARN one when not manual.
    let findings = |status: &str| {
        results
            .iter()
            .filter(|r| r["status"] == status && !manual(r))
            .count()
    };
    let n = |f: &dyn Fn(&kubecis_model::report::CheckResult) -> bool| {
        report.results.iter().filter(|r| f(r)).count()
    };
    assert_eq!(findings("FAIL"), n(&|r| r.state == State::Fail));
    assert_eq!(
        findings("WARN"),
        n(&|r| (r.state == State::Warn && !r.manual) || r.state == State::Error)
    );
    let skipped = results
        .iter()
        .find(|r| r["kubecis_state"] == "notApplicable")
        .unwrap();
    assert_eq!(skipped["status"], "INFO");
}

/// Two tests of one flag (1.2.12: SecurityContextDeny or PodSecurityPolicy
/// among the admission plugins) found the same value: the evidence says it once.
#[test]
fn evidence_is_said_once() {
    let node = Materialised::new("insecure-control-plane");
    let report = json(&node, &["--benchmark", "cis-1.8"]);
    for r in &report.results {
        let parts: Vec<&str> = r.actual.split("; ").collect();
        let mut unique = parts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(parts.len(), unique.len(), "{}: {}", r.id, r.actual);
    }
    let r = report.result("1.2.12").unwrap();
    assert_eq!(
        r.actual,
        "--enable-admission-plugins=AlwaysAdmit on the command line"
    );
}
