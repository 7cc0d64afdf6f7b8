//! The example checks of checks/README.md, in Rust, Python and JavaScript,
//! built by checks/examples/build.sh as a newcomer builds them, packed,
//! signed and run: on fixtures, under a memory grant, in `serve` on a local
//! node and through an agent. And the WIT contract's versions: a component
//! built against kubecis:check@1.0.0 runs on this host; one built against a
//! newer contract is refused with both versions named.

use crate::server::{Agents, Server, VIEWER};
use crate::support::{Materialised, kubecis, kubecis_in, scan_fixture, stderr, write_bundle};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The example bundle directory, built once for every test here.
fn built() -> &'static Path {
    static BUILT: OnceLock<tempfile::TempDir> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../checks/examples/build.sh");
            let out = Command::new("bash")
                .arg(script)
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "build.sh: {}", stderr(&out));
            dir
        })
        .path()
}

fn example_bundle() -> PathBuf {
    built().join("org-node-rules")
}

/// `org.kcb`, the example bundle packed and signed with `ops.key`, in a
/// work directory that also holds `other.pub`.
fn signed_package() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bundle = example_bundle();
    for args in [
        vec!["bundle", "keygen", "ops"],
        vec!["bundle", "keygen", "other"],
        vec!["bundle", "pack", bundle.to_str().unwrap(), "-o", "org.kcb"],
        vec!["bundle", "sign", "org.kcb", "--key", "ops.key"],
    ] {
        let out = kubecis_in(dir.path(), &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    dir
}

/// Every result of a JSON report by item id.
fn results(report: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut found = Vec::new();
    fn walk(v: &serde_json::Value, found: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(map) => {
                if let (Some(id), Some(_)) = (map.get("id"), map.get("state")) {
                    found.push((id.as_str().unwrap_or_default().to_owned(), v.clone()));
                }
                map.values().for_each(|v| walk(v, found));
            }
            serde_json::Value::Array(list) => list.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    walk(report, &mut found);
    found
}

fn state_of<'a>(results: &'a [(String, serde_json::Value)], id: &str) -> &'a serde_json::Value {
    &results
        .iter()
        .find(|(i, _)| i == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
        .1
}

#[test]
fn the_three_language_examples_pass_and_fail_on_fixtures_as_designed() {
    let work = signed_package();
    // 90.1.1 kubeconfig-perms (Python), 90.1.2 kubelet-ciphers (JavaScript),
    // 90.1.3 static-pod-limits (Rust).
    let cases = [
        ("insecure-control-plane", ["fail", "fail", "fail"]),
        ("hardened-control-plane", ["pass", "pass", "pass"]),
        ("k3s-server", ["fail", "fail", "notApplicable"]),
        ("kubeadm-worker", ["pass", "fail", "notApplicable"]),
    ];
    for (fixture, expected) in cases {
        let node = Materialised::new(fixture);
        if fixture == "k3s-server" {
            // As `write-kubeconfig-mode: "0644"` leaves it.
            let admin = node.root().join("etc/rancher/k3s/k3s.yaml");
            std::fs::set_permissions(&admin, std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .unwrap();
        }
        // One compile cache for every fixture: the interpreters compile once.
        let (root, cache) = (node.root().display().to_string(), work.path().join("cache"));
        let cache = cache.to_str().unwrap();
        let out = kubecis_in(
            work.path(),
            &[
                "scan",
                "--root",
                &root,
                "--cache-dir",
                cache,
                "--benchmark",
                "org-node-rules",
                "--bundle",
                "org.kcb",
                "--trust-key",
                "ops.pub",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{fixture}: {e}: {}", stderr(&out)));
        let results = results(&report);
        for (id, want) in ["90.1.1", "90.1.2", "90.1.3"].iter().zip(expected) {
            let r = state_of(&results, id);
            assert_eq!(r["state"], want, "{fixture} {id}: {r}");
        }
        let text = report.to_string();
        assert!(text.contains("org-node-rules"), "{fixture}");
        match fixture {
            "insecure-control-plane" => {
                let r = state_of(&results, "90.1.2");
                assert!(
                    r["actual"]
                        .as_str()
                        .unwrap()
                        .contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
                    "{r}"
                );
                let r = state_of(&results, "90.1.1");
                assert!(
                    r["actual"]
                        .as_str()
                        .unwrap()
                        .contains("/etc/kubernetes/kubelet.conf (0666)"),
                    "{r}"
                );
            }
            "k3s-server" => {
                let r = state_of(&results, "90.1.1");
                assert!(
                    r["actual"]
                        .as_str()
                        .unwrap()
                        .contains("/etc/rancher/k3s/k3s.yaml (0644)"),
                    "{r}"
                );
                // The Python check asked the host which distribution this is (contract 1.1.0).
                assert!(
                    r["reason"]
                        .as_str()
                        .unwrap()
                        .contains("k3s rewrites /etc/rancher/k3s/k3s.yaml at start"),
                    "{r}"
                );
                let r = state_of(&results, "90.1.2");
                assert_eq!(r["actual"], "unset", "{r}");
            }
            "hardened-control-plane" => {
                let r = state_of(&results, "90.1.3");
                assert_eq!(r["actual"], "4 containers set them", "{r}");
            }
            _ => {}
        }
    }
}

#[test]
fn inspect_names_each_example_component_and_the_contract_it_was_built_against() {
    let out = kubecis(&["bundle", "inspect", example_bundle().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    for name in ["kubeconfig-perms", "kubelet-ciphers", "static-pod-limits"] {
        let line = shown
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(
            line.contains("shipped in the bundle; built against kubecis:check@1.1.0"),
            "{line}"
        );
    }
    assert!(
        shown.contains("may read: arguments of the processes of kubelet"),
        "{shown}"
    );
}

#[test]
fn a_memory_grant_lifts_the_cap_for_its_item_alone() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("org-node-rules");
    std::fs::create_dir_all(bundle.join("components")).unwrap();
    for file in [
        "bundle.yaml",
        "components/kubeconfig-perms.wasm",
        "components/kubelet-ciphers.wasm",
        "components/static-pod-limits.wasm",
    ] {
        std::fs::copy(example_bundle().join(file), bundle.join(file)).unwrap();
    }
    let section = std::fs::read_to_string(example_bundle().join("node.yaml")).unwrap();
    let granted = section.replacen(
        "        grants:\n          metadata:\n",
        "        grants:\n          memory_mib: 24\n          metadata:\n",
        1,
    );
    assert_ne!(granted, section);
    std::fs::write(bundle.join("node.yaml"), &granted).unwrap();

    // The operator's cap of 8 MiB is too small for an interpreter.
    let node = Materialised::new("insecure-control-plane");
    let (code, stdout, err) = scan_fixture(
        &node,
        &[
            "--bundle-dir",
            dir.path().to_str().unwrap(),
            "--benchmark",
            "org-node-rules",
            "--check-memory-mib",
            "8",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results = results(&report);
    let python = state_of(&results, "90.1.1");
    assert_eq!(
        python["state"], "fail",
        "the grant lets the Python check run: {python}"
    );
    let javascript = state_of(&results, "90.1.2");
    assert_eq!(javascript["state"], "error", "{javascript}");
    assert!(
        javascript["reason"]
            .as_str()
            .unwrap()
            .contains("memory cap of 8 MiB"),
        "{javascript}"
    );

    // The grant is shown to the operator before anything runs.
    let out = kubecis(&["bundle", "inspect", bundle.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("may use: up to 24 MiB of memory"), "{shown}");

    // A grant past the ceiling is refused when the bundle loads.
    std::fs::write(
        bundle.join("node.yaml"),
        granted.replace("memory_mib: 24", "memory_mib: 4096"),
    )
    .unwrap();
    let (code, _, err) = scan_fixture(
        &node,
        &[
            "--bundle-dir",
            dir.path().to_str().unwrap(),
            "--benchmark",
            "org-node-rules",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("node.yaml: item 90.1.1: memory_mib 4096 is outside 1 to 512"),
        "{err}"
    );
}

#[test]
fn serve_runs_a_signed_package_on_its_local_nodes_and_through_agents() {
    let work = signed_package();
    let hardened = Materialised::new("hardened-control-plane");
    let server = Server::start(
        work.path(),
        &format!(
            "bundles:\n  packages: [org.kcb]\n  trustKeys: [ops.pub]\nlocalNodes:\n  - {{name: cp-2, root: {}}}\nscans:\n  - {{name: org, benchmark: org-node-rules, deadline: 120s}}\n",
            hardened.root().display()
        ),
    );
    let insecure = Materialised::new("insecure-control-plane");
    let agent = server
        .agent_command(&insecure, "cp-4")
        .env("KUBECIS_STATE_DIR", work.path().join("agent-state"))
        .args(["--bundle", "org.kcb", "--trust-key", "ops.pub"])
        .current_dir(work.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _agents = Agents(vec![agent]);
    server.wait_for_agents(&["cp-2", "cp-4"]);
    let job = server.run("org");
    let finished = server.finished(job, std::time::Duration::from_secs(120));
    assert_eq!(finished["state"], "completed", "{finished}");
    for (node, want) in [("cp-2", "pass"), ("cp-4", "fail")] {
        let (status, body) = server.request(
            "GET",
            &format!("/api/v1/reports/{job}/nodes/{node}"),
            Some(VIEWER),
            b"",
        );
        assert_eq!(status, 200, "{body}");
        let report: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        let results = results(&report);
        for id in ["90.1.1", "90.1.2", "90.1.3"] {
            assert_eq!(state_of(&results, id)["state"], want, "{node} {id}");
        }
        assert!(
            body.contains("ops.pub"),
            "{node}: the report names the signer: {body}"
        );
    }
}

#[test]
fn serve_refuses_a_package_no_trusted_key_signed() {
    let work = signed_package();
    std::fs::write(work.path().join("admin.token"), crate::server::ADMIN).unwrap();
    std::fs::write(
        work.path().join("serve.yaml"),
        "listen: 127.0.0.1:0\ndataDir: data\ntokens:\n  - {name: admin, role: admin, tokenFile: admin.token}\nbundles:\n  packages: [org.kcb]\n  trustKeys: [other.pub]\nscans:\n  - {name: org, benchmark: org-node-rules}\n",
    )
    .unwrap();
    let out = kubecis_in(work.path(), &["serve", "--config", "serve.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("serve.yaml: bundles") && err.contains("org.kcb"),
        "{err}"
    );
    assert!(!work.path().join("data").exists(), "nothing was started");
}

/// The legacy component's import, and the same import of a contract this host does not serve.
const V1_0: &[u8] = b"kubecis:check/node@1.0.0";
const V1_9: &[u8] = b"kubecis:check/node@1.9.0";

fn legacy_bundle(dir: &Path, wasm: &[u8]) {
    write_bundle(
        dir,
        "legacy",
        "node",
        "- id: \"9.1.1\"\n  title: A check built against contract 1.0.0\n  automated: true\n  scored: true\n  check: legacy\n  grants: {processes: [kubelet]}\n  remediation: none\n",
    );
    std::fs::write(dir.join("legacy/components/legacy.wasm"), wasm).unwrap();
}

#[test]
fn a_component_built_against_contract_1_0_0_runs_and_a_newer_one_is_refused() {
    let wasm = std::fs::read(crate::support::built_component("check-legacy-1-0")).unwrap();
    let at = wasm.windows(V1_0.len()).position(|w| w == V1_0);
    assert!(
        at.is_some(),
        "the legacy component imports kubecis:check/node@1.0.0"
    );

    let dir = tempfile::tempdir().unwrap();
    legacy_bundle(dir.path(), &wasm);
    let node = Materialised::new("kubeadm-worker");
    let bundles = dir.path().to_str().unwrap();
    let (code, stdout, err) = scan_fixture(
        &node,
        &[
            "--bundle-dir",
            bundles,
            "--benchmark",
            "legacy",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let r = results(&report);
    let r = state_of(&r, "9.1.1");
    assert_eq!(r["state"], "pass", "{r}");
    assert!(
        r["actual"].as_str().unwrap().starts_with("kubelet pid "),
        "{r}"
    );
    let out = kubecis(&["bundle", "inspect", &format!("{bundles}/legacy")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("built against kubecis:check@1.0.0"));

    // The same component, as if built against a contract newer than this host's.
    let mut newer = wasm.clone();
    let at = at.unwrap();
    newer[at..at + V1_9.len()].copy_from_slice(V1_9);
    legacy_bundle(dir.path(), &newer);
    let (code, stdout, err) =
        scan_fixture(&node, &["--bundle-dir", bundles, "--benchmark", "legacy"]);
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty(), "no report: {stdout}");
    assert!(
        err.contains("\"legacy\"")
            && err.contains("built against kubecis:check@1.9.0")
            && err.contains("serves kubecis:check@1.1.0"),
        "{err}"
    );
}
