//! The sandbox holds: a check that spins, hogs memory, floods its output,
//! reads outside its grant or traps ends as `error` for itself alone, while
//! every other check of the scan still runs.

mod support;

use kubecis::report::{Report, State};
use support::{Materialised, built_component, kubecis, stderr, write_bundle};

const ITEMS: &str = r#"
- id: "9.1.1"
  title: spins forever
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: spin}
  remediation: none
- id: "9.1.2"
  title: allocates without end
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: hog}
  remediation: none
- id: "9.1.3"
  title: returns 1 MB of text
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: flood, bytes: 1000000}
  remediation: none
- id: "9.1.4"
  title: reads /etc/shadow without a grant
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/shadow}
  grants: {paths: [/etc/kubernetes]}
  remediation: none
- id: "9.1.5"
  title: climbs out of its grant with ..
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/../../etc/shadow}
  grants: {paths: [/etc/kubernetes]}
  remediation: none
- id: "9.1.6"
  title: follows a symlink inside its grant to a file outside it
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/shadow-link}
  grants: {paths: [/etc/kubernetes]}
  remediation: none
- id: "9.1.7"
  title: follows a relative symlink above the node root
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/escape}
  grants: {paths: [/etc/kubernetes]}
  remediation: none
- id: "9.1.8"
  title: traps
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: crash}
  remediation: none
- id: "9.1.9"
  title: an honest check after all of them
  automated: true
  scored: true
  check: flag
  settings:
    component: kubelet
    config: ${kubelet.conf}
    tests: [{flag: --anonymous-auth, key: authentication.anonymous.enabled, compare: {op: eq, value: "false"}}]
  grants: {processes: [kubelet], paths: ["${kubelet.conf}"]}
  remediation: none
- id: "9.1.10"
  title: asks for processes it was not granted
  automated: true
  scored: true
  check: flag
  settings:
    component: apiserver
    tests: [{flag: --anonymous-auth}]
  grants: {processes: [kubelet]}
  remediation: none
"#;

fn hostile_scan() -> Report {
    let node = Materialised::new("kubeadm-control-plane");
    let root = node.root();
    // What the hostile checks go after: the root's own shadow file, reachable by links.
    std::fs::write(
        root.join("etc/shadow"),
        "root:$6$secret:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", root.join("etc/kubernetes/shadow-link")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../etc/shadow",
        root.join("etc/kubernetes/escape"),
    )
    .unwrap();

    let bundles = node.dir.path().join("bundles");
    write_bundle(&bundles, "hostile-test", "node", ITEMS);
    std::fs::copy(
        built_component("check-hostile"),
        bundles.join("hostile-test/components/hostile.wasm"),
    )
    .unwrap();

    let out = kubecis(&[
        "scan",
        "--benchmark",
        "hostile-test",
        "--bundle-dir",
        bundles.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--cache-dir",
        node.cache().to_str().unwrap(),
        "--check-timeout-ms",
        "300",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "scan failed: {}",
        support::stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn expect(report: &Report, id: &str, state: State, reason_has: &str) {
    let r = report.result(id).unwrap_or_else(|| panic!("{id} missing"));
    assert_eq!(r.state, state, "{id} ({}): {r:?}", r.title);
    assert!(
        r.reason.contains(reason_has),
        "{id}: reason {:?} lacks {reason_has:?}",
        r.reason
    );
}

#[test]
fn every_attack_ends_as_an_error_of_its_own_check() {
    let report = hostile_scan();
    expect(&report, "9.1.1", State::Error, "timed out after 300ms");
    expect(&report, "9.1.2", State::Error, "memory cap of 32 MiB");
    expect(&report, "9.1.3", State::Error, "the cap is 65536");
    expect(
        &report,
        "9.1.4",
        State::Error,
        "denied: /etc/shadow is outside the item's grant",
    );
    expect(
        &report,
        "9.1.5",
        State::Error,
        "denied: /etc/shadow is outside the item's grant",
    );
    expect(
        &report,
        "9.1.6",
        State::Error,
        "leads to /etc/shadow, outside the item's grant",
    );
    expect(
        &report,
        "9.1.7",
        State::Error,
        "leads outside the node root",
    );
    expect(&report, "9.1.8", State::Error, "trapped");
    // The secret never reaches a report.
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("$6$secret"));
}

#[test]
fn honest_checks_still_run_and_ungranted_processes_are_denied() {
    let report = hostile_scan();
    // kubeadm's kubelet config disables anonymous auth.
    let honest = report.result("9.1.9").unwrap();
    assert_eq!(honest.state, State::Pass, "{honest:?}");
    assert!(
        honest
            .actual
            .contains("authentication.anonymous.enabled: false in /var/lib/kubelet/config.yaml")
    );
    expect(
        &report,
        "9.1.10",
        State::Error,
        "denied: processes of apiserver are outside the item's grant",
    );
    assert_eq!(report.totals[&State::Error], 9);
}

#[test]
fn warm_sandbox_loads_from_the_cache_and_repairs_a_corrupt_entry() {
    use kubecis::bundle::Library;
    use kubecis::sandbox::{Cache, Limits, Sandbox};
    let library = Library::load(None).unwrap();
    let bundle = library.get("cis-1.8").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = || {
        let mut sandbox = Sandbox::new(
            Limits::default(),
            Some(Cache::new(dir.path().to_path_buf())),
        )
        .unwrap();
        kubecis::scan::prepare(&mut sandbox, bundle).unwrap();
        (sandbox.stats.compiled, sandbox.stats.from_cache)
    };
    assert_eq!(load(), (2, 0), "cold: flag and file compile");
    assert_eq!(load(), (0, 2), "warm: both from the cache");

    let mut entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|p| p.with_extension("sum").is_file()));
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entries[0], bytes).unwrap();
    assert_eq!(
        load(),
        (1, 1),
        "the corrupt entry is recompiled, never deserialised"
    );
    assert_eq!(load(), (0, 2), "and stored again");
}

