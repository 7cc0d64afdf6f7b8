//! End-to-end scans of the node fixtures under tests/nodes: every item's state
//! must be what its node.yaml expects.

use crate::support;

use support::fixture;

use kubecis_engine::bundle::Library;
use kubecis_engine::node::Node;
use kubecis_engine::node::discovery::Discovery;
use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
use kubecis_engine::scan::{self, ScanOptions};
use kubecis_model::report::Report;
use std::sync::Arc;

/// Scan a node root with a benchmark, in process.
fn scan_root(root: &std::path::Path, benchmark: &str, name: &str) -> Report {
    let cache = tempfile::tempdir().unwrap();
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    let bundle = library.get(benchmark).unwrap();
    let mut sandbox = Sandbox::new(
        Limits::default(),
        Some(Cache::open(cache.path().to_owned()).unwrap()),
    )
    .unwrap();
    scan::prepare(&mut sandbox, bundle).unwrap();
    let node = Arc::new(Node::at_root(root, None).unwrap());
    let options = ScanOptions {
        node_name: name.to_owned(),
        ..ScanOptions::default()
    };
    let discovery = Arc::new(Discovery::run(&node));
    scan::scan(bundle, node, discovery, &sandbox, &options)
}

fn result<'a>(report: &'a Report, id: &str) -> &'a kubecis_model::report::CheckResult {
    report.results.iter().find(|r| r.id == id).unwrap()
}

