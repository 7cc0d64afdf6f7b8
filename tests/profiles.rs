//! Rancher's rke-cis-1.4 profiles on an RKE node: exactly the manual's skipped
//! and not-applicable items, user skips in both of Rancher's forms, and plan.

use crate::support;

use kubecis_model::report::{Report, State};
use std::collections::BTreeSet;
use support::{Materialised, kubecis, stderr};

/// The manual's "Skipped Tests" table.
const SKIPPED: [&str; 15] = [
    "1.1.11", "1.1.21", "1.1.24", "1.1.34", "1.1.35", "1.1.36", "1.2.2", "1.3.7", "1.4.12",
    "1.7.2", "1.7.3", "1.7.4", "1.7.5", "2.1.6", "2.1.10",
];

/// The manual's "Not Applicable Tests" table.
const NOT_APPLICABLE: [&str; 19] = [
    "1.1.9", "1.3.6", "1.4.1", "1.4.2", "1.4.3", "1.4.4", "1.4.5", "1.4.6", "1.4.7", "1.4.8",
    "1.4.13", "1.4.14", "2.1.8", "2.1.12", "2.1.13", "2.2.3", "2.2.4", "2.2.9", "2.2.10",
];

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

fn rke_scan(node: &Materialised, extra: &[&str]) -> Report {
    let (root, cache) = node.root_and_cache();
    let mut args = vec![
        "scan",
        "--benchmark",
        "rke-cis-1.4",
        "--root",
        &root,
        "--cache-dir",
        &cache,
        "--format",
        "json",
    ];
    args.extend(extra);
    let out = kubecis(&args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn skipped_by(report: &Report, who: &str) -> BTreeSet<String> {
    report
        .results
        .iter()
        .filter(|r| {
            r.state == State::Skip && r.skipped_by.as_deref().is_some_and(|b| b.starts_with(who))
        })
        .map(|r| r.id.clone())
        .collect()
}

/// Items the profile (not the node) declared not applicable.
fn profile_not_applicable(report: &Report) -> BTreeSet<String> {
    report
        .results
        .iter()
        .filter(|r| r.state == State::NotApplicable && r.reason.starts_with("profile "))
        .map(|r| r.id.clone())
        .collect()
}

#[test]
fn permissive_skips_exactly_the_manuals_table_and_marks_its_not_applicable_items() {
    let node = Materialised::new("rke-node");
    let report = rke_scan(&node, &["--profile", "RKE-CIS-1.4-Permissive"]);
    assert_eq!(report.profile.as_deref(), Some("rke-cis-1.4-permissive"));
    assert_eq!(
        skipped_by(&report, "profile rke-cis-1.4-permissive"),
        set(&SKIPPED)
    );
    assert_eq!(skipped_by(&report, "user"), BTreeSet::new());
    assert_eq!(profile_not_applicable(&report), set(&NOT_APPLICABLE));
    for r in report
        .results
        .iter()
        .filter(|r| matches!(r.state, State::Skip | State::NotApplicable))
    {
        assert!(
            r.reason.len() > 20,
            "{} carries its reason: {:?}",
            r.id,
            r.reason
        );
    }
    let bandwidth = report.result("1.1.11").unwrap();
    assert!(
        bandwidth.reason.contains("bandwidth"),
        "{}",
        bandwidth.reason
    );
}

#[test]
fn hardened_skips_nothing_the_user_did_not_ask_for() {
    let node = Materialised::new("rke-node");
    let report = rke_scan(&node, &["--profile", "rke-cis-1.4-hardened"]);
    assert_eq!(skipped_by(&report, ""), BTreeSet::new());
    assert_eq!(profile_not_applicable(&report), set(&NOT_APPLICABLE));
    // What permissive skips is judged here: a default RKE node fails it.
    assert_eq!(
        report.result("1.1.11").unwrap().state,
        State::Fail,
        "no AlwaysPullImages"
    );
}

#[test]
fn user_skips_apply_with_any_profile_in_both_forms() {
    let node = Materialised::new("rke-node");
    let plain = node.dir.path().join("skip.json");
    std::fs::write(
        &plain,
        r#"{"skip": {"rke-cis-1.4": ["1.1.2", "1.2.2"], "cis-1.8": ["4.2.1"]}}"#,
    )
    .unwrap();
    let config_map = node.dir.path().join("security-scan-cfg.yaml");
    std::fs::write(
        &config_map,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: security-scan-cfg\n  namespace: security-scan\ndata:\n  config.json: |\n    {\"skip\": {\"rke-cis-1.4\": [\"1.1.2\", \"1.2.2\"]}}\n",
    )
    .unwrap();
    for file in [&plain, &config_map] {
        let f = file.display().to_string();
        let hardened = rke_scan(
            &node,
            &["--profile", "rke-cis-1.4-hardened", "--skip-config", &f],
        );
        assert_eq!(
            skipped_by(&hardened, "user"),
            set(&["1.1.2", "1.2.2"]),
            "{f}"
        );
        assert_eq!(skipped_by(&hardened, "profile"), BTreeSet::new());
        assert_eq!(
            hardened.result("1.1.2").unwrap().skipped_by.as_deref(),
            Some(format!("user (skip config {f})").as_str())
        );

        let permissive = rke_scan(
            &node,
            &["--profile", "rke-cis-1.4-permissive", "--skip-config", &f],
        );
        assert_eq!(skipped_by(&permissive, "user"), set(&["1.1.2", "1.2.2"]));
        let mut by_profile = set(&SKIPPED);
        by_profile.remove("1.2.2");
        assert_eq!(skipped_by(&permissive, "profile"), by_profile);
    }
}

#[test]
fn the_manuals_skip_example_works_and_warns_about_the_id_rke_does_not_have() {
    // rke-cis-1.4 has no 1.1.1 (RKE dropped it); the manual's example names it anyway.
    let node = Materialised::new("rke-node");
    let manual = node.dir.path().join("config.json");
    std::fs::write(
        &manual,
        r#"{"config.json": {"skip": {"rke-cis-1.4": [ "1.1.1", "1.2.2"]}}}"#,
    )
    .unwrap();
    let (root, m) = (
        node.root().display().to_string(),
        manual.display().to_string(),
    );
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "rke-cis-1.4",
        "--root",
        &root,
        "--skip-config",
        &m,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("names \"1.1.1\", which rke-cis-1.4 does not have"),
        "{}",
        stderr(&out)
    );
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(skipped_by(&report, "user"), set(&["1.2.2"]));
}

#[test]
fn malformed_skip_config_is_an_error_and_nothing_is_scanned() {
    let node = Materialised::new("rke-node");
    let bad = node.dir.path().join("skip.json");
    std::fs::write(&bad, r#"{"skip": ["1.1.1"]}"#).unwrap();
    let (root, b) = (node.root().display().to_string(), bad.display().to_string());
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "rke-cis-1.4",
        "--root",
        &root,
        "--skip-config",
        &b,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("skip config {b}")) && err.contains("expected {\"skip\""),
        "{err}"
    );

    let out = kubecis(&[
        "scan",
        "--benchmark",
        "rke-cis-1.4",
        "--root",
        &root,
        "--skip",
        "9.9.9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("--skip names \"9.9.9\", which is no item"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_profile_names_the_bundles_profiles() {
    let out = kubecis(&[
        "scan",
        "--benchmark",
        "rke-cis-1.4",
        "--profile",
        "strict",
        "--root",
        "/",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown profile \"strict\" for rke-cis-1.4; its profiles: rke-cis-1.4-hardened, rke-cis-1.4-permissive"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plan_shows_what_runs_what_is_skipped_by_whom_and_what_does_not_apply() {
    let node = Materialised::new("rke-node");
    let skip = node.dir.path().join("skip.json");
    std::fs::write(&skip, r#"{"skip": {"rke-cis-1.4": ["1.1.2"]}}"#).unwrap();
    let (root, s) = (
        node.root().display().to_string(),
        skip.display().to_string(),
    );
    let out = kubecis(&[
        "plan",
        "--benchmark",
        "rke-cis-1.4",
        "--profile",
        "rke-cis-1.4-permissive",
        "--root",
        &root,
        "--skip-config",
        &s,
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let decision = |id: &str| plan.iter().find(|p| p["id"] == id).unwrap().clone();
    assert_eq!(decision("1.1.2")["decision"], "skip");
    assert!(
        decision("1.1.2")["by"]
            .as_str()
            .unwrap()
            .starts_with("user (skip config")
    );
    assert_eq!(decision("1.1.11")["by"], "profile rke-cis-1.4-permissive");
    assert_eq!(decision("1.4.1")["decision"], "notApplicable");
    assert_eq!(decision("1.1.3")["decision"], "run");

    let text = kubecis(&[
        "plan",
        "--benchmark",
        "rke-cis-1.4",
        "--profile",
        "rke-cis-1.4-permissive",
        "--root",
        &root,
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("15 skipped, 19 not applicable"), "{text}");
}
