//! Alerts and metrics of `kubecis serve`, with real receivers on loopback
//! (one HTTP server recording what it gets, as a webhook, Slack and
//! Alertmanager would) and `/metrics` read back by Prometheus' own Python
//! parser.

use crate::server::{ADMIN, Agents, Server, VIEWER};
use crate::support::Materialised;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a receiver does with each request.
#[derive(Clone, Copy)]
enum Behaviour {
    Accept,
    /// Answers 500 to the first `n` requests, then accepts.
    FailFirst(usize),
    /// Holds every request this long before accepting.
    Slow(Duration),
}

/// An HTTP server on loopback recording every request: (path, JSON body).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<(String, Value)>>> = Default::default();
        let record = got.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let record = record.clone();
                std::thread::spawn(move || answer(stream, n, behaviour, &record));
            }
        });
        Receiver { url, got }
    }

    /// Waits until `n` requests came to `path`, returning their bodies.
    fn wait_for(&self, path: &str, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let bodies: Vec<Value> = self
                .got
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, b)| b.clone())
                .collect();
            if bodies.len() >= n {
                return bodies;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{path}: {} of {n} requests came",
                bodies.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn count(&self, path: &str) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
}

fn answer(stream: TcpStream, n: usize, behaviour: Behaviour, record: &Mutex<Vec<(String, Value)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let status = match behaviour {
        Behaviour::FailFirst(k) if n < k => 500,
        Behaviour::Slow(d) => {
            std::thread::sleep(d);
            200
        }
        _ => 200,
    };
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record.lock().unwrap().push((path, value));
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

/// A notifier URL in a file, as the config wants secrets.
fn url_file(dir: &std::path::Path, name: &str, url: &str) -> String {
    let path = dir.join(format!("{name}.url"));
    std::fs::write(&path, url).unwrap();
    path.display().to_string()
}

fn get(server: &Server, path: &str) -> Value {
    let (status, body) = server.request("GET", path, Some(VIEWER), b"");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(body.trim()).unwrap()
}

/// Moves the scan's last schedule slot 400 days back, as after a long
/// downtime: the scheduler runs the missed slot (of a yearly schedule too)
/// at its next tick.
fn backdate_schedule(server: &Server, scan: &str) {
    let db = rusqlite::Connection::open(server.dir.join("data/kubecis.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    while db
        .execute(
            "UPDATE schedules SET last_slot = last_slot - 400 * 86400 WHERE scan = ?1",
            [scan],
        )
        .unwrap()
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no schedule row"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The samples of an OpenMetrics text, parsed by the `prometheus_client`
/// Python package: (name, labels, value).
fn parse_metrics(text: &str) -> Vec<(String, Value, f64)> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, Value, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    rows
}

fn sample(samples: &[(String, Value, f64)], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[*k] == *v))
        .map(|(_, _, v)| *v)
}

/// The issue's end-to-end case: a failing scheduled scan in a cluster in a
/// box sends one webhook call, one Slack message and one Alertmanager
/// alert naming the failing items, and `/metrics` shows the report's totals.
#[test]
fn a_failing_scheduled_scan_alerts_every_notifier_and_metrics_agree() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(Behaviour::Accept);
    let config = format!(
        "clusterName: prod-east\nexternalUrl: https://kubecis.example.com/\nnotifiers:\n  - {{name: hook, webhook: {{urlFile: {}}}}}\n  - {{name: chat, slack: {{urlFile: {}}}}}\n  - {{name: am, alertmanager: {{url: '{}/am'}}}}\nscans:\n  - name: cis\n    benchmark: cis-1.8\n    schedule: '0 0 1 1 *'\n    alerts:\n      - {{on: failures, runs: [scheduled], level: critical, notifiers: [hook, chat, am]}}\n",
        url_file(dir.path(), "hook", &format!("{}/hook", receiver.url)),
        url_file(dir.path(), "chat", &format!("{}/slack", receiver.url)),
        receiver.url,
    );
    let server = Server::start(dir.path(), &config);
    let _cluster = server.two_nodes();
    backdate_schedule(&server, "cis");
    let started = Instant::now();
    let job = loop {
        if let Some(j) = server.jobs().into_iter().find(|j| j["scan"] == "cis") {
            break j["id"].as_i64().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no scheduled job"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let done = server.finished(job, Duration::from_secs(60));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["trigger"], "scheduled", "{done}");
    let report = get(&server, &format!("/api/v1/reports/{job}"));
    let totals = &report["groups"][0]["totals"];
    assert!(totals["fail"].as_u64().unwrap() > 0, "{totals}");

    // The generic webhook: the documented body.
    let hook = receiver.wait_for("/hook", 1);
    let body = &hook[0];
    assert_eq!(body["schema"], "kubecis.alert/v1");
    assert_eq!(body["rule"], "failures");
    assert_eq!(body["event"], "failures");
    assert_eq!(body["level"], "critical");
    assert_eq!(body["cluster"], "prod-east");
    assert_eq!(body["scan"], "cis");
    assert_eq!(body["trigger"], "scheduled");
    assert_eq!(body["job"], job);
    assert_eq!(body["benchmark"], "cis-1.8");
    assert_eq!(&body["totals"], totals);
    assert_eq!(
        body["report"],
        format!("https://kubecis.example.com/api/v1/reports/{job}")
    );
    let failed = body["failed"].as_array().unwrap();
    assert!(!failed.is_empty() && failed.len() <= 10, "{body}");
    // Each listed item really fails on the nodes it names.
    let items = report["groups"][0]["items"].as_array().unwrap();
    for f in failed {
        let item = items.iter().find(|i| i["id"] == f["id"]).unwrap();
        assert_eq!(item["failedNodes"], f["nodes"], "{f}");
        assert!(f["nodes"].as_array().unwrap().contains(&"cp-1".into()));
    }

    // Slack: one message naming the level, the scan and a failing item.
    let slack = receiver.wait_for("/slack", 1);
    let text = slack[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("[CRITICAL] kubecis cis on prod-east"),
        "{text}"
    );
    assert!(text.contains(failed[0]["id"].as_str().unwrap()), "{text}");

    // Alertmanager's v2 API: one alert a route can match.
    let am = receiver.wait_for("/am/api/v2/alerts", 1);
    let alerts = am[0].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    let labels = &alerts[0]["labels"];
    assert_eq!(labels["alertname"], "CISScanHasFailures");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels["job"], "kubecis");
    assert_eq!(labels["scan_name"], "cis");
    assert_eq!(labels["cluster_name"], "prod-east");
    assert!(
        alerts[0]["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains(failed[0]["id"].as_str().unwrap())
    );

    // Exactly one each: nothing else fired, nothing was sent twice.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        (
            receiver.count("/hook"),
            receiver.count("/slack"),
            receiver.count("/am/api/v2/alerts")
        ),
        (1, 1, 1)
    );
    let history = get(&server, "/api/v1/alerts");
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(
        history
            .iter()
            .all(|a| a["state"] == "sent" && a["job"] == job)
    );

    // /metrics, read by Prometheus' parser, agrees with the report. A node
    // name with quotes and backslashes comes back as it was.
    let odd = r#"we"ird\node{x="1"}"#;
    let registration = serde_json::json!({
        "node": odd, "nodeTypes": ["node"], "kubernetesVersion": null,
        "distribution": "kubeadm", "agentVersion": "test"
    });
    server.register_with(registration);
    let (status, text) = server.request("GET", "/metrics", Some(VIEWER), b"");
    assert_eq!(status, 200, "{text}");
    let samples = parse_metrics(&text);
    let scan = [
        ("scan_name", "cis"),
        ("cluster_name", "prod-east"),
        ("scan_profile_name", "cis-1.8"),
    ];
    let count = |s: &str| totals[s].as_u64().unwrap_or(0) as f64;
    for (metric, want) in [
        ("cis_scan_num_tests_pass", count("pass")),
        ("cis_scan_num_tests_fail", count("fail")),
        ("cis_scan_num_tests_warn", count("warn")),
        ("cis_scan_num_tests_skipped", count("skip")),
        ("cis_scan_num_tests_na", count("notApplicable")),
        ("kubecis_scan_items_mixed", count("mixed")),
        ("kubecis_scan_items_error", count("error")),
        ("cis_scan_num_scans_complete", 1.0),
    ] {
        assert_eq!(
            sample(&samples, metric, &scan),
            Some(want),
            "{metric}\n{text}"
        );
    }
    let all: f64 = totals
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(
        sample(&samples, "cis_scan_num_tests_total", &scan),
        Some(all)
    );
    let nodes: f64 = ["HIGH", "MED", "LOW"]
        .iter()
        .map(|h| {
            let mut l = scan.to_vec();
            l.push(("health", h));
            sample(&samples, "kubecis_scan_nodes", &l).unwrap()
        })
        .sum();
    assert_eq!(nodes, 2.0);
    assert_eq!(sample(&samples, "kubecis_agents_connected", &[]), Some(3.0));
    assert!(
        sample(
            &samples,
            "kubecis_agent_last_seen_timestamp_seconds",
            &[("node", odd)]
        )
        .is_some(),
        "{text}"
    );
    assert_eq!(
        sample(
            &samples,
            "kubecis_alerts",
            &[("notifier", "am"), ("state", "sent")]
        ),
        Some(1.0)
    );
    assert!(sample(&samples, "kubecis_store_bytes", &[]).unwrap() > 0.0);
    // Every metric the shipped PrometheusRule alerts on is exported.
    let rule = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/monitoring/prometheusrule.yaml"),
    )
    .unwrap();
    let rule: Value = serde_yaml_ng::from_str(&rule).unwrap();
    for r in rule["spec"]["groups"][0]["rules"].as_array().unwrap() {
        let expr = r["expr"].as_str().unwrap();
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("cis_scan_") || word.starts_with("kubecis_") {
                assert!(
                    samples.iter().any(|(n, _, _)| n == word),
                    "{} alerts on {word}, which /metrics lacks",
                    r["alert"]
                );
            }
        }
    }
    // Metrics need a token like the rest of the API.
    assert_eq!(server.request("GET", "/metrics", None, b"").0, 401);
    // The notifiers' URLs never leave the server.
    let (_, listed) = server.request("GET", "/api/v1/notifiers", Some(VIEWER), b"");
    assert!(
        listed.contains("\"hook\"") && !listed.contains(&receiver.url),
        "{listed}"
    );
    let (_, scans) = server.request("GET", "/api/v1/scans", Some(ADMIN), b"");
    assert!(!scans.contains(&receiver.url), "{scans}");
}

