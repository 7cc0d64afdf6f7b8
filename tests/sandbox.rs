//! The sandbox holds: a check that spins, hogs memory, floods its output,
//! reads outside its grant or traps ends as `error` for itself alone, while
//! every other check of the scan still runs.

use crate::support;

use kubecis_model::report::{Report, State};
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
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.5"
  title: climbs out of its grant with ..
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/../../etc/shadow}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.6"
  title: follows a symlink inside its grant to a file outside it
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/shadow-link}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.7"
  title: follows a relative symlink above the node root
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: snoop, path: /etc/kubernetes/escape}
  grants: {content: [/etc/kubernetes]}
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
  grants: {processes: [kubelet], content: ["${kubelet.conf}"]}
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
- id: "9.1.11"
  title: sleeps through the WASI clock
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: sleep, ms: 5000}
  remediation: none
- id: "9.1.12"
  title: asks for a whole private key
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /etc/kubernetes/pki/ca.key, key: ""}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.13"
  title: asks a private key for a value
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /etc/kubernetes/pki/ca.key, key: "a"}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.14"
  title: asks a kubeconfig for its client key
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /etc/kubernetes/admin.conf, key: users.0.user.client-key-data}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.15"
  title: asks a kubeconfig for a mapping holding its secrets
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /etc/kubernetes/admin.conf, key: users}
  grants: {content: [/etc/kubernetes]}
  remediation: none
- id: "9.1.16"
  title: reads /etc/shadow under a grant of /etc
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /etc/shadow, key: root}
  grants: {content: [/etc]}
  remediation: none
- id: "9.1.17"
  title: reads etcd's whole environment
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: environ, component: etcd}
  grants: {processes: [etcd], environment: {etcd: [ETCD_CLIENT_CERT_AUTH, ETCD_INITIAL_CLUSTER_TOKEN]}}
  remediation: none
- id: "9.1.18"
  title: asks for a large value until it has taken more than its budget
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: drain, path: /etc/kubernetes/big.yaml, key: blob, times: 10}
  grants: {content: [/etc/kubernetes/big.yaml]}
  remediation: none
- id: "9.1.19"
  title: reads the kubelet's arguments, a token among them
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: argv, component: kubelet}
  grants: {processes: [kubelet]}
  remediation: none
- id: "9.1.20"
  title: reads values with a metadata grant only
  automated: true
  scored: true
  check: hostile
  settings: {behaviour: value, path: /var/lib/kubelet/config.yaml, key: authentication}
  grants: {metadata: [/var/lib/kubelet]}
  remediation: none
"#;

/// The fixture's etcd process directory.
fn etcd_proc(root: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(root.join("proc"))
        .unwrap()
        .flatten()
        .find(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c.starts_with(b"etcd\0")))
        .expect("an etcd process in the fixture")
        .path()
}

