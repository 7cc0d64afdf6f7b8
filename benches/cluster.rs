//! Composing a cluster report from 5,000 node reports: wall time and peak
//! memory of `kubecis report`. The inputs are real scans of the fixture nodes
//! (3 control planes, the rest workers), varied per node.
//!
//! cargo bench --bench cluster

use kubecis_testkit::fixture;

use kubecis_engine::bundle::Library;
use kubecis_engine::node::Node;
use kubecis_engine::node::discovery::Discovery;
use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
use kubecis_engine::scan::{self, ScanOptions};
use kubecis_model::report::{Report, State};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const NODES: usize = 5000;

fn scan_fixture(name: &str, sandbox: &Sandbox, bundle: &kubecis_engine::bundle::Bundle) -> Report {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fixture::materialise(&fixture::nodes_dir().join(name), &root);
    let node = Arc::new(Node::at_root(&root, None).unwrap());
    let discovery = Arc::new(Discovery::run(&node));
    scan::scan(bundle, node, discovery, sandbox, &ScanOptions::default())
}

fn peak_children_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() {
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    let bundle = library.get("cis-1.8").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut sandbox = Sandbox::new(
        Limits::default(),
        Some(Cache::open(dir.path().join("cache")).unwrap()),
    )
    .unwrap();
    scan::prepare(&mut sandbox, bundle).unwrap();
    let control_plane = scan_fixture("misconfigured-control-plane", &sandbox, bundle);
    let worker = scan_fixture("kubeadm-worker", &sandbox, bundle);

    let inputs = dir.path().join("nodes");
    std::fs::create_dir(&inputs).unwrap();
    let mut bytes = 0;
    for i in 0..NODES {
        let mut r = if i < 3 {
            control_plane.clone()
        } else {
            worker.clone()
        };
        r.node.name = format!("node-{i:05}");
        r.node.kubernetes_version = Some("1.26.9".into());
        // Vary results per node so states disagree across nodes.
        for (j, res) in r.results.iter_mut().enumerate() {
            if (i * 31 + j * 17) % 11 == 0 {
                res.state = match res.state {
                    State::Pass => State::Fail,
                    State::Fail => State::Pass,
                    other => other,
                };
            }
        }
        let text = serde_json::to_vec(&r).unwrap();
        bytes += text.len();
        std::fs::write(inputs.join(format!("node-{i:05}.json")), text).unwrap();
    }
    println!("{NODES} node reports, {:.0} MB of JSON", bytes as f64 / 1e6);

    for format in ["json", "csv"] {
        let out = dir.path().join(format!("cluster.{format}"));
        let start = Instant::now();
        let run = Command::new(env!("CARGO_BIN_EXE_kubecis"))
            .arg("report")
            .arg(&inputs)
            .args(["--format", format, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        println!(
            "kubecis report --format {format}: {:.2} s wall, output {:.1} MB",
            took.as_secs_f64(),
            std::fs::metadata(&out).unwrap().len() as f64 / 1e6
        );
    }
    println!(
        "peak memory of kubecis report: {:.0} MiB",
        peak_children_mib()
    );
}
