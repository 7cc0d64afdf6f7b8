//! The dashboard in a real browser: Debian's Chromium driven by
//! playwright-core (`tests/browser/dashboard.mjs`) against a real `serve`
//! with two agents. Screenshots of the main pages at a laptop's and a
//! phone's width are left in `target/dashboard-screenshots`.

use crate::server::{ADMIN, Agents, Server, VIEWER};
use crate::support::Materialised;
use std::path::Path;
use std::process::Command;

#[test]
fn a_person_runs_reads_downloads_and_deletes_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        "scans:\n  - {name: cis, benchmark: cis-1.8, skip: ['1.1.12'], deadline: 60s}\n",
    );
    let _cluster = server.two_nodes();

    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(browser.join("dashboard.mjs"))
        .args([&server.url, ADMIN, VIEWER])
        .arg(&shots)
        .current_dir(&browser)
        .output()
        .expect("node (tests/run.sh installs it with playwright-core and chromium)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let job = seen["job"].as_i64().unwrap();
    assert!(seen["failedItems"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(seen["csvHasFirstFailed"], true, "{seen}");
    assert_eq!(seen["csvName"], format!("kubecis-report-{job}-rancher.csv"));
    assert_eq!(seen["deleted"], job);
    assert_eq!(seen["viewerRunStatus"], 403, "{seen}");
    assert_eq!(seen["forgedStatus"], 403, "{seen}");
    assert_eq!(seen["missingStatus"], 404, "{seen}");

    // The deletion is real: the API no longer has the report.
    let (status, _) = server.request("GET", &format!("/api/v1/reports/{job}"), Some(VIEWER), b"");
    assert_eq!(status, 404);
    // Every page was captured at both widths.
    for name in ["overview", "scan", "report", "node", "viewer"] {
        for width in [1280, 390] {
            let png = std::fs::read(shots.join(format!("{name}-{width}.png"))).unwrap();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 5_000,
                "{name}-{width}"
            );
        }
    }
}

/// The dashboard's pages escape what nodes and configs put in them, and
/// carry a policy that lets nothing from elsewhere run.
#[test]
fn pages_escape_node_text_and_forbid_outside_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "scans:\n  - {name: cis, benchmark: cis-1.8}\n");
    let evil = "<script>alert(1)</script>";
    let registration = serde_json::json!({
        "node": evil, "nodeTypes": ["node"], "kubernetesVersion": "1.26.9",
        "distribution": "<b>x</b>", "agentVersion": "test"
    });
    server.register_with(registration);
    let cookie = sign_in(&server, ADMIN);
    let (status, page) = raw(&server.url, "GET", "/ui/", Some(&cookie), "");
    assert_eq!(status, 200);
    assert!(
        !page.contains(evil),
        "raw markup from a node reached the page"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<b>x</b>"));
    let lower = page.to_lowercase();
    assert!(
        lower.contains("content-security-policy: default-src 'none'"),
        "{page}"
    );
    assert!(lower.contains("x-frame-options: deny"));
    // Nothing on any page comes from another host.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    // Without a session, pages send the visitor to sign in; a POST without
    // the session's CSRF token changes nothing.
    let (status, headers) = raw(&server.url, "GET", "/ui/scans/cis", None, "");
    assert_eq!(status, 303);
    assert!(headers.contains("/ui/login"));
    let (status, _) = raw(
        &server.url,
        "POST",
        "/ui/scans/cis/run",
        Some(&cookie),
        "csrf=wrong",
    );
    assert_eq!(status, 403);
    assert!(server.jobs().is_empty(), "no job was started");
    // A scan page follows its running job (and only then).
    let (_, quiet) = raw(&server.url, "GET", "/ui/scans/cis", Some(&cookie), "");
    assert!(!quiet.contains("data-refresh"), "{quiet}");
    let (status, _) = server.request("POST", "/api/v1/scans/cis/run", Some(ADMIN), b"");
    assert_eq!(status, 202);
    let (_, live) = raw(&server.url, "GET", "/ui/scans/cis", Some(&cookie), "");
    assert!(live.contains("<main id=\"main\" data-refresh>"), "{live}");
    assert!(
        live.contains("connect-src 'self'"),
        "the page may read itself again"
    );
    // An agent's token cannot sign in.
    let (status, _) = raw(
        &server.url,
        "POST",
        "/ui/login",
        None,
        &format!("token={}", crate::server::AGENT),
    );
    assert_eq!(status, 403);
}