/// The fixture's kubelet process directory.
fn kubelet_proc(root: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(root.join("proc"))
        .unwrap()
        .flatten()
        .find(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.starts_with(b"/usr/bin/kubelet\0"))
        })
        .expect("a kubelet process in the fixture")
        .path()
}

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

    // Secrets a granted check goes after: a private key, a kubeconfig's
    // client key and token, cloud credentials and a token in an environment
    // and a command line; and a value large enough to drain the answer budget.
    let admin = root.join("etc/kubernetes/admin.conf");
    let mut kubeconfig = std::fs::read_to_string(&admin).unwrap();
    kubeconfig.push_str("    token: s3cr3t-admin-token\n");
    std::fs::write(&admin, kubeconfig).unwrap();
    std::fs::write(
        root.join("etc/kubernetes/big.yaml"),
        format!("blob: {}\n", "x".repeat(900_000)),
    )
    .unwrap();
    let etcd = etcd_proc(&root);
    std::fs::write(
        etcd.join("environ"),
        "ETCD_CLIENT_CERT_AUTH=true\0AWS_SECRET_ACCESS_KEY=AKIAs3cr3tcloud\0ETCD_INITIAL_CLUSTER_TOKEN=s3cr3t-cluster\0",
    )
    .unwrap();
    let kubelet = kubelet_proc(&root);
    let mut cmdline = std::fs::read(kubelet.join("cmdline")).unwrap();
    cmdline.extend_from_slice(b"--token=s3cr3t-bootstrap\0");
    std::fs::write(kubelet.join("cmdline"), cmdline).unwrap();

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
        "--allow-grants",
        "hostile-test",
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
    expect(&report, "9.1.11", State::Error, "checks may not wait");
    // Secrets within a grant: never handed over.
    expect(&report, "9.1.12", State::Error, "no key given");
    expect(
        &report,
        "9.1.13",
        State::Error,
        "not a configuration document",
    );
    expect(&report, "9.1.14", State::Error, "is a secret");
    let users = report.result("9.1.15").unwrap();
    assert_eq!(users.state, State::Pass, "{users:?}");
    assert!(
        users.actual.contains("kubernetes-admin"),
        "{}",
        users.actual
    );
    assert!(
        users.actual.contains("(withheld: secret)"),
        "{}",
        users.actual
    );
    expect(
        &report,
        "9.1.16",
        State::Error,
        "not a configuration document",
    );
    let env = report.result("9.1.17").unwrap();
    assert_eq!(env.state, State::Pass, "{env:?}");
    assert_eq!(
        env.actual,
        "ETCD_CLIENT_CERT_AUTH=true ETCD_INITIAL_CLUSTER_TOKEN=(withheld: secret)"
    );
    expect(&report, "9.1.18", State::Error, "more than 4194304 bytes");
    let argv = report.result("9.1.19").unwrap();
    assert!(
        argv.actual.contains("--token=(withheld: secret)"),
        "{}",
        argv.actual
    );
    expect(
        &report,
        "9.1.20",
        State::Error,
        "outside the item's content grant",
    );
    // No secret reaches a report.
    let json = serde_json::to_string(&report).unwrap();
    for secret in [
        "$6$secret",
        "s3cr3t",
        "AKIA",
        "PRIVATE KEY",
        "LS0tLS1CRUdJTiBSU0",
    ] {
        assert!(!json.contains(secret), "{secret} reached the report");
    }
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
    assert_eq!(report.totals[&State::Error], 16);
    assert!(report.bundle_origin.starts_with("directory "));
    assert!(report.bundle_origin.ends_with("bundles/hostile-test"));
    assert_eq!(report.bundle_digest.len(), 64);
}

#[test]
fn warm_sandbox_loads_from_the_cache_and_repairs_a_corrupt_entry() {
    use kubecis_engine::bundle::Library;
    use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
    let library = Library::load(&kubecis_builtin::BUILTINS, None).unwrap();
    let bundle = library.get("cis-1.8").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = || {
        let mut sandbox = Sandbox::new(
            Limits::default(),
            Some(Cache::open(dir.path().to_path_buf()).unwrap()),
        )
        .unwrap();
        kubecis_engine::scan::prepare(&mut sandbox, bundle).unwrap();
        (sandbox.stats.compiled, sandbox.stats.from_cache)
    };
    assert_eq!(load(), (3, 0), "cold: flag, file and encryption compile");
    assert_eq!(load(), (0, 3), "warm: all three from the cache");

    let mut entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|p| p.with_extension("sum").is_file()));
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entries[0], bytes).unwrap();
    assert_eq!(
        load(),
        (1, 2),
        "the corrupt entry is recompiled, never deserialised"
    );
    assert_eq!(load(), (0, 3), "and stored again");

    // One component's entry planted under the other's name, tag and all:
    // bound to the component it was compiled from, it is not loaded.
    std::fs::copy(&entries[0], &entries[1]).unwrap();
    std::fs::copy(
        entries[0].with_extension("sum"),
        entries[1].with_extension("sum"),
    )
    .unwrap();
    assert_eq!(load(), (1, 2), "a planted entry is recompiled");
    // Entries tagged with another key (a cache copied from elsewhere) are not loaded.
    std::fs::write(dir.path().join("key"), [7u8; 32]).unwrap();
    assert_eq!(load(), (3, 0), "entries under another key are recompiled");
    assert_eq!(load(), (0, 3));
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

