//! kubecis against kube-bench's way of checking, side by side on one live
//! node (the live test's: tests/live/node.sh, in private mount and PID
//! namespaces, with a real etcd): a warm `kubecis scan --benchmark cis-1.8`
//! process, and every `audit`, `audit_env` and `audit_config` command of
//! kube-bench's cis-1.8 run through `/bin/sh -c` one by one, as kube-bench
//! runs them. Prints both medians and the ratio, and kubecis' cold scan.
//!
//! Needs root, unshare, gcc, etcd and kube-bench's definitions in
//! `../shared/reference/kube-bench` (or `KUBE_BENCH_CFG=DIR`).
//!
//! cargo bench --bench versus_kube_bench

#[path = "../tests/support/live_node.rs"]
mod live_node;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KUBECIS_RUNS: usize = 30;
const KUBE_BENCH_RUNS: usize = 5;
const SECTIONS: [&str; 5] = ["master", "etcd", "controlplane", "node", "policies"];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn kube_bench_dir() -> PathBuf {
    std::env::var_os("KUBE_BENCH_CFG").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/kube-bench"),
        PathBuf::from,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--inside") {
        inside(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
        return;
    }
    let cfg = kube_bench_dir();
    assert!(
        cfg.join("cis-1.8").is_dir(),
        "kube-bench's definitions are not at {} (set KUBE_BENCH_CFG)",
        cfg.display()
    );
    let work = tempfile::tempdir().unwrap();
    let status = live_node::command(work.path())
        .arg(std::env::current_exe().unwrap())
        .arg("--inside")
        .arg(env!("CARGO_BIN_EXE_kubecis"))
        .arg(work.path())
        .env("KUBE_BENCH_CFG", &cfg)
        .status()
        .expect("running unshare (as root)");
    assert!(status.success(), "the live node failed");
}

/// On the live node.
fn inside(kubecis: &Path, work: &Path) {
    let scan = |cache: &Path| {
        let start = Instant::now();
        let out = Command::new(kubecis)
            .args(["scan", "--benchmark", "cis-1.8", "--format", "json"])
            .arg("--cache-dir")
            .arg(cache)
            .stderr(Stdio::inherit())
            .output()
            .expect("running kubecis");
        let took = start.elapsed();
        assert!(!out.stdout.is_empty(), "kubecis printed no report");
        took
    };
    let cold = median(
        (0..5)
            .map(|i| scan(&work.join(format!("cold-{i}"))))
            .collect(),
    );
    let cache = work.join("warm");
    scan(&cache);
    let warm = median((0..KUBECIS_RUNS).map(|_| scan(&cache)).collect());

    let cfg = kube_bench_dir();
    let commands = audit_commands(&cfg);
    let probes = binary_probes(&cfg);
    let run_all = || {
        let start = Instant::now();
        for command in &commands {
            Command::new("/bin/sh")
                .arg("-c")
                .arg(command)
                .stdin(Stdio::null())
                .output()
                .expect("running /bin/sh");
        }
        start.elapsed()
    };
    let run_probes = || {
        let start = Instant::now();
        let mut ran = 0;
        for candidates in &probes {
            for bin in candidates {
                ran += 1;
                let out = Command::new("/bin/ps")
                    .args(["-C", bin, "-o", "cmd", "--no-headers"])
                    .output()
                    .expect("running /bin/ps");
                if out.status.success() && !out.stdout.is_empty() {
                    break;
                }
            }
        }
        (start.elapsed(), ran)
    };
    run_all();
    let kube_bench = median((0..KUBE_BENCH_RUNS).map(|_| run_all()).collect());
    let probe_runs: Vec<(Duration, usize)> = (0..KUBE_BENCH_RUNS).map(|_| run_probes()).collect();
    let probes_ran = probe_runs[0].1;
    let discovery = median(probe_runs.into_iter().map(|(d, _)| d).collect());

    println!("cis-1.8 on the live control-plane node (apiserver, kubelet, a real etcd), medians\n");
    println!(
        "kubecis scan, warm cache ({KUBECIS_RUNS} runs)       {:>9.1} ms",
        ms(warm)
    );
    println!(
        "kubecis scan, cold cache (5 runs)         {:>9.1} ms",
        ms(cold)
    );
    println!(
        "kube-bench's {} audit commands via /bin/sh ({KUBE_BENCH_RUNS} runs) {:>9.1} ms",
        commands.len(),
        ms(kube_bench)
    );
    println!(
        "kube-bench's {probes_ran} `ps -C` probes for its components' binaries   {:>9.1} ms",
        ms(discovery)
    );
    println!(
        "\nkubecis (warm) against kube-bench's audit commands: {:.0}x faster",
        kube_bench.as_secs_f64() / warm.as_secs_f64()
    );
    println!(
        "kubecis (warm) against kube-bench's audit commands and binary probes: {:.0}x faster",
        (kube_bench + discovery).as_secs_f64() / warm.as_secs_f64()
    );
}