/// Signs in as a form would: the session cookie (`name=value`).
fn sign_in(server: &Server, token: &str) -> String {
    let (status, headers) = raw(
        &server.url,
        "POST",
        "/ui/login",
        None,
        &format!("token={token}"),
    );
    assert_eq!(status, 303, "{headers}");
    assert!(headers.to_lowercase().contains("httponly"), "{headers}");
    headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned()
}

/// The CSRF token of a page's forms.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

/// An admin adds and removes a scan's alert rules on its page, mistakes
/// are refused naming the field and change nothing, the configuration's
/// rules come back on request, and a viewer can do none of it.
#[test]
fn alert_rules_are_edited_on_the_scan_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hook.url"), "http://127.0.0.1:9/hook").unwrap();
    let server = Server::start(
        dir.path(),
        "notifiers:\n  - {name: hook, webhook: {urlFile: hook.url}}\n  - {name: am, alertmanager: {url: 'http://127.0.0.1:9/am'}}\nscans:\n  - {name: cis, benchmark: cis-1.8, notifiers: [hook]}\n",
    );
    let rules = || -> serde_json::Value {
        let (status, body) = server.request("GET", "/api/v1/scans/cis/alerts", Some(VIEWER), b"");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(body.trim()).unwrap()
    };
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Rancher's four alerts (completed, failures; manual, scheduled) to the scan's notifier.
    let from_config = rules();
    assert_eq!(from_config["from"], "config");
    assert_eq!(names(&from_config).len(), 4, "{from_config}");

    let admin = sign_in(&server, ADMIN);
    let (_, page) = raw(&server.url, "GET", "/ui/scans/cis", Some(&admin), "");
    assert!(page.contains("Add an alert rule"), "{page}");
    assert!(
        !page.contains("Back to the configuration"),
        "nothing to go back from"
    );
    let csrf = csrf_of(&page);
    let post = |cookie: &str, form: &str| {
        raw(
            &server.url,
            "POST",
            "/ui/scans/cis/alerts",
            Some(cookie),
            form,
        )
    };

    let (status, answer) = post(
        &admin,
        &format!(
            "csrf={csrf}&action=add&on=drift&runs=scheduled&notifiers=hook&notifiers=am&minInterval=6h&name=night+drift&level="
        ),
    );
    assert_eq!(status, 303, "{answer}");
    assert!(answer.contains("/ui/scans/cis#alerts"), "{answer}");
    let set = rules();
    assert_eq!(set["from"], "api");
    let added = set["rules"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(added["name"], "night drift");
    assert_eq!(added["on"], "drift");
    assert_eq!(added["runs"], serde_json::json!(["scheduled"]));
    assert_eq!(added["notifiers"], serde_json::json!(["hook", "am"]));
    assert_eq!(added["minInterval"], "6h");
    assert_eq!(added["level"], "warning", "drift's default level");
    let (_, page) = raw(&server.url, "GET", "/ui/scans/cis", Some(&admin), "");
    assert!(page.contains("<strong>night drift</strong>"), "{page}");
    assert!(page.contains("Back to the configuration"));

    // Mistakes: a 400 page that names them, and the rules stay as they were.
    for (form, says) in [
        (
            "action=add&on=failures&runs=manual&notifiers=hook&minInterval=soon",
            "minInterval",
        ),
        (
            "action=add&on=failures&runs=manual",
            "at least one notifier",
        ),
        ("action=add&on=failures&notifiers=hook", "runs names no run"),
        (
            "action=add&on=failures&runs=manual&notifiers=nobody",
            "notifier nobody is not one of",
        ),
        (
            "action=add&on=drift&runs=manual&notifiers=hook&name=night+drift",
            "two rules are named night drift",
        ),
        (
            "action=add&on=sometimes&runs=manual&notifiers=hook",
            "unknown variant `sometimes`",
        ),
        ("action=remove&index=9", "there is no rule 9"),
        ("action=explode", "unknown action"),
    ] {
        let (status, answer) = post(&admin, &format!("csrf={csrf}&{form}"));
        assert_eq!(status, 400, "{form}: {answer}");
        assert!(answer.contains(says), "{form}: {answer}");
        assert_eq!(rules(), set, "{form} changed the rules");
    }

    // A viewer sees no form, and the server refuses the viewer's POST.
    let viewer = sign_in(&server, VIEWER);
    let (_, page) = raw(&server.url, "GET", "/ui/scans/cis", Some(&viewer), "");
    assert!(!page.contains("Add an alert rule") && !page.contains("Remove alert rule"));
    let viewer_csrf = csrf_of(&page);
    let (status, _) = post(
        &viewer,
        &format!("csrf={viewer_csrf}&action=remove&index=0"),
    );
    assert_eq!(status, 403);
    let (status, _) = post(&viewer, &format!("csrf={viewer_csrf}&action=reset"));
    assert_eq!(status, 403);
    assert_eq!(rules(), set, "a viewer changed the rules");

    // Removing the first rule; then back to the configuration's.
    let (status, _) = post(&admin, &format!("csrf={csrf}&action=remove&index=0"));
    assert_eq!(status, 303);
    let fewer = rules();
    assert_eq!(names(&fewer).len(), names(&set).len() - 1);
    assert!(names(&fewer).contains(&"night drift".to_owned()));
    let (status, _) = post(&admin, &format!("csrf={csrf}&action=reset"));
    assert_eq!(status, 303);
    assert_eq!(rules(), from_config);
}

