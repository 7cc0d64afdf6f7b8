//! `kubecis serve` and `kubecis agent` as real processes on loopback, with a
//! real SQLite file and agents scanning fixture roots: a cluster in a box.

use crate::support::{self, Materialised, kubecis, stderr};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `kubecis serve` with an admin, a viewer and an agent token.
pub(crate) struct Server {
    pub(crate) dir: PathBuf,
    pub(crate) child: Child,
    pub(crate) url: String,
}

pub(crate) const ADMIN: &str = "admin-token-0123456789abcdef";
pub(crate) const VIEWER: &str = "viewer-token-0123456789abcdef";
pub(crate) const AGENT: &str = "agent-token-0123456789abcdef";

impl Server {
    /// A server in `dir` (its data kept there across restarts); `rest` ends
    /// its config (its scans, imports).
    pub(crate) fn start(dir: &Path, rest: &str) -> Server {
        for (name, token) in [("admin", ADMIN), ("viewer", VIEWER), ("agent", AGENT)] {
            std::fs::write(dir.join(format!("{name}.token")), token).unwrap();
        }
        let config = format!(
            "listen: 127.0.0.1:0\ndataDir: data\nagentTimeout: 60s\ntokens:\n  - {{name: admin, role: admin, tokenFile: admin.token}}\n  - {{name: viewer, role: viewer, tokenFile: viewer.token}}\n  - {{name: agents, role: agent, tokenFile: agent.token}}\n{rest}"
        );
        std::fs::write(dir.join("serve.yaml"), config).unwrap();
        let mut child = Command::new(support::kubecis_path())
            .args(["serve", "--config"])
            .arg(dir.join("serve.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("serve says where it listens").unwrap();
        let url = first
            .strip_prefix("kubecis serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected: {first}"))
            .to_owned();
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            dir: dir.to_path_buf(),
            child,
            url,
        }
    }

    pub(crate) fn token_file(&self, role: &str) -> String {
        self.dir.join(format!("{role}.token")).display().to_string()
    }