/// Before its checks kube-bench looks for each component of each target
/// (master, etcd, controlplane, node) by trying its candidate binaries from
/// config.yaml with `ps -C <binary>`, until one runs.
fn binary_probes(cfg: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(cfg.join("config.yaml")).expect("kube-bench config.yaml");
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("config.yaml");
    let mut probes = Vec::new();
    for target in ["master", "etcd", "controlplane", "node"] {
        for component in config[target]["components"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let Some(name) = component.as_str() else {
                continue;
            };
            let bins: Vec<String> = config[target][name]["bins"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|b| b.as_str())
                .filter_map(|b| b.split_whitespace().next().map(str::to_owned))
                .collect();
            if !bins.is_empty() {
                probes.push(bins);
            }
        }
    }
    probes
}

/// kube-bench's commands for cis-1.8, with its variables filled in the way
/// kube-bench fills them from config.yaml: a component's binary name, its
/// first config (kubeconfig, service file, CA file, data dir) that exists,
/// else the default. Manual and skipped checks run nothing in kube-bench.
fn audit_commands(cfg: &Path) -> Vec<String> {
    let yaml = |path: PathBuf| -> serde_yaml_ng::Value {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let config = yaml(cfg.join("config.yaml"));
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for section in ["master", "node", "etcd"] {
        let Some(map) = config[section].as_mapping() else {
            continue;
        };
        for (name, component) in map {
            let Some(name) = name.as_str() else { continue };
            let list = |key: &str| -> Vec<String> {
                component[key]
                    .as_sequence()
                    .map(|s| {
                        s.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if let Some(bin) = list("bins").first() {
                vars.insert(format!("{name}bin"), bin.clone());
            }
            for (var, many, default) in [
                ("conf", "confs", "defaultconf"),
                ("kubeconfig", "kubeconfig", "defaultkubeconfig"),
                ("svc", "svc", "defaultsvc"),
                ("cafile", "cafile", "defaultcafile"),
                ("datadir", "datadirs", "defaultdatadir"),
            ] {
                let found = list(many)
                    .into_iter()
                    .find(|p| Path::new(p).exists())
                    .or_else(|| component[default].as_str().map(str::to_owned));
                if let Some(path) = found {
                    vars.insert(format!("{name}{var}"), path);
                }
            }
        }
    }
    // Longest names first, so `$kubeletconf` is not read as `$kubelet` + `conf`.
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let fill = |command: &str| {
        let mut out = command.to_owned();
        for name in &names {
            out = out.replace(&format!("${name}"), &vars[*name]);
        }
        out
    };
    let mut commands = Vec::new();
    for section in SECTIONS {
        let doc = yaml(cfg.join("cis-1.8").join(format!("{section}.yaml")));
        for group in doc["groups"].as_sequence().into_iter().flatten() {
            for check in group["checks"].as_sequence().into_iter().flatten() {
                if matches!(check["type"].as_str(), Some("manual" | "skip")) {
                    continue;
                }
                for key in ["audit_env", "audit", "audit_config"] {
                    if let Some(command) = check[key].as_str().filter(|c| !c.trim().is_empty()) {
                        commands.push(fill(command));
                    }
                }
            }
        }
    }
    commands
}
