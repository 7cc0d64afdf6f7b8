//! `kubecis serve` at cluster scale, over loopback with real uploads: 5,000
//! agents registered, one job, 5,000 node reports uploaded (recorded scans
//! of the fixture nodes, one per node name) by 4 client threads; then the
//! time from the last upload to the composed report, the time to serve the
//! 5,000-node report, and the server's peak memory.
//!
//! cargo bench --bench serve [-- NODES]

use kubecis_testkit::fixture;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/serve.rs"]
mod support;

use support::{page, peak_rss_mib, request, sign_in, start_server};

/// A recorded node report of a fixture, as JSON with `NODE` for its name.
fn recorded(name: &str, dir: &Path) -> String {
    let root = dir.join(name);
    fixture::materialise(&fixture::nodes_dir().join(name), &root);
    let out = Command::new(env!("CARGO_BIN_EXE_kubecis"))
        .args([
            "scan",
            "--benchmark",
            "cis-1.8",
            "--node-name",
            "NODE",
            "--format",
            "json",
            "--root",
        ])
        .arg(&root)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn main() {
    let nodes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir().unwrap();
    let templates = [
        recorded("kubeadm-worker", dir.path()),
        recorded("kubeadm-control-plane", dir.path()),
    ];
    let (mut server, address) = start_server(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, deadline: 1h}\n",
    );

    let names: Vec<String> = (0..nodes).map(|i| format!("node-{i:05}")).collect();
    let started = Instant::now();
    for name in &names {
        let reg = format!(
            r#"{{"node":"{name}","nodeTypes":["node"],"kubernetesVersion":"1.26.9","distribution":"kubeadm","agentVersion":"bench"}}"#
        );
        assert_eq!(
            request(&address, "POST", "/api/v1/agents/register", reg.as_bytes()).0,
            204
        );
    }
    let registered = started.elapsed();
    let (status, body) = request(&address, "POST", "/api/v1/scans/cis/run", b"");
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let job: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let job = job["job"].as_i64().unwrap();

    // Uploads by 4 threads, each node's report its template with its name;
    // the last node's alone, timed from its sending to the composed report.
    let body_of =
        |i: usize, name: &str| templates[i % 10 / 9].replace("\"NODE\"", &format!("\"{name}\""));
    let (last, rest) = names.split_last().unwrap();
    let uploads_started = Instant::now();
    std::thread::scope(|s| {
        for (k, part) in rest.chunks(rest.len().div_ceil(4).max(1)).enumerate() {
            let (address, body_of) = (&address, &body_of);
            let offset = k * rest.len().div_ceil(4).max(1);
            s.spawn(move || {
                for (i, name) in part.iter().enumerate() {
                    let body = body_of(offset + i, name);
                    let path = format!("/api/v1/jobs/{job}/reports/{name}");
                    let (status, answer) = request(address, "PUT", &path, body.as_bytes());
                    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&answer));
                }
            });
        }
    });
    let uploaded = uploads_started.elapsed();
    let last_body = body_of(nodes - 1, last);
    let last_upload = Instant::now();
    let (status, _) = request(
        &address,
        "PUT",
        &format!("/api/v1/jobs/{job}/reports/{last}"),
        last_body.as_bytes(),
    );
    assert_eq!(status, 204);
    loop {
        let (_, body) = request(&address, "GET", "/api/v1/reports", b"");
        if String::from_utf8_lossy(&body).contains(&format!("\"job\":{job}")) {
            break;
        }
        assert!(
            last_upload.elapsed() < Duration::from_secs(120),
            "never composed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let composed_after = last_upload.elapsed();
    let end_to_end = uploads_started.elapsed();
    let fetch = Instant::now();
    let (status, report) = request(&address, "GET", &format!("/api/v1/reports/{job}"), b"");
    assert_eq!(status, 200);
    let served = fetch.elapsed();
    let fetch = Instant::now();
    let (status, csv) = request(
        &address,
        "GET",
        &format!("/api/v1/reports/{job}?format=csv"),
        b"",
    );
    assert_eq!(status, 200);
    let served_csv = fetch.elapsed();
    // The dashboard's pages of that report: the first reads it, the next are
    // pages of the report kept in memory.
    let cookie = sign_in(&address);
    let mut pages = Vec::new();
    for (what, path) in [
        (
            "report page 1 (reads the report)",
            format!("/ui/reports/{job}"),
        ),
        ("report page 2", format!("/ui/reports/{job}?page=2")),
        (
            "failed items of one node",
            format!("/ui/reports/{job}?state=fail&node=node-04242"),
        ),
        ("text search", format!("/ui/reports/{job}?q=profiling")),
        (
            "one node's page",
            format!("/ui/reports/{job}/nodes/node-00007"),
        ),
        ("overview", "/ui/".to_owned()),
    ] {
        let t = Instant::now();
        let (status, size) = page(&address, &path, &cookie);
        assert_eq!(status, 200, "{path}");
        pages.push((what, t.elapsed(), size));
    }
    let rss = peak_rss_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    let mib = |b: usize| b as f64 / 1048576.0;
    println!("kubecis serve at scale: {nodes} nodes over loopback, 4 upload threads");
    println!("  register {nodes} agents (one at a time)   {registered:>10.2?}");
    println!("  upload all but the last node's report   {uploaded:>10.2?}");
    println!("  last upload sent -> composed report     {composed_after:>10.2?}  (goal: < 0.5 s)");
    println!("  uploads + composition, end to end       {end_to_end:>10.2?}  (goal: < 10 s)");
    println!(
        "  serve the report as JSON ({:.1} MiB)     {served:>10.2?}  (goal: < 1 s)",
        mib(report.len())
    );
    println!(
        "  serve the Rancher CSV ({:.1} MiB)        {served_csv:>10.2?}",
        mib(csv.len())
    );
    for (what, took, size) in &pages {
        println!(
            "  dashboard: {what:<33} {took:>10.2?}  ({:.0} KiB)",
            *size as f64 / 1024.0
        );
    }
    println!("  server peak memory                      {rss:>8.1} MiB  (goal: < 500 MiB)");
}