/// One HTTP/1.1 request with a form body and an optional cookie: (status,
/// the whole answer: headers and body).
fn raw(url: &str, method: &str, path: &str, cookie: Option<&str>, form: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, answer)
}

/// Rancher lets a user pick the profile of a run: each profile's skipped
/// items are shown first, and the chosen one is the report's.
#[test]
fn a_run_may_choose_another_profile_of_the_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        "scans:\n  - {name: rke, benchmark: rke-cis-1.4, profile: rke-cis-1.4-permissive, skip: ['1.1.2'], deadline: 60s}\n",
    );
    let (_, scans) = server.request("GET", "/api/v1/scans", Some(VIEWER), b"");
    let scans: serde_json::Value = serde_json::from_str(scans.trim()).unwrap();
    let choices = scans[0]["runChoices"].as_array().unwrap();
    let profiles: Vec<&str> = choices
        .iter()
        .map(|c| c["profile"].as_str().unwrap())
        .collect();
    assert_eq!(profiles, ["rke-cis-1.4-permissive", "rke-cis-1.4-hardened"]);
    for choice in choices {
        let by_scan = choice["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == "1.1.2")
            .unwrap_or_else(|| panic!("{choice}"));
        assert_eq!(by_scan["by"], "the scan's skip list (1.1.2)");
    }
    let skips = |i: usize| choices[i]["skipped"].as_array().unwrap().len();
    assert!(
        skips(0) > skips(1),
        "the permissive profile skips more: {choices:?}"
    );
    assert!(choices[0]["skipped"].as_array().unwrap().iter().any(|k| {
        k["by"]
            .as_str()
            .unwrap()
            .starts_with("profile rke-cis-1.4-permissive: ")
    }));

    let node = Materialised::new("rke-node");
    let _agents = Agents(vec![server.agent(&node, "rke-1")]);
    server.wait_for_agents(&["rke-1"]);
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans/rke/run?profile=rke-cis-1.4-nope",
        Some(ADMIN),
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("rke-cis-1.4-permissive, rke-cis-1.4-hardened"),
        "{body}"
    );
    assert!(server.jobs().is_empty(), "a refused run starts nothing");
    let (status, body) = server.request(
        "POST",
        "/api/v1/scans/rke/run?profile=RKE-CIS-1.4-HARDENED",
        Some(ADMIN),
        b"",
    );
    assert_eq!(status, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    let job = job["job"].as_i64().unwrap();
    assert_eq!(
        server.finished(job, std::time::Duration::from_secs(60))["state"],
        "completed"
    );
    let (_, report) = server.request("GET", &format!("/api/v1/reports/{job}"), Some(VIEWER), b"");
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["groups"][0]["profile"], "rke-cis-1.4-hardened");
}

/// A page following a running job tells the reader when the server stops
/// answering.
#[test]
fn a_following_page_says_when_the_server_is_gone() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), "scans:\n  - {name: cis, benchmark: cis-1.8}\n");
    // A node that never uploads keeps the job running.
    server.register("worker-1", "node");
    let (status, _) = server.request("POST", "/api/v1/scans/cis/run", Some(ADMIN), b"");
    assert_eq!(status, 202);
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    let mut child = Command::new("node")
        .arg(browser.join("follow.mjs"))
        .args([&server.url, ADMIN])
        .current_dir(&browser)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "watching");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    writeln!(child.stdin.take().unwrap(), "stopped").unwrap();
    let last = lines.next().expect("the browser's answer").unwrap();
    assert!(child.wait().unwrap().success());
    let seen: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(seen["hiddenAtFirst"], true, "{seen}");
    assert_eq!(seen["shown"], true, "{seen}");
}