/// A node that lays traps for the host: FIFOs where files are expected (a
/// read would wait forever for a writer) and a process environment that
/// links out of the node root. The scan finishes, and says what it met.
#[test]
fn a_hostile_node_cannot_hang_or_lead_the_host_out() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let node = Materialised::new("kubeadm-control-plane");
    let root = node.root();
    let fifo = |rel: &str| {
        let path = root.join(rel);
        std::fs::remove_file(&path).unwrap();
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo only reads the path it is given.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "{rel}");
    };
    let etcd = std::fs::read_dir(root.join("proc"))
        .unwrap()
        .flatten()
        .find(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c.starts_with(b"etcd\0")))
        .expect("an etcd process in the fixture")
        .path();
    fifo("etc/hostname");
    fifo("etc/passwd");
    fifo("var/lib/kubelet/config.yaml");
    fifo("proc/1/cmdline");
    let secret = node.dir.path().join("outside-secret");
    std::fs::write(&secret, "ETCD_CLIENT_CERT_AUTH=true\0CLOUD_TOKEN=s3cr3t\0").unwrap();
    let _ = std::fs::remove_file(etcd.join("environ"));
    std::os::unix::fs::symlink(&secret, etcd.join("environ")).unwrap();

    let (root_s, cache) = node.root_and_cache();
    // Into a file: a pipe nobody reads until the end would fill and stall the scan.
    let json = node.dir.path().join("scan.json");
    let mut child = Command::new(support::kubecis_path())
        .args([
            "scan",
            "--root",
            &root_s,
            "--cache-dir",
            &cache,
            "--format",
            "json",
        ])
        .stdout(std::fs::File::create(&json).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the scan hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code() == Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&json).unwrap();
    let report: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(report.node.name, "unknown", "a FIFO is no host name");
    // The kubelet's config file is a FIFO: its items say so, none passes on it.
    let anon = report.result("4.2.1").unwrap();
    assert_eq!(anon.state, State::Error, "{anon:?}");
    assert!(
        anon.reason.contains("is a FIFO, not a regular file"),
        "{}",
        anon.reason
    );
    // The linked environment is not read: the etcd items that look at it err.
    let etcd_item = report.result("2.2").unwrap();
    assert_eq!(etcd_item.state, State::Error, "{etcd_item:?}");
    assert!(!text.contains("s3cr3t"));
    // Owners still come out as numbers (passwd is a FIFO).
    assert!(report.result("1.1.2").is_some());

    // A report file that is a FIFO is refused at once, named.
    let fifo_report = node.dir.path().join("report.json");
    let c = std::ffi::CString::new(fifo_report.to_str().unwrap()).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let out = kubecis(&["report", fifo_report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{}: is a FIFO, not a regular file",
            fifo_report.display()
        )),
        "{}",
        stderr(&out)
    );
}
