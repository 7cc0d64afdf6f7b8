//! The example checks of checks/README.md, one per language: component
//! size, first compile (no cache), load from the compile cache, warm run
//! (a fresh instance per check, as in a scan) and the smallest memory cap
//! each runs under, on the insecure-control-plane fixture.
//!
//! cargo bench --bench examples

use kubecis_engine::bundle::Library;
use kubecis_engine::node::Node;
use kubecis_engine::node::discovery::Discovery;
use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
use kubecis_engine::scan;
use kubecis_testkit::fixture;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../checks/examples/build.sh");
    let start = Instant::now();
    let out = Command::new("bash")
        .arg(script)
        .arg(tmp.path().join("bundles"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "checks/examples/build.sh: {:.1} s (all three, toolchains installed)\n",
        start.elapsed().as_secs_f64()
    );
    let library = Library::load(
        &kubecis_builtin::BUILTINS,
        Some(&tmp.path().join("bundles")),
    )
    .unwrap();
    let bundle = library.get("org-node-rules").unwrap();
    let root = tmp.path().join("root");
    fixture::materialise(&fixture::nodes_dir().join("insecure-control-plane"), &root);
    let node = Arc::new(Node::at_root(&root, None).unwrap());
    let discovery = Arc::new(Discovery::run(&node));

    println!(
        "{:<20} {:<11} {:>10} {:>14} {:>12} {:>10} {:>9}",
        "component", "language", "size", "first compile", "cache load", "warm run", "fits in"
    );
    for (id, language) in [
        ("90.1.1", "Python"),
        ("90.1.2", "JavaScript"),
        ("90.1.3", "Rust"),
    ] {
        let (_, _, item) = bundle.items().find(|(_, _, i)| i.id == id).unwrap();
        let name = item.check.clone().unwrap();
        let component = &bundle.components[&name];

        let mut sandbox = Sandbox::new(Limits::default(), None).unwrap();
        let start = Instant::now();
        sandbox
            .load(&name, &component.wasm, &component.sha256)
            .unwrap();
        let first_compile = start.elapsed();

        let cache_dir = tmp.path().join(format!("cache-{name}"));
        let cached = |limits: Limits| {
            let mut sandbox =
                Sandbox::new(limits, Some(Cache::open(cache_dir.clone()).unwrap())).unwrap();
            sandbox
                .load(&name, &component.wasm, &component.sha256)
                .unwrap();
            sandbox
        };
        drop(cached(Limits::default()));
        let start = Instant::now();
        let sandbox = cached(Limits::default());
        let cache_load = start.elapsed();
        assert_eq!(sandbox.stats.from_cache, 1);

        let run = |sandbox: &Sandbox| {
            scan::judge_all(bundle, &[item], &discovery, node.clone(), sandbox)
                .remove(0)
                .1
        };
        let outcome = run(&sandbox);
        assert!(
            outcome.reason.is_empty() || !outcome.reason.contains("trapped"),
            "{outcome:?}"
        );
        let warm = median(
            (0..RUNS)
                .map(|_| {
                    let start = Instant::now();
                    run(&sandbox);
                    start.elapsed()
                })
                .collect(),
        );
        // The smallest cap, in MiB steps, under which it still judges.
        let fits = (1..=64)
            .find(|mib| {
                let limits = Limits {
                    memory_bytes: mib << 20,
                    ..Limits::default()
                };
                !run(&cached(limits)).reason.contains("memory cap")
            })
            .map_or("> 64 MiB".to_owned(), |m| format!("{m} MiB"));
        println!(
            "{:<20} {:<11} {:>7.1} MB {:>14} {:>12} {:>10} {:>9}",
            name,
            language,
            component.wasm.len() as f64 / 1e6,
            ms(first_compile),
            ms(cache_load),
            ms(warm),
            fits
        );
    }
    println!(
        "\nwarm run: median of {RUNS}, a fresh instance each; the default memory cap is {} MiB",
        Limits::default().memory_bytes >> 20
    );
}
