//! A resident agent's scan against the CLI's: the same node (the kubeadm
//! control-plane fixture), the same benchmark, a warm component cache for
//! both. The CLI pays a process start, the bundles' loading and the
//! components' loading on every scan; the agent keeps its sandbox warm
//! between jobs. Printed: the CLI's wall time per scan; the agent's time
//! inside each job (its own log: prepare and scan); and the whole job as a
//! user sees it (run now → report composed on the server).
//!
//! cargo bench --bench agent [-- RUNS]

#[path = "support/serve.rs"]
mod support;

use kubecis_testkit::fixture;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{AGENT_TOKEN, peak_rss_mib, request, start_server};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:>8.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cp-1");
    fixture::materialise(&fixture::nodes_dir().join("kubeadm-control-plane"), &root);
    let cache = dir.path().join("cache");
    let kubecis = env!("CARGO_BIN_EXE_kubecis");

    // The CLI: one warm-up to fill the cache, then timed scans.
    let cli_scan = || {
        let started = Instant::now();
        let out = Command::new(kubecis)
            .args([
                "scan",
                "--benchmark",
                "cis-1.8",
                "--format",
                "json",
                "--node-name",
                "cp-1",
                "--root",
            ])
            .arg(&root)
            .arg("--cache-dir")
            .arg(&cache)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(out.code().is_some_and(|c| c <= 1), "scan failed: {out}");
        started.elapsed()
    };
    cli_scan();
    let cli: Vec<Duration> = (0..runs).map(|_| cli_scan()).collect();

    // The agent, resident, against a real server.
    let (mut server, address) = start_server(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, deadline: 1m}\n",
    );
    std::fs::write(dir.path().join("agent.token"), AGENT_TOKEN).unwrap();
    let mut agent = Command::new(kubecis)
        .args([
            "agent",
            "--server",
            &format!("http://{address}"),
            "--node-name",
            "cp-1",
            "--token-file",
        ])
        .arg(dir.path().join("agent.token"))
        .arg("--root")
        .arg(&root)
        .arg("--cache-dir")
        .arg(&cache)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The agent's own figure per job, from its log.
    let (said, scans) = mpsc::channel::<Duration>();
    let log = BufReader::new(agent.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            let figure = line
                .split_once("scanned in ")
                .and_then(|(_, rest)| rest.split_once(" ms"))
                .and_then(|(n, _)| n.parse::<f64>().ok());
            if let Some(ms) = figure {
                let _ = said.send(Duration::from_secs_f64(ms / 1e3));
            }
        }
    });
    let run_job = || {
        let started = Instant::now();
        let (status, body) = request(&address, "POST", "/api/v1/scans/cis/run", b"");
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
        let job: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let needle = format!("\"job\":{}", job["job"]);
        loop {
            let (_, list) = request(&address, "GET", "/api/v1/reports?limit=1", b"");
            if String::from_utf8_lossy(&list).contains(&needle) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "job never completed"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        (
            started.elapsed(),
            scans.recv_timeout(Duration::from_secs(10)).unwrap(),
        )
    };
    // Wait for the agent to register, then one job to warm it.
    let started = Instant::now();
    while !String::from_utf8_lossy(&request(&address, "GET", "/api/v1/agents", b"").1)
        .contains("cp-1")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the agent never registered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, first_scan) = run_job();
    let (jobs, agent_scans): (Vec<Duration>, Vec<Duration>) = (0..runs).map(|_| run_job()).unzip();
    let agent_rss = peak_rss_mib(agent.id());
    let _ = agent.kill();
    let _ = server.kill();
    let _ = (agent.wait(), server.wait());

    println!(
        "kubecis agent against the CLI: kubeadm control plane, cis-1.8, warm cache, median of {runs}"
    );
    println!(
        "  CLI scan (process, wall)                  {}",
        ms(median(cli))
    );
    println!(
        "  agent's first scan after start            {}",
        ms(first_scan)
    );
    println!(
        "  agent scan (resident, warm sandbox)       {}",
        ms(median(agent_scans))
    );
    println!(
        "  agent job: run now -> report composed     {}",
        ms(median(jobs))
    );
    println!("  agent peak memory                         {agent_rss:>8.1} MiB");
}