    /// An agent process scanning `node` as `name`.
    pub(crate) fn agent(&self, node: &Materialised, name: &str) -> Child {
        self.agent_command(node, name)
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub(crate) fn agent_command(&self, node: &Materialised, name: &str) -> Command {
        let mut command = Command::new(support::kubecis_path());
        command
            .args(["agent", "--server", &self.url, "--token-file"])
            .arg(self.token_file("agent"))
            .arg("--root")
            .arg(node.root())
            .args(["--node-name", name, "--poll-seconds", "2", "--cache-dir"])
            .arg(node.cache())
            .stdout(Stdio::null());
        command
    }

    /// Registers a node (of one node type) as its agent would, without running one.
    pub(crate) fn register(&self, node: &str, node_type: &str) {
        self.register_with(serde_json::json!({
            "node": node, "nodeTypes": [node_type], "kubernetesVersion": "1.26.9",
            "distribution": "kubeadm", "agentVersion": "test"
        }));
    }

    /// Sends this registration with the agents' token; it must be taken.
    pub(crate) fn register_with(&self, registration: serde_json::Value) {
        let (status, body) = self.request(
            "POST",
            "/api/v1/agents/register",
            Some(AGENT),
            registration.to_string().as_bytes(),
        );
        assert_eq!(status, 204, "{body}");
    }

    /// `kubecis <args> --server URL --token-file admin.token`.
    pub(crate) fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let token = self.token_file("admin");
        let mut all = args.to_vec();
        all.extend(["--server", &self.url, "--token-file", &token]);
        let out = kubecis(&all);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr(&out),
        )
    }

    /// A raw request: (status, body).
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        http(&self.url, method, path, token, body).expect("the server answers")
    }

    pub(crate) fn jobs(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.request("GET", "/api/v1/jobs", Some(VIEWER), b"");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(body.trim()).unwrap()
    }

    /// Waits until job `id` is no longer active, returning it.
    pub(crate) fn finished(&self, id: i64, within: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let job = self
                .jobs()
                .into_iter()
                .find(|j| j["id"] == id)
                .unwrap_or_else(|| panic!("no job {id}"));
            if job["state"] != "active" {
                return job;
            }
            assert!(started.elapsed() < within, "job {id} still active: {job}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Agents on a misconfigured control plane (`cp-1`) and a kubeadm
    /// worker (`worker-1`), registered; keep the nodes while they run.
    pub(crate) fn two_nodes(&self) -> (Vec<Materialised>, Agents) {
        let nodes = vec![
            Materialised::new("misconfigured-control-plane"),
            Materialised::new("kubeadm-worker"),
        ];
        let agents = Agents(vec![
            self.agent(&nodes[0], "cp-1"),
            self.agent(&nodes[1], "worker-1"),
        ]);
        self.wait_for_agents(&["cp-1", "worker-1"]);
        (nodes, agents)
    }

    /// Waits until these agents are registered.
    pub(crate) fn wait_for_agents(&self, names: &[&str]) {
        let started = Instant::now();
        loop {
            let (_, body) = self.request("GET", "/api/v1/agents", Some(VIEWER), b"");
            if names
                .iter()
                .all(|n| body.contains(&format!("\"name\":\"{n}\"")))
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "agents: {body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn run(&self, scan: &str) -> i64 {
        let (code, out, err) = self.cli(&["scans", "run", scan]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["job"].as_i64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `url`: (status, body), or the I/O error of a
/// server that is gone.
pub(crate) fn http(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    // A server may answer before it has read a refused body.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status in the answer"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

pub(crate) struct Agents(pub(crate) Vec<Child>);

impl Drop for Agents {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub(crate) const SCAN: &str =
    "scans:\n  - {name: cis, benchmark: cis-1.8, retention: 2, deadline: 60s}\n";

/// Three nodes, three agents, one job: the served Rancher CSV is what
/// `kubecis report` composes from the same nodes' scans.
#[test]
fn a_cluster_in_a_box_composes_what_report_composes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), SCAN);
    let nodes = [
        ("cp-1", Materialised::new("kubeadm-control-plane")),
        ("cp-2", Materialised::new("hardened-control-plane")),
        ("worker-1", Materialised::new("kubeadm-worker")),
    ];
    let _agents = Agents(nodes.iter().map(|(n, m)| server.agent(m, n)).collect());
    server.wait_for_agents(&["cp-1", "cp-2", "worker-1"]);
    let job = server.run("cis");
    let done = server.finished(job, Duration::from_secs(60));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(
        done["reported"],
        serde_json::json!(["cp-1", "cp-2", "worker-1"])
    );

    let (code, served, err) = server.cli(&["reports", "get", &job.to_string(), "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    // The same scans by the command line, composed by `kubecis report`.
    let reports = dir.path().join("node-reports");
    std::fs::create_dir(&reports).unwrap();
    for (name, node) in &nodes {
        let (code, json, err) = support::scan_fixture(
            node,
            &[
                "--benchmark",
                "cis-1.8",
                "--node-name",
                name,
                "--format",
                "json",
            ],
        );
        assert_eq!(code, 0, "{err}");
        std::fs::write(reports.join(format!("{name}.json")), json).unwrap();
    }
    let out = kubecis(&["report", reports.to_str().unwrap(), "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(served, String::from_utf8_lossy(&out.stdout));
    assert!(served.contains("cp-1,cp-2,worker-1") || served.contains("\"cp-1,cp-2,worker-1\""));

    // Every format the API serves.
    for (format, has) in [("json", "kubecis.cluster/v1"), ("text", "cis-1.8")] {
        let (code, body, err) =
            server.cli(&["reports", "get", &job.to_string(), "--format", format]);
        assert_eq!(code, 0, "{err}");
        assert!(body.contains(has), "{format}: {body}");
    }
    for csv in ["all-tests", "failed-tests", "node-summary", "total-summary"] {
        let (code, body, err) = server.cli(&[
            "reports",
            "get",
            &job.to_string(),
            "--format",
            "csv",
            "--csv",
            csv,
        ]);
        assert_eq!(code, 0, "{csv}: {err}");
        assert!(body.lines().count() >= 2, "{csv}: {body}");
    }
    // One node's report in the node formats: kube-bench's JSON and JUnit among them.
    let node_report = |node: &str, format: &str| {
        let (code, body, err) = server.cli(&[
            "reports",
            "get",
            &job.to_string(),
            "--node",
            node,
            "--format",
            format,
        ]);
        assert_eq!(code, 0, "{node} {format}: {err}");
        body
    };
    let json: serde_json::Value = serde_json::from_str(&node_report("cp-1", "json")).unwrap();
    assert_eq!(json["node"]["name"], "cp-1");
    let kube_bench: serde_json::Value =
        serde_json::from_str(&node_report("cp-1", "kube-bench")).unwrap();
    let controls = kube_bench["Controls"]
        .as_array()
        .expect("kube-bench Controls");
    assert!(controls.iter().any(|c| c["id"] == "1"), "{kube_bench}");
    let junit = node_report("worker-1", "junit");
    let doc = roxmltree::Document::parse(&junit).expect("the JUnit report parses");
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")));
    assert!(node_report("cp-2", "text").contains("cp-2"));
    let (status, body) = server.request(
        "GET",
        &format!("/api/v1/reports/{job}/nodes/nobody"),
        Some(VIEWER),
        b"",
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.request(
        "GET",
        &format!("/api/v1/reports/{job}?format=junit"),
        Some(VIEWER),
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("/nodes/"),
        "points to the node report: {body}"
    );
    let (code, status, err) = server.cli(&["scans", "status", "cis"]);
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(status.trim()).unwrap();
    assert_eq!(status["lastSuccessful"][0]["id"], job);
}

#[test]
fn tokens_and_roles_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), SCAN);
    let cases: &[(&str, &str, Option<&str>, u16)] = &[
        ("GET", "/api/v1/reports", None, 401),
        (
            "GET",
            "/api/v1/reports",
            Some("not-a-known-token-at-all"),
            401,
        ),
        ("GET", "/api/v1/reports", Some(VIEWER), 200),
        ("GET", "/api/v1/reports", Some(AGENT), 403),
        ("POST", "/api/v1/scans/cis/run", Some(VIEWER), 403),
        ("POST", "/api/v1/scans/cis/run", Some(AGENT), 403),
        ("DELETE", "/api/v1/reports/1", Some(VIEWER), 403),
        ("GET", "/api/v1/agents/x/work?wait=0", Some(VIEWER), 403),
        ("POST", "/api/v1/scans/nope/run", Some(ADMIN), 404),
        ("GET", "/healthz", None, 200),
    ];
    for (method, path, token, want) in cases {
        let (status, body) = server.request(method, path, *token, b"");
        assert_eq!(status, *want, "{method} {path} with {token:?}: {body}");
        if *want >= 400 {
            let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
            assert!(
                v["error"].is_string(),
                "errors are JSON naming the problem: {body}"
            );
        }
    }
}

/// Oversized, truncated, mislabelled and unexpected uploads are refused
/// with a clear 4xx, and nothing is stored.
#[test]
fn bad_uploads_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), SCAN);
    let node = Materialised::new("kubeadm-worker");
    let (code, json, err) = support::scan_fixture(
        &node,
        &[
            "--benchmark",
            "cis-1.8",
            "--node-name",
            "worker-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Register by hand, so no agent uploads on its own.
    server.register("worker-1", "node");
    let job = server.run("cis");
    let path = format!("/api/v1/jobs/{job}/reports/worker-1");
    let big = vec![b' '; 17 << 20];
    let truncated = &json.as_bytes()[..json.len() / 2];
    let other_node = json.replace("\"name\": \"worker-1\"", "\"name\": \"worker-2\"");
    for (what, body, want) in [
        ("oversized", big.as_slice(), 413),
        ("truncated", truncated, 422),
        ("not JSON", b"hello".as_slice(), 422),
        ("another node's", other_node.as_bytes(), 422),
    ] {
        let (status, answer) = server.request("PUT", &path, Some(AGENT), body);
        assert_eq!(status, want, "{what}: {answer}");
    }
    let (status, answer) = server.request(
        "PUT",
        &format!("/api/v1/jobs/{job}/reports/worker-9"),
        Some(AGENT),
        other_node.as_bytes(),
    );
    assert!(status == 409 || status == 422, "{status}: {answer}");
    let job_row = server.jobs().into_iter().find(|j| j["id"] == job).unwrap();
    assert_eq!(job_row["reported"], serde_json::json!([]), "nothing stored");
    assert_eq!(job_row["state"], "active");
    // The good upload completes the job; sent twice, it is stored once.
    for _ in 0..2 {
        let (status, answer) = server.request("PUT", &path, Some(AGENT), json.as_bytes());
        assert!(status == 204 || status == 409, "{status}: {answer}");
    }
    assert_eq!(
        server.finished(job, Duration::from_secs(10))["state"],
        "completed"
    );
}

/// `kill -9` of the server while a job waits: restarted on the same data,
/// it resumes, and an agent that comes later finishes the job.
#[test]
fn a_killed_server_resumes_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), SCAN);
    server.register("cp-1", "master");
    let job = server.run("cis");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let server = Server::start(dir.path(), SCAN);
    let active = server.jobs().into_iter().find(|j| j["id"] == job).unwrap();
    assert_eq!(active["state"], "active", "{active}");
    let node = Materialised::new("kubeadm-control-plane");
    let agents = Agents(vec![server.agent(&node, "cp-1")]);
    let done = server.finished(job, Duration::from_secs(60));
    assert_eq!(done["state"], "completed", "{done}");
    drop(agents);

    // Killed between storing a job's last report and composing it: the
    // restarted server completes the job at once, not at its deadline.
    let mut server = server;
    let job = server.run("cis");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let report = worker_reports(&["cp-1".to_owned()]).remove(0);
    let db = rusqlite::Connection::open(dir.path().join("data/kubecis.db")).unwrap();
    db.execute(
        "INSERT INTO node_reports (job, node, report, received) VALUES (?1, 'cp-1', ?2, 0)",
        rusqlite::params![job, String::from_utf8(report).unwrap()],
    )
    .unwrap();
    drop(db);
    let server = Server::start(dir.path(), SCAN);
    let done = server.finished(job, Duration::from_secs(10));
    assert_eq!(done["state"], "completed", "{done}");
}

/// A node whose agent dies before uploading is missing from the report
/// when the deadline passes; a job no node answered is tried again.
#[test]
fn missing_nodes_are_named_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, deadline: 3s, tries: 2}\n",
    );
    for node in ["worker-1", "worker-2"] {
        server.register(node, "node");
    }
    let job = server.run("cis");
    let node = Materialised::new("kubeadm-worker");
    let _agents = Agents(vec![server.agent(&node, "worker-1")]);
    let done = server.finished(job, Duration::from_secs(30));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["reported"], serde_json::json!(["worker-1"]));
    assert!(
        done["reason"]
            .as_str()
            .unwrap()
            .contains("no report from worker-2"),
        "{done}"
    );
    let (_, list, _) = server.cli(&["reports", "list"]);
    assert!(list.contains("\"missing\":[\"worker-2\"]"), "{list}");
}