/// Debian, Ubuntu and Fedora link /lib to usr/lib: a grant of a path under
/// /lib holds for the file it leads to.
#[test]
fn a_merged_usr_node_is_judged() {
    let node = Materialised::new("kubeadm-control-plane");
    let root = node.root();
    std::fs::create_dir_all(root.join("usr")).unwrap();
    std::fs::rename(root.join("lib"), root.join("usr/lib")).unwrap();
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    // Without kubeadm's drop-in, the unit under /lib is the kubelet's service file.
    std::fs::remove_dir_all(root.join("etc/systemd/system/kubelet.service.d")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let unit = root.join("usr/lib/systemd/system/kubelet.service");
    std::fs::set_permissions(unit, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, out, err) = support::scan_fixture(
        &node,
        &[
            "--benchmark",
            "cis-1.8",
            "--check",
            "4.1.1,4.1.2",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let report: Report = serde_json::from_str(&out).unwrap();
    for (id, state) in [("4.1.1", State::Pass), ("4.1.2", State::Pass)] {
        let r = report.result(id).unwrap();
        assert_eq!(r.state, state, "{id}: {r:?}");
        assert!(
            r.actual.contains("/lib/systemd/system/kubelet.service"),
            "{r:?}"
        );
    }
}

/// `kubecis scan --benchmark cis-1.8 --check IDS --format json` of a fixture.
fn scan_json(node: &Materialised, ids: &str) -> (i32, String, String) {
    support::scan_fixture(
        node,
        &["--benchmark", "cis-1.8", "--check", ids, "--format", "json"],
    )
}

/// Writes a one-item bundle `name` under `dir` with these grants.
fn bundle_with_grants(dir: &std::path::Path, name: &str, grants: &str) {
    let item = format!(
        "- id: \"9.1.1\"\n  title: reads what it is granted\n  automated: true\n  scored: true\n  check: flag\n  settings: {{component: kubelet, tests: [{{flag: --anonymous-auth}}]}}\n  grants: {{processes: [kubelet], {grants}}}\n  remediation: none\n"
    );
    write_bundle(dir, name, "node", &item);
}

#[test]
fn broad_or_sensitive_grants_of_an_outside_bundle_need_the_operator() {
    let node = Materialised::new("kubeadm-control-plane");
    let (root, cache) = node.root_and_cache();
    for (grants, refused) in [
        (
            "content: [/]",
            "content of / is refused: a whole system directory",
        ),
        (
            "metadata: [/etc]",
            "metadata of /etc is refused: a whole system directory",
        ),
        ("content: [/etc/kubernetes]", "reaching /etc/kubernetes/pki"),
        ("content: [/etc/shadow]", "reaching /etc/shadow"),
        ("metadata: [/root/.ssh]", "reaching /root, a private place"),
        (
            "metadata: [/var/run]",
            "reaching /var/run/secrets, a private place",
        ),
        ("environment: {kubelet: [A*]}", "a prefix of variable names"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        bundle_with_grants(dir.path(), "vendor-bench", grants);
        let bundles = dir.path().to_str().unwrap();
        let base = [
            "scan",
            "--root",
            &root,
            "--cache-dir",
            &cache,
            "--benchmark",
            "vendor-bench",
            "--bundle-dir",
            bundles,
        ];
        let out = kubecis(&base);
        assert_eq!(out.status.code(), Some(2), "{grants}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("vendor-bench: item 9.1.1"), "{grants}: {err}");
        assert!(err.contains(refused), "{grants}: {err}");
        assert!(
            err.contains("--allow-grants vendor-bench"),
            "{grants}: {err}"
        );
        // Named by the operator, the same bundle runs.
        let mut allowed = base.to_vec();
        allowed.extend(["--allow-grants", "vendor-bench"]);
        let out = kubecis(&allowed);
        assert_eq!(out.status.code(), Some(0), "{grants}: {}", stderr(&out));
    }
    // Narrow grants need nothing.
    let dir = tempfile::tempdir().unwrap();
    bundle_with_grants(
        dir.path(),
        "vendor-bench",
        "content: [/var/lib/kubelet/config.yaml], metadata: [/etc/kubernetes/pki]",
    );
    let out = kubecis(&[
        "plan",
        "--root",
        &root,
        "--benchmark",
        "vendor-bench",
        "--bundle-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = String::from_utf8_lossy(&out.stdout);
    for words in [
        "may read: arguments of the processes of kubelet",
        "may read: configuration values of /var/lib/kubelet/config.yaml",
        "may read: owner, group and mode under /etc/kubernetes/pki",
    ] {
        assert!(plan.contains(words), "{words}:\n{plan}");
    }
}

#[test]
fn an_outside_bundle_stays_in_its_directory_and_its_name() {
    let node = Materialised::new("kubeadm-control-plane");
    let (root, _) = node.root_and_cache();
    let plan = |dir: &std::path::Path, name: &str| {
        kubecis(&[
            "plan",
            "--root",
            &root,
            "--benchmark",
            name,
            "--bundle-dir",
            dir.to_str().unwrap(),
        ])
    };
    // A grant that climbs out of the place discovery found.
    let dir = tempfile::tempdir().unwrap();
    bundle_with_grants(
        dir.path(),
        "vendor-bench",
        "content: [\"${kubelet.conf}/../../root/x\"]",
    );
    let out = plan(dir.path(), "vendor-bench");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("climbs with .."), "{}", stderr(&out));
    // A built-in name is reserved.
    let dir = tempfile::tempdir().unwrap();
    bundle_with_grants(dir.path(), "cis-1.8", "metadata: []");
    let out = plan(dir.path(), "cis-1.8");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("takes the name of a built-in benchmark"),
        "{}",
        stderr(&out)
    );

    // Sections outside the bundle's directory: by path, absolute, by link.
    let secret = node.dir.path().join("secret.yaml");
    std::fs::write(&secret, "root:$6$s3cr3tsalt$hash:19000:0:99999:7:::\n").unwrap();
    for (section, refused) in [
        ("../../secret.yaml", "is not a plain file name"),
        ("/etc/passwd", "is not a plain file name"),
        ("linked.yaml", "linked.yaml"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        bundle_with_grants(dir.path(), "vendor-bench", "metadata: []");
        let b = dir.path().join("vendor-bench");
        std::os::unix::fs::symlink(&secret, b.join("linked.yaml")).unwrap();
        std::fs::write(
            b.join("bundle.yaml"),
            format!("benchmark: vendor-bench\ntitle: t\nkubernetes: [\"1.26\"]\nsections: [\"{section}\"]\n"),
        )
        .unwrap();
        let out = plan(dir.path(), "vendor-bench");
        assert_eq!(out.status.code(), Some(2), "{section}");
        let err = stderr(&out);
        assert!(err.contains(refused), "{section}: {err}");
        assert!(!err.contains("s3cr3tsalt"), "{section} echoed: {err}");
    }

    // A section that is not one: the error names the file and line, not its text.
    let dir = tempfile::tempdir().unwrap();
    bundle_with_grants(dir.path(), "vendor-bench", "metadata: []");
    std::fs::copy(&secret, dir.path().join("vendor-bench/items.yaml")).unwrap();
    let out = plan(dir.path(), "vendor-bench");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("vendor-bench/items.yaml"), "{err}");
    assert!(!err.contains("s3cr3tsalt"), "echoed: {err}");

    // A shipped component that is not a component is refused when loaded.
    let dir = tempfile::tempdir().unwrap();
    bundle_with_grants(dir.path(), "vendor-bench", "metadata: []");
    std::fs::write(
        dir.path().join("vendor-bench/components/flag.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let out = kubecis(&["benchmarks", "--bundle-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("flag.wasm: is not a WebAssembly component"),
        "{}",
        stderr(&out)
    );
}

/// A kubelet config that is a billion-laughs YAML: the item errs, the scan ends.
#[test]
fn an_alias_bomb_on_the_node_is_refused() {
    let node = Materialised::new("kubeadm-control-plane");
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{p}"); 10].join(", ")
        ));
    }
    std::fs::write(node.root().join("var/lib/kubelet/config.yaml"), bomb).unwrap();
    let (code, out, err) = scan_json(&node, "4.2.1");
    assert_eq!(code, 3, "judged nothing: {err}");
    let report: Report = serde_json::from_str(&out).unwrap();
    let r = report.result("4.2.1").unwrap();
    assert_eq!(r.state, State::Error, "{r:?}");
    assert!(r.reason.contains("aliases expand"), "{}", r.reason);
}

#[test]
fn a_report_names_the_bundle_that_judged() {
    let node = Materialised::new("kubeadm-control-plane");
    let (code, out, err) = scan_json(&node, "4.2.1");
    assert_eq!(code, 0, "{err}");
    let report: Report = serde_json::from_str(&out).unwrap();
    assert_eq!(report.bundle_origin, "built-in");
    let digest = kubecis_builtin::BUNDLE_DIGESTS
        .iter()
        .find(|(b, _)| *b == "cis-1.8")
        .unwrap()
        .1;
    assert_eq!(report.bundle_digest, digest);
    let (_, text, _) =
        support::scan_fixture(&node, &["--benchmark", "cis-1.8", "--check", "4.2.1"]);
    assert!(
        text.contains(&format!("bundle: built-in, sha256 {}", &digest[..16])),
        "{text}"
    );
}

/// A scan that outlives --scan-timeout stops with a clear error, whatever it
/// was waiting for.
#[test]
fn a_scan_past_its_time_stops_and_says_where() {
    let node = Materialised::new("kubeadm-control-plane");
    let (code, out, err) = support::scan_fixture(&node, &["--scan-timeout", "1ms"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "no half report: {out}");
    assert!(
        err.contains("the scan did not finish within 1ms (it was "),
        "{err}"
    );
}

/// What the node names reaches every output harmless: a node name that is a
/// spreadsheet formula, a config path with a shell command and a character
/// XML forbids.
#[test]
fn outputs_escape_what_the_node_puts_in_them() {
    let node = Materialised::new("kubeadm-control-plane");
    let root = node.root();
    let odd = "/var/lib/kubelet/config\u{ffff}$(touch pwned).yaml";
    std::fs::rename(
        root.join("var/lib/kubelet/config.yaml"),
        root.join(odd.trim_start_matches('/')),
    )
    .unwrap();
    let kubelet = kubelet_proc(&root);
    let cmdline = std::fs::read_to_string(kubelet.join("cmdline")).unwrap();
    let cmdline = cmdline.replace(
        "--config=/var/lib/kubelet/config.yaml",
        &format!("--config={odd}"),
    );
    std::fs::write(kubelet.join("cmdline"), cmdline).unwrap();
    let name = "=HYPERLINK(\"http://evil.example\")";
    let scan = |format: &str| {
        let (code, out, err) = support::scan_fixture(
            &node,
            &[
                "--benchmark",
                "cis-1.8",
                "--node-name",
                name,
                "--check",
                "4.1.9,4.2.1",
                "--format",
                format,
            ],
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let csv = scan("csv");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    for row in rows.records() {
        let row = row.unwrap();
        assert_eq!(
            &row[5],
            format!("'{name}"),
            "the Nodes cell is text: {row:?}"
        );
    }
    let junit = scan("junit");
    roxmltree::Document::parse(&junit).expect("the JUnit file parses");
    let report: Report = serde_json::from_str(&scan("json")).unwrap();
    let remediation = &report.result("4.1.9").unwrap().remediation;
    assert!(
        remediation.contains("chmod 600 '/var/lib/kubelet/config\u{ffff}$(touch pwned).yaml'"),
        "{remediation}"
    );
}
