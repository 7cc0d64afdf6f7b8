//! Scan speed and memory on the fixture nodes: cold (empty component cache),
//! warm (cache filled), per-check instantiate+run, and peak memory.
//!
//! cargo bench --bench scan

use kubecis_testkit::fixture;

use kubecis_engine::bundle::Library;
use kubecis_engine::node::Node;
use kubecis_engine::node::discovery::Discovery;
use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
use kubecis_engine::scan::{self, ScanOptions};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 20;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Peak resident memory of finished child processes, in MiB.
fn children_peak_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn self_peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `kubecis scan` process, wall time.
fn cli_scan(root: &Path, cache: &Path) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubecis"))
        .args([
            "scan",
            "--benchmark",
            "cis-1.8",
            "--format",
            "json",
            "--root",
        ])
        .arg(root)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .expect("running kubecis");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    // `cargo bench` passes --bench; nothing to filter here.
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    let bundle = library.get("cis-1.8").unwrap();
    println!(
        "kubecis scan benchmark: {} ({} items), {RUNS} runs each, medians\n",
        bundle.benchmark,
        bundle.items().count()
    );
    println!(
        "{:<30} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "fixture", "cold cli", "warm cli", "warm lib", "per check", "checks run"
    );

    for name in [
        "kubeadm-control-plane",
        "hardened-control-plane",
        "misconfigured-control-plane",
        "kubeadm-worker",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fixture::materialise(&fixture::nodes_dir().join(name), &root);

        // Cold: a fresh cache directory every run, so every component compiles.
        let cold = median(
            (0..5)
                .map(|i| cli_scan(&root, &tmp.path().join(format!("cold-cache-{i}"))))
                .collect(),
        );
        let cache = tmp.path().join("cache");
        cli_scan(&root, &cache);
        let warm = median((0..RUNS).map(|_| cli_scan(&root, &cache)).collect());

        // In-process: load from the warm cache, then scan.
        let mut lib_times = Vec::new();
        let mut per_check = Vec::new();
        let mut checks_run = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut sandbox =
                Sandbox::new(Limits::default(), Some(Cache::open(cache.clone()).unwrap())).unwrap();
            scan::prepare(&mut sandbox, bundle).unwrap();
            assert_eq!(sandbox.stats.compiled, 0, "a warm scan must not compile");
            let node = Arc::new(Node::at_root(&root, None).unwrap());
            let discovery = Arc::new(Discovery::run(&node));
            let report = scan::scan(
                bundle,
                node.clone(),
                discovery.clone(),
                &sandbox,
                &ScanOptions::default(),
            );
            lib_times.push(start.elapsed());

            let types = &report.node.node_types;
            let items: Vec<_> = bundle
                .items()
                .filter(|(s, _, i)| types.contains(&s.node_type) && i.check.is_some())
                .map(|(_, _, item)| item)
                .collect();
            checks_run = items.len();
            let start = Instant::now();
            scan::judge_all(bundle, &items, &discovery, node.clone(), &sandbox);
            per_check.push(start.elapsed() / items.len().max(1) as u32);
        }
        println!(
            "{:<30} {:>10} {:>10} {:>10} {:>9.0} µs {:>12}",
            name,
            ms(cold),
            ms(warm),
            ms(median(lib_times)),
            median(per_check).as_secs_f64() * 1e6,
            checks_run
        );
    }
    println!(
        "\npeak memory: kubecis scan process {:.1} MiB; this benchmark process {:.1} MiB",
        children_peak_mib(),
        self_peak_mib()
    );
}