#[test]
fn retention_keeps_the_newest_reports() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), SCAN);
    let node = Materialised::new("kubeadm-worker");
    let _agents = Agents(vec![server.agent(&node, "worker-1")]);
    server.wait_for_agents(&["worker-1"]);
    let mut jobs = Vec::new();
    for _ in 0..3 {
        let job = server.run("cis");
        assert_eq!(
            server.finished(job, Duration::from_secs(60))["state"],
            "completed"
        );
        jobs.push(job);
    }
    let (_, list, _) = server.cli(&["reports", "list"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(list.trim()).unwrap();
    let ids: Vec<i64> = listed.iter().map(|r| r["job"].as_i64().unwrap()).collect();
    assert_eq!(ids, [jobs[2], jobs[1]], "retention 2 keeps the two newest");
    let (code, _, err) = server.cli(&["reports", "delete", &jobs[1].to_string()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = server.cli(&["reports", "get", &jobs[1].to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("404"), "{err}");
}

#[test]
fn a_bad_server_config_is_refused_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("admin.token"), ADMIN).unwrap();
    for (config, says) in [
        (
            "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: admin, tokenFile: admin.token}]\nscans: [{name: s, schedule: '0 * * *'}]\n",
            "has 4 fields; expected five",
        ),
        (
            "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: admin, tokenFile: admin.token}]\nscans: [{name: s, shedule: '@hourly'}]\n",
            "unknown field `shedule`",
        ),
        (
            "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: root, tokenFile: admin.token}]\n",
            "unknown variant `root`",
        ),
        (
            "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: admin, tokenFile: missing.token}]\n",
            "missing.token",
        ),
    ] {
        let path = dir.path().join("serve.yaml");
        std::fs::write(&path, config).unwrap();
        let out = kubecis(&["serve", "--config", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{config}");
        let err = stderr(&out);
        assert!(
            err.contains("serve.yaml") && err.contains(says),
            "{says}: {err}"
        );
    }
}

/// The fixtures of scans written for Rancher and Calico.
fn imports_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/serve")
}

/// A `cluster.yml`, cis-operator objects with Rancher's skip ConfigMap, and
/// a Calico GlobalReport, imported as they are: each becomes a scan, and
/// the ConfigMap's skip list reaches the agent that scans.
#[test]
fn rancher_and_calico_scans_are_imported_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["cluster.yml", "clusterscans.yaml", "globalreport.yaml"] {
        std::fs::copy(imports_dir().join(file), dir.path().join(file)).unwrap();
    }
    let server = Server::start(
        dir.path(),
        "import: [cluster.yml, clusterscans.yaml, globalreport.yaml]\n",
    );
    let (status, body) = server.request("GET", "/api/v1/scans", Some(VIEWER), b"");
    assert_eq!(status, 200, "{body}");
    let scans: Vec<serde_json::Value> = serde_json::from_str(body.trim()).unwrap();
    let scan = |name: &str| {
        scans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no scan {name}: {body}"))
            .clone()
    };
    let rke = scan("prod-east-scheduled-cluster-scan");
    assert_eq!(rke["benchmark"], "rke-cis-1.4");
    assert_eq!(rke["profile"], "rke-cis-1.4-permissive");
    assert_eq!(rke["schedule"], "0 0 * * *");
    assert_eq!(rke["retention"], 24, "the seed's retention: 24");
    assert!(rke["definedIn"].as_str().unwrap().contains("cluster.yml"));

    let nightly = scan("nightly-hardened");
    assert_eq!(nightly["benchmark"], "rke-cis-1.4");
    assert_eq!(nightly["profile"], "rke-cis-1.4-hardened");
    assert_eq!(nightly["skip"], serde_json::json!(["1.1.11", "2.1"]));
    assert_eq!(nightly["retention"], 5);
    assert_eq!(nightly["timeZone"], "Europe/Berlin");
    // 02:30 in Berlin is half past an hour in UTC, winter or summer.
    assert_eq!(
        nightly["nextRun"].as_i64().unwrap() % 3600,
        1800,
        "{nightly}"
    );

    let on_demand = scan("on-demand-cis-1-9");
    assert_eq!(on_demand["benchmark"], "cis-1.9");
    assert_eq!(on_demand["schedule"], serde_json::Value::Null);

    let calico = scan("daily-cis-results");
    assert_eq!(calico["benchmark"], "auto");
    assert_eq!(calico["schedule"], "0 0 * * *");
    assert_eq!(scans.len(), 4, "{body}");

    let node = Materialised::new("kubeadm-worker");
    let _agents = Agents(vec![server.agent(&node, "worker-1")]);
    server.wait_for_agents(&["worker-1"]);
    let job = server.run("on-demand-cis-1-9");
    assert_eq!(
        server.finished(job, Duration::from_secs(60))["state"],
        "completed"
    );
    let (code, report, err) = server.cli(&["reports", "get", &job.to_string()]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let item = report["groups"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "4.2.10")
        .unwrap_or_else(|| panic!("no 4.2.10: {report}"));
    assert_eq!(item["state"], "skip", "{item}");
    assert!(
        item.to_string().contains("security-scan-cfg"),
        "the skip names who asked for it: {item}"
    );
}

/// What an imported file or a scan gets wrong stops `serve` at start,
/// naming the file, the line where there is one, and what was expected.
#[test]
fn a_bad_import_or_scan_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("admin.token"), ADMIN).unwrap();
    let head = "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: admin, tokenFile: admin.token}]\n";
    let scan_profile = "apiVersion: cis.cattle.io/v1\nkind: ClusterScanProfile\nmetadata: {name: p}\nspec: {benchmarkVersion: cis-1.9}\n";
    for (imported, scans, file, says) in [
        (
            format!("{scan_profile}---\napiVersion: cis.cattle.io/v1\nkind: ClusterScan\nmetadata: {{name: s}}\nspec:\n  scanProfileName: p\n  scheduledScanConfig: {{cronSchedule: '@hourly', retentionCont: 2}}\n"),
            "",
            "imported.yaml",
            "unknown field `retentionCont`",
        ),
        (
            "apiVersion: cis.cattle.io/v1\nkind: ClusterScan\nmetadata: {name: s}\nspec: {scanProfileName: nowhere}\n".to_owned(),
            "",
            "imported.yaml",
            "scanProfileName nowhere names no ClusterScanProfile",
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: GlobalReport\nmetadata: {name: r}\nspec: {reportType: inventory, schedule: '@daily'}\n".to_owned(),
            "",
            "imported.yaml",
            "expected cis-benchmark",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n".to_owned(),
            "",
            "imported.yaml",
            "kind Deployment of apiVersion apps/v1 is not one kubecis reads",
        ),
        (
            "cluster_name: c\nscheduled_cluster_scan:\n  enabled: true\n  schedule_config: {cron_schedule: '0 0 * *'}\n".to_owned(),
            "",
            "imported.yaml",
            "line 4",
        ),
        (
            String::new(),
            "scans: [{name: s, benchmark: cis-1.99}]\n",
            "serve.yaml",
            "benchmark cis-1.99 is not one kubecis has",
        ),
        (
            String::new(),
            "scans: [{name: s, benchmark: cis-1.9, skip: ['9.9.9']}]\n",
            "serve.yaml",
            "skip: 9.9.9 is not an item, group or section of cis-1.9",
        ),
        (
            String::new(),
            "scans: [{name: s, benchmark: cis-1.9, profile: hardened}]\n",
            "serve.yaml",
            "hardened",
        ),
        (
            String::new(),
            "scans: [{name: s, schedule: '@daily', timeZone: Mars/Olympus}]\n",
            "serve.yaml",
            "not a time zone",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: security-scan-cfg}\ndata:\n  config.json: '{\"skip\": {\"cis-18\": [\"1.1.1\"]}}'\n".to_owned(),
            "",
            "imported.yaml",
            "names no benchmark",
        ),
    ] {
        std::fs::write(dir.path().join("imported.yaml"), &imported).unwrap();
        let import = if imported.is_empty() {
            ""
        } else {
            "import: [imported.yaml]\n"
        };
        let path = dir.path().join("serve.yaml");
        std::fs::write(&path, format!("{head}{import}{scans}")).unwrap();
        let out = kubecis(&["serve", "--config", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{imported}{scans}");
        let err = stderr(&out);
        assert!(err.contains(file) && err.contains(says), "{says}: {err}");
    }
}

/// A recorded node report of a worker, renamed for each simulated node.
fn worker_reports(names: &[String]) -> Vec<Vec<u8>> {
    let node = Materialised::new("kubeadm-worker");
    let (code, json, err) =
        support::scan_fixture(&node, &["--format", "json", "--benchmark", "cis-1.8"]);
    assert!(code == 0 || code == 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    names
        .iter()
        .map(|name| {
            let mut r = report.clone();
            r["node"]["name"] = serde_json::Value::String(name.clone());
            serde_json::to_vec(&r).unwrap()
        })
        .collect()
}

fn job_of(server: &Server, id: i64) -> serde_json::Value {
    server
        .jobs()
        .into_iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no job {id}"))
}

fn names_in(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `kill -9` of `serve` while uploads stream in, then again just as the
/// last upload arrives (during composition): every acknowledged upload is
/// still there after each restart, the database passes SQLite's integrity
/// check, and the job completes with every node.
#[test]
fn kill_9_during_uploads_and_composition_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let scan = "scans:\n  - {name: cis, benchmark: cis-1.8, deadline: 10m}\n";
    let mut server = Server::start(dir.path(), scan);
    let names: Vec<String> = (0..120).map(|i| format!("worker-{i:03}")).collect();
    for name in &names {
        server.register(name, "node");
    }
    let bodies = worker_reports(&names);
    let job = server.run("cis");

    // Uploads from one thread; the server is killed once 30 are acknowledged.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let url = server.url.clone();
    let uploader = {
        let (names, bodies, acknowledged) = (names.clone(), bodies.clone(), acknowledged.clone());
        std::thread::spawn(move || {
            for (name, body) in names.iter().zip(&bodies) {
                let path = format!("/api/v1/jobs/{job}/reports/{name}");
                match http(&url, "PUT", &path, Some(AGENT), body) {
                    Ok((200 | 204, _)) => acknowledged.lock().unwrap().push(name.clone()),
                    _ => return,
                }
            }
        })
    };
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 30 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "uploads stalled"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    uploader.join().unwrap();
    drop(server);
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() < names.len(),
        "the kill came during the uploads"
    );

    let server = Server::start(dir.path(), scan);
    let state = job_of(&server, job);
    assert_eq!(state["state"], "active", "{state}");
    let reported = names_in(&state["reported"]);
    for name in &acked {
        assert!(
            reported.contains(name),
            "{name} was acknowledged, then lost"
        );
    }
    // The rest but one, then the last, and a kill as it arrives.
    let rest: Vec<usize> = (0..names.len())
        .filter(|i| !reported.contains(&names[*i]))
        .collect();
    let (last, others) = rest.split_last().unwrap();
    for &i in others {
        let path = format!("/api/v1/jobs/{job}/reports/{}", names[i]);
        let (status, body) = server.request("PUT", &path, Some(AGENT), &bodies[i]);
        assert!(status == 200 || status == 204, "{status} {body}");
    }
    let mut server = server;
    let path = format!("/api/v1/jobs/{job}/reports/{}", names[*last]);
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {AGENT}\r\nContent-Length: {}\r\n\r\n",
        bodies[*last].len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&bodies[*last]).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);

    let db = rusqlite::Connection::open(dir.path().join("data/kubecis.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(db);

    let server = Server::start(dir.path(), scan);
    if !names_in(&job_of(&server, job)["reported"]).contains(&names[*last]) {
        // Killed before it was stored: the agent's retry is taken.
        let (status, body) = server.request("PUT", &path, Some(AGENT), &bodies[*last]);
        assert!(status == 200 || status == 204, "{status} {body}");
    }
    let done = server.finished(job, Duration::from_secs(30));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(names_in(&done["reported"]).len(), names.len());
    let (code, report, err) = server.cli(&["reports", "get", &job.to_string()]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["groups"][0]["nodes"].as_array().unwrap().len(),
        names.len()
    );
}

/// An agent killed in the middle of a scan: restarted, it takes the job's
/// work again and the job completes with its node; killed for good, the
/// next job completes at its deadline with that node named missing.
#[test]
fn an_agent_killed_mid_scan_is_retried_or_named_missing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, deadline: 15s}\n",
    );
    let workers = [
        Materialised::new("kubeadm-worker"),
        Materialised::new("kubeadm-worker"),
    ];
    let mut steady = Agents(vec![server.agent(&workers[0], "worker-1")]);
    // The second agent is killed as soon as it says it is scanning.
    let kill_when_scanning = || {
        let mut child = server
            .agent_command(&workers[1], "worker-2")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        (child, BufReader::new(stderr).lines())
    };
    let (mut doomed, mut said) = kill_when_scanning();
    server.wait_for_agents(&["worker-1", "worker-2"]);
    let job = server.run("cis");
    let line = said
        .find(|l| l.as_ref().is_ok_and(|l| l.contains("scanning")))
        .expect("the agent starts the scan")
        .unwrap();
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    assert!(line.contains(&format!("job {job}")), "{line}");
    let state = job_of(&server, job);
    assert!(
        !names_in(&state["reported"]).contains(&"worker-2".to_owned()),
        "killed mid-scan, worker-2 cannot have uploaded: {state}"
    );
    // Restarted before the deadline, the agent takes the same work again.
    steady.0.push(server.agent(&workers[1], "worker-2"));
    let done = server.finished(job, Duration::from_secs(30));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(
        names_in(&done["reported"]),
        ["worker-1", "worker-2"],
        "{done}"
    );
    assert_eq!(done["reason"], "", "{done}");

    // Killed mid-scan and not restarted: named missing at the deadline.
    let mut restarted = steady.0.pop().unwrap();
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    let (mut doomed, mut said) = kill_when_scanning();
    server.wait_for_agents(&["worker-2"]);
    let job = server.run("cis");
    said.find(|l| l.as_ref().is_ok_and(|l| l.contains(&format!("job {job}"))))
        .expect("the agent starts the scan")
        .unwrap();
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let done = server.finished(job, Duration::from_secs(30));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(names_in(&done["reported"]), ["worker-1"], "{done}");
    assert!(
        done["reason"]
            .as_str()
            .unwrap()
            .contains("no report from worker-2"),
        "{done}"
    );
}