/// Every expected state, all mismatches reported at once: of the benchmark
/// the fixture names and of each benchmark under `also`.
fn assert_expected(name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let fx = fixture::materialise(&fixture::nodes_dir().join(name), &root);
    let mut wrong = Vec::new();
    let mut benchmarks = vec![(&fx.benchmark, &fx.expected)];
    benchmarks.extend(&fx.also);
    for (benchmark, expected) in benchmarks {
        let report = scan_root(&root, benchmark, name);
        let unlisted: Vec<&str> = report
            .results
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !expected.contains_key(*id))
            .collect();
        assert!(
            unlisted.is_empty(),
            "{name} ({}, Kubernetes {}): node.yaml lists no {benchmark} state for {unlisted:?}",
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
        for (id, want) in expected {
            let got = report
                .result(id)
                .map(|r| r.state.as_str())
                .unwrap_or("notApplicable");
            let got_detail = report
                .result(id)
                .map(|r| format!("{} | {}", r.actual, r.reason))
                .unwrap_or_default();
            if got != want {
                wrong.push(format!(
                    "{benchmark} {id}: expected {want}, got {got} ({got_detail})"
                ));
            }
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
    use kubecis_engine::node::discovery::Discovery;
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
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
        // Every fixture shows its version: image tags, k3s's log, RKE's
        // docker containers, the kubelet's package.
        let (version, from) = discovery
            .kubernetes_version
            .get()
            .unwrap_or_else(|| panic!("{}: no Kubernetes version found", dir.display()));
        assert_eq!(version, fx.kubernetes, "{}: {from}", dir.display());
        let (bundle, warning) = library.for_kubernetes(&version, distribution).unwrap();
        assert_eq!(bundle.benchmark, fx.benchmark, "{}", dir.display());
        assert!(warning.is_none(), "{}: {warning:?}", dir.display());
        checked.push(dir.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(checked.len() >= 6, "{checked:?}");
}

/// Without its log, k3s's embedded components run with arguments no one can
/// read: their items are errors that say so, never a pass on defaults.
#[test]
fn k3s_without_its_log_is_an_error_not_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fixture::materialise(&fixture::nodes_dir().join("k3s-server"), &root);
    std::fs::remove_file(root.join("var/log/k3s.log")).unwrap();
    let node = Node::at_root(&root, None).unwrap();
    let discovery = Discovery::run(&node);
    assert_eq!(discovery.kubernetes_version.get(), None);
    assert!(discovery.is_running("apiserver") && discovery.is_running("kubelet"));

    let report = scan_root(&root, "cis-1.10", "k3s-1");
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    let bundle = library.get("cis-1.10").unwrap();
    let embedded = [
        "apiserver",
        "controllermanager",
        "scheduler",
        "kubelet",
        "proxy",
    ];
    let mut errors = 0;
    for (_, _, item) in bundle.items() {
        if item.check.is_none()
            || !item
                .grants
                .processes
                .iter()
                .any(|p| embedded.contains(&p.as_str()))
        {
            continue;
        }
        let r = result(&report, &item.id);
        assert_eq!(
            r.state,
            kubecis_model::report::State::Error,
            "{}: {r:?}",
            item.id
        );
        assert!(
            r.reason.contains("no k3s log was found"),
            "{}: {}",
            item.id,
            r.reason
        );
        errors += 1;
    }
    assert!(errors > 50, "{errors}");
    // Embedded etcd's settings are in its config file, log or no log.
    assert_eq!(
        result(&report, "2.2").state,
        kubecis_model::report::State::Pass
    );
    assert!(report.node.components.contains(&"apiserver".to_owned()));
}

/// etcd given --config-file ignores its other flags and its environment.
#[test]
fn etcd_is_judged_by_its_config_file() {
    use kubecis_model::report::State;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fixture::materialise(&fixture::nodes_dir().join("kubeadm-control-plane"), &root);
    let cmdline = root.join("proc/2174/cmdline");
    let argv = std::fs::read_to_string(&cmdline).unwrap();
    // The command line keeps its secure flags and gains a config file that undoes them.
    std::fs::write(&cmdline, argv + "--config-file=/etc/etcd/etcd.conf.yml\0").unwrap();
    std::fs::create_dir_all(root.join("etc/etcd")).unwrap();
    let config = root.join("etc/etcd/etcd.conf.yml");
    std::fs::write(
        &config,
        "name: cp-1\ndata-dir: /var/lib/etcd\n\
         client-transport-security:\n  cert-file: /etc/kubernetes/pki/etcd/server.crt\n  \
         key-file: /etc/kubernetes/pki/etcd/server.key\n  client-cert-auth: false\n\
         peer-transport-security:\n  auto-tls: true\n",
    )
    .unwrap();
    let report = scan_root(&root, "cis-1.8", "cp-1");
    assert_eq!(result(&report, "2.1").state, State::Pass);
    let r = result(&report, "2.2");
    assert_eq!(r.state, State::Fail, "{r:?}");
    assert!(
        r.actual.contains("--client-cert-auth=false"),
        "{}",
        r.actual
    );
    assert_eq!(result(&report, "2.4").state, State::Fail); // no peer certificate in the file
    assert_eq!(result(&report, "2.6").state, State::Fail); // peer auto-tls on
    assert!(
        report.node.arguments_from["etcd"].contains("/etc/etcd/etcd.conf.yml"),
        "{:?}",
        report.node.arguments_from
    );

    // A config file etcd cannot have read leaves nothing to judge: errors, no passes.
    std::fs::write(&config, "client-transport-security: [broken\n").unwrap();
    let report = scan_root(&root, "cis-1.8", "cp-1");
    for id in ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"] {
        let r = result(&report, id);
        assert_eq!(r.state, State::Error, "{id}: {r:?}");
        assert!(
            r.reason.contains("/etc/etcd/etcd.conf.yml"),
            "{id}: {}",
            r.reason
        );
    }
}

/// On a systemd node k3s logs to the journal: the same arguments, read with
/// journalctl from the node root's journal files, give the same states.
#[test]
fn k3s_arguments_from_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let fx = fixture::materialise(&fixture::nodes_dir().join("k3s-server"), &root);
    let log = std::fs::read_to_string(root.join("var/log/k3s.log")).unwrap();
    std::fs::remove_file(root.join("var/log/k3s.log")).unwrap();
    // Journal export format: one entry per log line, as k3s.service wrote it.
    let export: String = log
        .lines()
        .enumerate()
        .map(|(i, line)| {
            format!(
                "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n\
                 _BOOT_ID=5c1d0e3a9b7f4e2d8a6c4b2e0f1d3c5a\n_SYSTEMD_UNIT=k3s.service\n\
                 SYSLOG_IDENTIFIER=k3s\n_PID=1791\nMESSAGE={line}\n\n",
                1_717_401_600_000_000u64 + i as u64 * 1000,
                i + 1
            )
        })
        .collect();
    let dir = root.join("var/log/journal/5c1d0e3a9b7f4e2d8a6c4b2e0f1d3c5a");
    std::fs::create_dir_all(&dir).unwrap();
    let mut writer = std::process::Command::new("/lib/systemd/systemd-journal-remote")
        .arg("-o")
        .arg(dir.join("remote.journal"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("apt-get install systemd-journal-remote");
    use std::io::Write;
    writer
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    assert!(writer.wait().unwrap().success());

    let report = scan_root(&root, "cis-1.10", "k3s-1");
    let from = &report.node.arguments_from["apiserver"];
    assert!(from.contains("the journal in"), "{from}");
    let wrong: Vec<String> = report
        .results
        .iter()
        .filter(|r| serde_json::to_value(r.state).unwrap() != fx.also["cis-1.10"][&r.id].as_str())
        .map(|r| format!("{}: {:?} ({})", r.id, r.state, r.reason))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// An RKE2 agent runs only the kubelet (by bare name) and kube-proxy: no API
/// server, no control-plane static pod with an image tag. Its version is in
/// the name of RKE2's data directory, which `/var/lib/rancher/rke2/bin`
/// links to, or which the kubelet's `/proc/<pid>/exe` points into.
#[test]
fn an_rke2_agent_shows_its_version_in_rke2s_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let proc = root.join("proc/2100");
    std::fs::create_dir_all(&proc).unwrap();
    std::fs::write(
        proc.join("cmdline"),
        "kubelet\0--kubeconfig=/var/lib/rancher/rke2/agent/kubelet.kubeconfig\0",
    )
    .unwrap();
    let rancher = root.join("var/lib/rancher/rke2");
    for dir in ["v1.29.8-rke2r1-4a1c9e2b", "v1.30.4-rke2r1-0c5d7f3e"] {
        std::fs::create_dir_all(rancher.join("data").join(dir).join("bin")).unwrap();
    }
    std::os::unix::fs::symlink("data/v1.30.4-rke2r1-0c5d7f3e/bin", rancher.join("bin")).unwrap();
    let found = |root: &std::path::Path| {
        let node = Node::at_root(root, None).unwrap();
        let discovery = Discovery::run(&node);
        assert_eq!(discovery.distribution.0, "rke2");
        discovery.kubernetes_version.get().unwrap()
    };
    let (version, from) = found(root);
    assert_eq!(version, "1.30.4", "{from}");
    assert!(
        from.contains("v1.30.4-rke2r1-0c5d7f3e") && from.contains("/var/lib/rancher/rke2/bin"),
        "{from}"
    );
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    assert_eq!(
        library
            .for_kubernetes(&version, "rke2")
            .unwrap()
            .0
            .benchmark,
        "rke2-cis-1.11"
    );

    // The running kubelet's executable says which data directory is in use.
    std::os::unix::fs::symlink(
        "/var/lib/rancher/rke2/data/v1.29.8-rke2r1-4a1c9e2b/bin/kubelet",
        proc.join("exe"),
    )
    .unwrap();
    let (version, from) = found(root);
    assert_eq!(version, "1.29.8", "{from}");
    assert!(from.contains("the kubelet's executable"), "{from}");
}