/// Rancher's four alerts by default; a rule's interval suppresses and
/// records; drift names what regressed and where; a receiver that is down,
/// slow or flaky is retried, recorded, and never holds up a scan.
#[test]
fn rate_limits_drift_and_unreliable_receivers() {
    let dir = tempfile::tempdir().unwrap();
    let good = Receiver::start(Behaviour::Accept);
    let flaky = Receiver::start(Behaviour::FailFirst(1));
    let slow = Receiver::start(Behaviour::Slow(Duration::from_secs(3)));
    // A port nothing listens on.
    let down = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let config = format!(
        "notifiers:\n  - {{name: hook, webhook: {{urlFile: {}}}}}\n  - {{name: flaky, webhook: {{urlFile: {}}}, retries: 2}}\n  - {{name: slow, webhook: {{urlFile: {}}}, timeout: 500ms, retries: 1}}\n  - {{name: down, webhook: {{urlFile: {}}}, timeout: 1s, retries: 1}}\nscans:\n  - {{name: defaults, benchmark: cis-1.8, notifiers: [hook]}}\n  - name: watched\n    benchmark: cis-1.8\n    alerts:\n      - {{name: done, on: completed, runs: [manual], notifiers: [hook], minInterval: 1h}}\n      - {{on: drift, notifiers: [hook]}}\n      - {{name: unreliable, on: completed, notifiers: [flaky, slow, down]}}\n",
        url_file(dir.path(), "hook", &format!("{}/hook", good.url)),
        url_file(dir.path(), "flaky", &format!("{}/flaky", flaky.url)),
        url_file(dir.path(), "slow", &format!("{}/slow", slow.url)),
        url_file(dir.path(), "down", &format!("{}/down", down)),
    );
    let server = Server::start(dir.path(), &config);
    let worker = Materialised::new("kubeadm-worker");
    let _agents = Agents(vec![server.agent(&worker, "worker-1")]);
    server.wait_for_agents(&["worker-1"]);

    // Rancher's four by default: a manual run sends manual-completed and,
    // as the worker fixture fails items, manual-failures.
    let job = server.run("defaults");
    assert_eq!(
        server.finished(job, Duration::from_secs(60))["state"],
        "completed"
    );
    let hook = good.wait_for("/hook", 2);
    let mut rules: Vec<&str> = hook.iter().map(|b| b["rule"].as_str().unwrap()).collect();
    rules.sort();
    let report = get(&server, &format!("/api/v1/reports/{job}"));
    if report["groups"][0]["totals"]["fail"].as_u64().unwrap_or(0) > 0 {
        assert_eq!(rules, ["manual-completed", "manual-failures"]);
    } else {
        assert_eq!(rules, ["manual-completed"]);
    }
    let levels: Vec<&str> = hook.iter().map(|b| b["level"].as_str().unwrap()).collect();
    assert!(levels.contains(&"info"));

    // First run of the watched scan: completed; no drift without a report before.
    let first = server.run("watched");
    let took = Instant::now();
    assert_eq!(
        server.finished(first, Duration::from_secs(60))["state"],
        "completed"
    );
    // A down and a slow receiver do not hold up the job's end.
    assert!(took.elapsed() < Duration::from_secs(20));
    let sent = good.wait_for("/hook", 3);
    assert_eq!(sent[2]["rule"], "done");

    // The kubelet's kubeconfig made world-readable: a regression.
    let kubeconfig = worker.root().join("etc/kubernetes/kubelet.conf");
    std::fs::set_permissions(
        &kubeconfig,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let second = server.run("watched");
    assert_eq!(
        server.finished(second, Duration::from_secs(60))["state"],
        "completed"
    );
    let sent = good.wait_for("/hook", 4);
    let drift = &sent[3];
    assert_eq!(drift["rule"], "drift", "{drift}");
    assert_eq!(drift["event"], "drift");
    let regressed = drift["regressions"].as_array().unwrap();
    assert!(
        regressed
            .iter()
            .any(|r| r["id"] == "4.1.5" && r["nodes"] == serde_json::json!(["worker-1"])),
        "{drift}"
    );

    // The history: `done` suppressed the second time; flaky sent on its
    // second try; slow and down failed after their retries, saying why.
    let started = Instant::now();
    let history = loop {
        let h = get(&server, "/api/v1/alerts?scan=watched");
        let rows = h.as_array().unwrap().clone();
        let settled = rows.iter().all(|a| a["state"] != "pending");
        if settled && rows.len() == 9 {
            break rows;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "{h}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let find = |job: i64, rule: &str, notifier: &str| -> Value {
        history
            .iter()
            .find(|a| a["job"] == job && a["rule"] == rule && a["notifier"] == notifier)
            .unwrap_or_else(|| panic!("{job} {rule} {notifier}: {history:?}"))
            .clone()
    };
    assert_eq!(find(first, "done", "hook")["state"], "sent");
    assert_eq!(find(second, "done", "hook")["state"], "suppressed");
    assert_eq!(find(second, "drift", "hook")["state"], "sent");
    for job in [first, second] {
        let flaky_row = find(job, "unreliable", "flaky");
        assert_eq!(flaky_row["state"], "sent", "{flaky_row}");
        let slow_row = find(job, "unreliable", "slow");
        assert_eq!(slow_row["state"], "failed", "{slow_row}");
        assert_eq!(slow_row["attempts"], 2);
        assert_eq!(slow_row["error"], "timed out");
        let down_row = find(job, "unreliable", "down");
        assert_eq!(down_row["state"], "failed", "{down_row}");
        assert!(
            down_row["error"]
                .as_str()
                .unwrap()
                .starts_with("connection failed"),
            "{down_row}"
        );
        // The error never shows the URL.
        assert!(!down_row.to_string().contains(&down));
    }
    assert_eq!(
        history
            .iter()
            .filter(|a| a["notifier"] == "flaky" && a["attempts"] == 2)
            .count(),
        1,
        "only the first request to flaky failed: {history:?}"
    );
    assert_eq!(good.count("/hook"), 4);
}

/// Bad notifiers and rules stop `serve` at start, saying what was expected
/// and never echoing a URL (it may hold a token).
#[test]
fn a_bad_notifier_config_is_refused_without_echoing_the_url() {
    let dir = tempfile::tempdir().unwrap();
    for (rest, says) in [
        (
            "notifiers: [{name: n, webhook: {url: 'https://hooks.example.com/secret-token'}}]\n",
            "a webhook's URL is a secret",
        ),
        (
            "notifiers: [{name: n, slack: {urlFile: u}, alertmanager: {url: 'http://am'}}]\n",
            "exactly one of webhook, slack or alertmanager",
        ),
        (
            "notifiers: [{name: n, alertmanager: {url: 'ftp://secret-token@am'}}]\n",
            "must start with http:// or https://",
        ),
        (
            "notifiers: [{name: n, alertmanager: {url: 'http://am'}}]\nscans: [{name: s, notifiers: [m]}]\n",
            "notifier m is not one of notifiers (n)",
        ),
        (
            "notifiers: [{name: n, alertmanager: {url: 'http://am'}}]\nscans: [{name: s, alerts: [{on: failure, notifiers: [n]}]}]\n",
            "unknown variant `failure`",
        ),
    ] {
        std::fs::write(dir.path().join("admin.token"), ADMIN).unwrap();
        std::fs::write(
            dir.path().join("serve.yaml"),
            format!("listen: 127.0.0.1:0\ndataDir: d\ntokens: [{{name: a, role: admin, tokenFile: admin.token}}]\n{rest}"),
        )
        .unwrap();
        let out = crate::support::kubecis(&[
            "serve",
            "--config",
            dir.path().join("serve.yaml").to_str().unwrap(),
        ]);
        let err = crate::support::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{rest}: {err}");
        assert!(err.contains(says), "{rest}: {err}");
        assert!(!err.contains("secret-token"), "{err}");
    }
}

/// Rules replaced through the API hold (across a restart) until deleted;
/// only an admin may change them, and bad rules change nothing.
#[test]
fn alert_rules_are_set_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(Behaviour::Accept);
    let config = format!(
        "notifiers:\n  - {{name: hook, webhook: {{urlFile: {}}}}}\n  - {{name: other, webhook: {{urlFile: {}}}}}\nscans:\n  - {{name: cis, benchmark: cis-1.8, alerts: [{{on: completed, notifiers: [hook]}}]}}\n",
        url_file(dir.path(), "hook", &format!("{}/hook", receiver.url)),
        url_file(dir.path(), "other", &format!("{}/other", receiver.url)),
    );
    let mut server = Server::start(dir.path(), &config);
    let path = "/api/v1/scans/cis/alerts";
    let rules = get(&server, path);
    assert_eq!(rules["from"], "config");
    assert_eq!(rules["rules"][0]["on"], "completed");

    let new = br#"[{"name": "loud", "on": "completed", "runs": ["manual"], "level": "critical", "notifiers": ["other"], "minInterval": "10m"}]"#;
    for (token, body, want, says) in [
        (VIEWER, new.as_slice(), 403, "role"),
        (
            ADMIN,
            br#"[{"on": "completed", "notifiers": ["nobody"]}]"#.as_slice(),
            400,
            "notifier nobody is not one of notifiers",
        ),
        (
            ADMIN,
            br#"[{"on": "sometimes", "notifiers": ["hook"]}]"#.as_slice(),
            400,
            "unknown variant `sometimes`",
        ),
        (
            ADMIN,
            br#"[{"on": "completed", "notifiers": ["hook"], "minInterval": "soon"}]"#.as_slice(),
            400,
            "minInterval",
        ),
        (ADMIN, b"{not json".as_slice(), 400, "alert rules"),
    ] {
        let (status, answer) = server.request("PUT", path, Some(token), body);
        assert_eq!(status, want, "{answer}");
        assert!(answer.contains(says), "{says}: {answer}");
        assert_eq!(
            get(&server, path)["from"],
            "config",
            "a refused request changes nothing"
        );
    }
    let (status, answer) = server.request("PUT", path, Some(ADMIN), new);
    assert_eq!(status, 200, "{answer}");

    // Kept across a restart, and used for the next job's end.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let server = Server::start(dir.path(), &config);
    let rules = get(&server, path);
    assert_eq!(rules["from"], "api");
    assert_eq!(rules["rules"][0]["name"], "loud");
    assert_eq!(rules["rules"][0]["minInterval"], "10m");
    let worker = Materialised::new("kubeadm-worker");
    let _agents = Agents(vec![server.agent(&worker, "worker-1")]);
    server.wait_for_agents(&["worker-1"]);
    let job = server.run("cis");
    server.finished(job, Duration::from_secs(60));
    let sent = receiver.wait_for("/other", 1);
    assert_eq!(sent[0]["rule"], "loud");
    assert_eq!(sent[0]["level"], "critical");
    assert_eq!(receiver.count("/hook"), 0);

    // Deleted: the config's rule again.
    assert_eq!(server.request("DELETE", path, Some(VIEWER), b"").0, 403);
    assert_eq!(server.request("DELETE", path, Some(ADMIN), b"").0, 204);
    assert_eq!(get(&server, path)["from"], "config");
    let job = server.run("cis");
    server.finished(job, Duration::from_secs(60));
    receiver.wait_for("/hook", 1);
    assert_eq!(
        server
            .request("PUT", "/api/v1/scans/nope/alerts", Some(ADMIN), new)
            .0,
        404
    );
}