/// A client that sends its headers and then trickles or stalls its body is
/// answered 408 at the request time limit, and nothing is stored.
#[test]
fn a_stalled_request_times_out_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &format!("requestTimeout: 2s\n{SCAN}"));
    server.register("worker-1", "node");
    let job = server.run("cis");
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "PUT /api/v1/jobs/{job}/reports/worker-1 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {AGENT}\r\nContent-Length: 100000\r\n\r\n{{\"schema\":"
    );
    let sent = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("not done within 2s"), "{answer}");
    assert!(sent.elapsed() < Duration::from_secs(10));
    let state = job_of(&server, job);
    assert_eq!(state["reported"], serde_json::json!([]), "{state}");
    // The server still answers everyone else.
    let (status, _) = server.request("GET", "/healthz", None, b"");
    assert_eq!(status, 200);
}

/// One machine, no agents: `serve` scans the node roots it is given, and a
/// job completes with each of them, composed as agents' reports are.
#[test]
fn serve_scans_its_local_nodes_without_agents() {
    let dir = tempfile::tempdir().unwrap();
    let cp = Materialised::new("kubeadm-control-plane");
    let worker = Materialised::new("kubeadm-worker");
    let server = Server::start(
        dir.path(),
        &format!(
            "localNodes:\n  - {{name: cp-1, root: {}}}\n  - {{root: {}}}\n{SCAN}",
            cp.root().display(),
            worker.root().display()
        ),
    );
    let (_, agents) = server.request("GET", "/api/v1/agents", Some(VIEWER), b"");
    server.wait_for_agents(&["cp-1"]);
    let job = server.run("cis");
    let done = server.finished(job, Duration::from_secs(60));
    assert_eq!(done["state"], "completed", "{done}");
    let reported = names_in(&done["reported"]);
    assert_eq!(reported.len(), 2, "{done} (agents: {agents})");
    assert!(reported.contains(&"cp-1".to_owned()), "{done}");
    let (code, csv, err) = server.cli(&["reports", "get", &job.to_string(), "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(csv.contains("cp-1"), "{csv}");

    // A root that is not a node stops the server at start, naming it.
    std::fs::write(dir.path().join("admin.token"), ADMIN).unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "listen: 127.0.0.1:0\ndataDir: d\ntokens: [{name: a, role: admin, tokenFile: admin.token}]\nlocalNodes: [{root: /nonexistent/node}]\n",
    )
    .unwrap();
    let out = kubecis(&["serve", "--config", path.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("localNodes") && err.contains("/nonexistent/node"),
        "{err}"
    );
}

/// cis-operator's built-in profiles of Rancher's distribution benchmarks
/// become kubecis' bundles and profiles: `rke2-cis-1.8-profile-hardened` is
/// bundle rke2-cis-1.8 with its hardened profile; `k3s-cis-1.9-profile` is
/// k3s-cis-1.9, which runs with its one profile.
#[test]
fn rancher_distribution_profiles_are_imported_as_bundles_and_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let scans = [
        ("rke2-hardened", "rke2-cis-1.8-profile-hardened"),
        ("rke2-permissive", "rke2-cis-1.8-profile-permissive"),
        ("k3s", "k3s-cis-1.9-profile"),
    ]
    .map(|(name, profile)| {
        format!(
            "apiVersion: cis.cattle.io/v1\nkind: ClusterScan\nmetadata: {{name: {name}}}\nspec: {{scanProfileName: {profile}}}\n"
        )
    })
    .join("---\n");
    std::fs::write(dir.path().join("clusterscans.yaml"), scans).unwrap();
    let server = Server::start(dir.path(), "import: [clusterscans.yaml]\n");
    let (status, body) = server.request("GET", "/api/v1/scans", Some(VIEWER), b"");
    assert_eq!(status, 200, "{body}");
    let scans: Vec<serde_json::Value> = serde_json::from_str(body.trim()).unwrap();
    let scan = |name: &str| scans.iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!(scan("rke2-hardened")["benchmark"], "rke2-cis-1.8");
    assert_eq!(scan("rke2-hardened")["profile"], "rke2-cis-1.8-hardened");
    assert_eq!(
        scan("rke2-permissive")["profile"],
        "rke2-cis-1.8-permissive"
    );
    assert_eq!(scan("k3s")["benchmark"], "k3s-cis-1.9");
}
