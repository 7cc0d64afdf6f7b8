//! End-to-end scans of the node fixtures under tests/nodes: every item's state
//! must be what its node.yaml expects.

mod support;

use support::fixture;

use kubecis::bundle::Library;
use kubecis::node::Node;
use kubecis::node::discovery::Discovery;
use kubecis::report::Report;
use kubecis::sandbox::{Cache, Limits, Sandbox};
use kubecis::scan::{self, ScanOptions};
use std::sync::Arc;

/// Materialise a fixture and scan it with the benchmark its node.yaml names.
fn scan_fixture(name: &str) -> (fixture::Fixture, Report) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let fx = fixture::materialise(&fixture::nodes_dir().join(name), &root);
    let library = Library::load(None).unwrap();
    let bundle = library.get(&fx.benchmark).unwrap();
    let mut sandbox = Sandbox::new(
        Limits::default(),
        Some(Cache::new(tmp.path().join("cache"))),
    )
    .unwrap();
    scan::prepare(&mut sandbox, bundle).unwrap();
    let node = Arc::new(Node::at_root(&root, None).unwrap());
    let options = ScanOptions {
        node_name: name.to_owned(),
        ..ScanOptions::default()
    };
    let discovery = Arc::new(Discovery::run(&node));
    (fx, scan::scan(bundle, node, discovery, &sandbox, &options))
}

/// Every expected state, all mismatches reported at once.
fn assert_expected(name: &str) {
    let (fx, report) = scan_fixture(name);
    let unlisted: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !fx.expected.contains_key(*id))
        .collect();
    assert!(
        unlisted.is_empty(),
        "{name} ({}, Kubernetes {}): node.yaml lists no state for {unlisted:?}",
        fx.description,
        fx.kubernetes
    );
    if let Some(want) = &fx.distribution {
        assert_eq!(
            &report.node.distribution, want,
            "{name}: {}",
            report.node.distribution_from
        );
    }
    let mut wrong = Vec::new();
    for (id, want) in &fx.expected {
        let got = report
            .result(id)
            .map(|r| r.state.as_str())
            .unwrap_or("notApplicable");
        let got_detail = report
            .result(id)
            .map(|r| format!("{} | {}", r.actual, r.reason))
            .unwrap_or_default();
        if got != want {
            wrong.push(format!("{id}: expected {want}, got {got} ({got_detail})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{name}: {} items differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every fixture under tests/nodes: adding a node (or a Kubernetes version) is adding data.
#[test]
fn every_fixture_scans_to_its_expected_states() {
    let mut names: Vec<String> = std::fs::read_dir(fixture::nodes_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("node.yaml").is_file())
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 14, "{names:?}");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| {
            std::panic::catch_unwind(|| assert_expected(name))
                .err()
                .map(|_| name.clone())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "fixtures with wrong states (see above): {failures:?}"
    );
}

/// Every fixture that shows its Kubernetes version maps, as `--benchmark auto`
/// would, to the benchmark its node.yaml names.
#[test]
fn auto_maps_every_fixture_to_its_benchmark() {
    use kubecis::node::discovery::Discovery;
    let library = Library::load(None).unwrap();
    let mut checked = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(fixture::nodes_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.join("node.yaml").is_file()) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let fx = fixture::materialise(&dir, &root);
        let node = Node::at_root(&root, None).unwrap();
        let discovery = Discovery::run(&node);
        let distribution = &discovery.distribution.0;
        // Workers and RKE show no version on disk: there --k8s-version states it.
        let version = discovery
            .kubernetes_version
            .clone()
            .map_or(fx.kubernetes.clone(), |(v, _)| v);
        assert_eq!(version, fx.kubernetes, "{}", dir.display());
        let (bundle, warning) = library.for_kubernetes(&version, distribution).unwrap();
        assert_eq!(bundle.benchmark, fx.benchmark, "{}", dir.display());
        assert!(warning.is_none(), "{}: {warning:?}", dir.display());
        checked.push(dir.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(checked.len() >= 6, "{checked:?}");
}
