//! Conformance of every built-in CIS bundle: `tests/conformance/<benchmark>.yaml` lists, for a few
//! node fixtures, the state a scan with that benchmark must report for every item of the bundle.
//!
//! - every listed state must be what the `kubecis` binary reports (all mismatches at once);
//! - every automated item with a check must `pass` on at least one listed fixture and `fail` on
//!   at least one other, so that each check is seen to work both ways.

use crate::support;

use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use support::{Materialised, kubecis, stderr};

/// The benchmarks that must have a conformance file.
const BENCHMARKS: &[&str] = &[
    "cis-1.5", "cis-1.6", "cis-1.20", "cis-1.23", "cis-1.24", "cis-1.7", "cis-1.8", "cis-1.9",
    "cis-1.10", "cis-1.11", "cis-1.12",
];

const STATES: &[&str] = &["pass", "fail", "warn", "skip", "notApplicable", "error"];

/// One `tests/conformance/<benchmark>.yaml`: fixture → item id → expected state.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Conformance {
    fixtures: BTreeMap<String, BTreeMap<String, String>>,
    /// Automated items no fixture can pass or fail, with why (a flag that
    /// Kubernetes removed before every fixture's version, an unscored item
    /// that warns instead of failing). Listed, so the gap is visible and
    /// stale entries are caught.
    #[serde(default)]
    uncovered: BTreeMap<String, String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every conformance file, by benchmark (the file's stem).
fn conformance() -> BTreeMap<String, Conformance> {
    let dir = repo().join("tests/conformance");
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let benchmark = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = fs::read_to_string(&path).unwrap();
        let parsed: Conformance =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.insert(benchmark, parsed);
    }
    for b in BENCHMARKS {
        assert!(
            out.contains_key(*b),
            "tests/conformance/{b}.yaml is missing"
        );
    }
    out
}

/// A bundle's items in order: (id, whether it is automated and has a check).
fn bundle_items(benchmark: &str) -> Vec<(String, bool)> {
    let dir = repo().join("profiles").join(benchmark);
    let read = |name: &str| -> Value {
        let path = dir.join(name);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let bundle = read("bundle.yaml");
    let sections = bundle["sections"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{benchmark}/bundle.yaml: no sections"));
    let mut items = Vec::new();
    for section in sections {
        let section = read(section.as_str().expect("section file name"));
        for group in section["groups"].as_sequence().into_iter().flatten() {
            for item in group["items"].as_sequence().into_iter().flatten() {
                let id = match &item["id"] {
                    Value::String(s) => s.clone(),
                    other => panic!("{benchmark}: item id {other:?} is not a string"),
                };
                let automated = item["automated"].as_bool().unwrap_or(false);
                let checked = !matches!(item.get("check"), None | Some(Value::Null));
                items.push((id, automated && checked));
            }
        }
    }
    assert!(!items.is_empty(), "{benchmark}: no items");
    items
}

/// The data itself: every item listed on every fixture with a known state, and every automated,
/// checked item with a `pass` and a `fail` among the fixtures.
#[test]
fn every_automated_item_passes_somewhere_and_fails_somewhere() {
    let mut problems = Vec::new();
    for (benchmark, conf) in &conformance() {
        let items = bundle_items(benchmark);
        let ids: BTreeSet<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
        if conf.fixtures.len() < 2 {
            problems.push(format!("{benchmark}: lists fewer than two fixtures"));
        }
        for (fixture, states) in &conf.fixtures {
            for id in &ids {
                if !states.contains_key(*id) {
                    problems.push(format!("{benchmark} {fixture}: item {id} is not listed"));
                }
            }
            for (id, state) in states {
                if !ids.contains(id.as_str()) {
                    problems.push(format!(
                        "{benchmark} {fixture}: {id} is no item of the bundle"
                    ));
                }
                if !STATES.contains(&state.as_str()) {
                    problems.push(format!(
                        "{benchmark} {fixture}: {id}: unknown state {state:?}"
                    ));
                }
            }
        }
        for (id, automated) in &items {
            if !automated {
                continue;
            }
            let seen: BTreeSet<&str> = conf
                .fixtures
                .values()
                .filter_map(|states| states.get(id).map(String::as_str))
                .collect();
            let missing: Vec<&str> = ["pass", "fail"]
                .into_iter()
                .filter(|want| !seen.contains(want))
                .collect();
            match (missing.is_empty(), conf.uncovered.get(id)) {
                (false, None) => problems.push(format!(
                    "{benchmark} {id}: automated, but no listed fixture is expected to {} it (seen: {seen:?}); cover it or list it under uncovered with why",
                    missing.join(" or ")
                )),
                (true, Some(_)) => problems.push(format!(
                    "{benchmark} {id}: listed as uncovered, yet fixtures pass and fail it"
                )),
                _ => {}
            }
        }
        for (id, why) in &conf.uncovered {
            if !items.iter().any(|(i, automated)| i == id && *automated) {
                problems.push(format!(
                    "{benchmark}: uncovered {id} is no automated item with a check"
                ));
            }
            if why.len() < 20 {
                problems.push(format!("{benchmark}: uncovered {id} needs a reason"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems with tests/conformance:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Each fixture is materialised once and scanned with every benchmark that lists it.
#[test]
fn scans_report_the_listed_states() {
    let conformance = conformance();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().display().to_string();
    let mut nodes: BTreeMap<&str, Materialised> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (benchmark, conf) in &conformance {
        for (fixture, expected) in &conf.fixtures {
            let node = nodes
                .entry(fixture.as_str())
                .or_insert_with(|| Materialised::new(fixture));
            let root = node.root().display().to_string();
            let out = kubecis(&[
                "scan",
                "--root",
                &root,
                "--benchmark",
                benchmark,
                "--format",
                "json",
                "--node-name",
                fixture,
                "--cache-dir",
                &cache_dir,
            ]);
            if out.status.code() != Some(0) {
                mismatches.push(format!(
                    "{benchmark} {fixture}: the scan exited with {:?}: {}",
                    out.status.code(),
                    stderr(&out)
                ));
                continue;
            }
            let report: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{benchmark} {fixture}: report is not JSON: {e}"));
            assert_eq!(
                report["benchmark"],
                benchmark.as_str(),
                "{benchmark} {fixture}"
            );
            let results: BTreeMap<&str, &serde_json::Value> = report["results"]
                .as_array()
                .unwrap_or_else(|| panic!("{benchmark} {fixture}: report has no results"))
                .iter()
                .map(|r| (r["id"].as_str().unwrap(), r))
                .collect();
            for (id, want) in expected {
                compared += 1;
                let Some(result) = results.get(id.as_str()) else {
                    mismatches.push(format!(
                        "{benchmark} {fixture} {id}: expected {want}, not in the report"
                    ));
                    continue;
                };
                let got = result["state"].as_str().unwrap_or("?");
                if got != want {
                    mismatches.push(format!(
                        "{benchmark} {fixture} {id}: expected {want}, got {got} (actual: {}; reason: {})",
                        result["actual"].as_str().unwrap_or(""),
                        result["reason"].as_str().unwrap_or("")
                    ));
                }
            }
            for id in results.keys() {
                if !expected.contains_key(*id) {
                    mismatches.push(format!(
                        "{benchmark} {fixture} {id}: reported but not listed"
                    ));
                }
            }
        }
    }
    assert!(compared > 0, "nothing compared");
    assert!(
        mismatches.is_empty(),
        "{} of {compared} states differ from tests/conformance:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
