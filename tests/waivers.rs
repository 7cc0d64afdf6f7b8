//! Waivers: an item skipped by whom, why and until when; judged again the
//! day after; refused files change nothing; `waivers check` warns ahead;
//! serve sends a scan's waivers to its agents. The day is fixed with
//! KUBECIS_TODAY, so nothing here depends on the machine's clock.

use crate::server::{Agents, Server, VIEWER};
use crate::support::{Materialised, stderr};
use std::path::Path;
use std::process::{Command, Output};

const WAIVERS: &str = "waivers:
  - id: \"1.2.16\"
    reason: profiling stays on for the OPS-123 investigation
    owner: alice@example.com
    expires: 2026-12-10
  - id: \"1.2.18\"
    nodes: [cp-1]
    reason: audit logs are shipped by the agent
    owner: bob
    expires: 2027-03-01
  - id: \"4\"
    nodeTypes: [etcd]
    reason: never holds on a node without etcd
    owner: carol
    expires: 2027-03-01
";

fn kubecis_on(today: &str, args: &[&str]) -> Output {
    Command::new(crate::support::kubecis_path())
        .args(args)
        .env("KUBECIS_TODAY", today)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn scan(node: &Materialised, waivers: &Path, name: &str, today: &str) -> serde_json::Value {
    let (root, cache) = node.root_and_cache();
    let out = kubecis_on(
        today,
        &[
            "scan",
            "--root",
            &root,
            "--cache-dir",
            &cache,
            "--benchmark",
            "cis-1.8",
            "--node-name",
            name,
            "--waivers",
            waivers.to_str().unwrap(),
            "--format",
            "json",
            "--check",
            "1.1.1,1.2.16,1.2.18,4.2.1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn a_waiver_holds_through_its_last_day_then_the_item_is_judged_again() {
    let node = Materialised::new("misconfigured-control-plane");
    let waivers = node.dir.path().join("waivers.yaml");
    std::fs::write(&waivers, WAIVERS).unwrap();
    for today in ["2026-12-09", "2026-12-10"] {
        let report = scan(&node, &waivers, "cp-1", today);
        let r = result(&report, "1.2.16");
        assert_eq!(r["state"], "skip", "{today}: {r}");
        assert_eq!(
            r["skippedBy"],
            "waiver alice@example.com until 2026-12-10: profiling stays on for the OPS-123 investigation"
        );
    }
    let after = scan(&node, &waivers, "cp-1", "2026-12-11");
    let r = result(&after, "1.2.16");
    assert_eq!(r["state"], "fail", "{r}");
    assert!(r["skippedBy"].is_null());
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("the waiver of alice@example.com expired on 2026-12-10"),
        "{r}"
    );
    // Limited to a node by name, and to node types the node has.
    assert_eq!(result(&after, "1.2.18")["state"], "skip");
    let other = scan(&node, &waivers, "cp-2", "2026-12-11");
    assert_eq!(result(&other, "1.2.18")["state"], "fail");
    let worker = Materialised::new("kubeadm-worker");
    let w = scan(&worker, &waivers, "worker-1", "2026-12-01");
    assert_ne!(
        result(&w, "4.2.1")["state"],
        "skip",
        "the worker runs no etcd"
    );
    assert_eq!(
        result(&after, "4.2.1")["state"],
        "skip",
        "the control plane runs etcd"
    );
}

#[test]
fn a_bad_waivers_file_is_refused_naming_the_waiver_and_no_report_is_made() {
    let node = Materialised::new("kubeadm-worker");
    let (root, cache) = node.root_and_cache();
    let file = node.dir.path().join("waivers.yaml");
    for (text, says) in [
        (
            "waivers:\n  - {id: '4.2.1', reason: r, owner: o, expires: 2026-02-30}\n",
            "waivers[0] (4.2.1): expires is \"2026-02-30\"; expected a date as YYYY-MM-DD",
        ),
        (
            "waivers:\n  - {id: '4.2.1', reason: r, expires: 2026-12-31}\n",
            "owner",
        ),
        (
            "waivers:\n  - {id: '4.2.1', owner: o, reason: '', expires: 2026-12-31}\n",
            "reason is empty",
        ),
        (
            "waivers:\n  - {id: '4.2.1', reason: r, owner: o, expires: 2026-12-31, until: x}\n",
            "until",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = kubecis_on(
            "2026-12-01",
            &[
                "scan",
                "--root",
                &root,
                "--cache-dir",
                &cache,
                "--waivers",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(out.stdout.is_empty(), "a report was printed for {text}");
        let err = stderr(&out);
        assert!(
            err.contains(file.to_str().unwrap()) && err.contains(says),
            "{text}: {err}"
        );
    }
    let out = kubecis_on("tomorrow", &["waivers", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("KUBECIS_TODAY is \"tomorrow\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn waivers_check_lists_what_stops_holding_soon() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waivers.yaml");
    std::fs::write(&file, WAIVERS).unwrap();
    let check = |today: &str, within: &str| {
        let out = kubecis_on(
            today,
            &[
                "waivers",
                "check",
                file.to_str().unwrap(),
                "--within",
                within,
            ],
        );
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = check("2026-11-01", "14d");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("none stops holding by 2026-11-15"), "{out}");
    let (code, out) = check("2026-11-30", "14d");
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        "1.2.16: holds until 2026-12-10; owner alice@example.com: profiling stays on for the OPS-123 investigation\n"
    );
    let (_, out) = check("2026-12-10", "1d");
    assert!(
        out.starts_with("1.2.16: holds today only (2026-12-10)"),
        "{out}"
    );
    let (code, out) = check("2027-02-20", "2w");
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("1.2.16: expired on 2026-12-10"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("1.2.18 on cp-1: holds until 2027-03-01; owner bob"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("4 on etcd nodes: holds until 2027-03-01"),
        "{out}"
    );
}

#[test]
fn serve_sends_a_scans_waivers_to_its_agents() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("waivers.yaml"), WAIVERS).unwrap();
    let server = Server::start(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, waivers: waivers.yaml, deadline: 60s}\n",
    );
    let node = Materialised::new("misconfigured-control-plane");
    let agent = server
        .agent_command(&node, "cp-1")
        .env("KUBECIS_TODAY", "2026-12-01")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _agents = Agents(vec![agent]);
    server.wait_for_agents(&["cp-1"]);
    let job = server.run("cis");
    let finished = server.finished(job, std::time::Duration::from_secs(60));
    assert_eq!(finished["state"], "completed", "{finished}");
    let (status, body) = server.request(
        "GET",
        &format!("/api/v1/reports/{job}/nodes/cp-1"),
        Some(VIEWER),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    let r = result(&report, "1.2.16");
    assert_eq!(r["state"], "skip", "{r}");
    assert!(
        r["skippedBy"]
            .as_str()
            .unwrap()
            .starts_with("waiver alice@example.com until 2026-12-10")
    );
    assert_eq!(result(&report, "1.2.18")["state"], "skip");

    // A bad waivers file stops serve at start, naming the scan and the file.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("waivers.yaml"),
        "waivers:\n  - {id: '1.2.16', reason: r, owner: o, expires: 2026-12-32}\n",
    )
    .unwrap();
    std::fs::write(bad.path().join("admin.token"), crate::server::ADMIN).unwrap();
    std::fs::write(
        bad.path().join("serve.yaml"),
        "listen: 127.0.0.1:0\ndataDir: data\ntokens:\n  - {name: admin, role: admin, tokenFile: admin.token}\nscans:\n  - {name: cis, waivers: waivers.yaml}\n",
    )
    .unwrap();
    let out = Command::new(crate::support::kubecis_path())
        .args(["serve", "--config"])
        .arg(bad.path().join("serve.yaml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("scans: cis:") && err.contains("waivers.yaml: waivers[0] (1.2.16): expires"),
        "{err}"
    );
}
