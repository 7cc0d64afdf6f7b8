//! Rancher's distribution benchmarks (k3s-cis, rke2-cis, rke-cis 1.7 and
//! later): one bundle per family, one profile per variant Rancher ships, each
//! skipping exactly what Rancher's files skip, with a reason; and the advice
//! they give names the distribution's own files.

use crate::support;

use kubecis_engine::bundle::Library;
use kubecis_model::report::{Report, State};
use std::collections::BTreeSet;
use support::{Materialised, kubecis, stderr};

/// Items each of Rancher's distribution benchmarks marks `type: skip`, by the
/// profile kubecis makes of it (rancher-security-scan, as shipped).
const RANCHER_SKIPS: [(&str, &[&str]); 32] = [
    (
        "k3s-cis-1.10-profile",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "k3s-cis-1.11-profile",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "k3s-cis-1.12-profile",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "k3s-cis-1.23-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.12", "1.1.13", "1.2.4", "1.3.6", "4.1.1", "4.1.2", "4.1.9", "4.1.10",
            "4.2.8", "4.2.12",
        ],
    ),
    (
        "k3s-cis-1.23-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.12", "1.1.13", "1.2.4", "1.2.19", "1.2.20", "1.2.21", "1.2.22",
            "1.2.23", "1.2.25", "1.3.6", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.7",
            "4.2.8", "4.2.11", "4.2.12",
        ],
    ),
    (
        "k3s-cis-1.24-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.12", "1.1.13", "1.2.4", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.8",
        ],
    ),
    (
        "k3s-cis-1.24-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.12", "1.1.13", "1.2.4", "1.2.19", "1.2.20", "1.2.21", "1.2.22",
            "1.2.23", "1.2.25", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.7", "4.2.8",
        ],
    ),
    (
        "k3s-cis-1.7-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "1.2.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "k3s-cis-1.7-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "1.1.13", "1.2.12", "1.2.18", "1.2.19", "1.2.20", "1.2.21", "1.2.24", "1.2.29",
            "1.2.30", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.7", "4.2.9", "5.1.5",
            "5.2.3", "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "k3s-cis-1.8-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "1.2.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "k3s-cis-1.8-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "1.1.13", "1.2.12", "1.2.18", "1.2.19", "1.2.20", "1.2.23", "1.2.28", "1.2.29",
            "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.7", "4.2.9", "5.1.5", "5.2.3",
            "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "k3s-cis-1.9-profile",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.12",
            "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "rke-cis-1.23-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.3.6", "1.1.12", "4.1.1", "4.1.2",
            "4.1.9", "4.1.10", "4.2.8", "4.2.12",
        ],
    ),
    (
        "rke-cis-1.23-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.6", "1.2.30", "1.2.31", "1.3.6",
            "1.1.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.8", "4.2.10", "4.2.12",
            "5.1.5", "5.2.3", "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "rke-cis-1.24-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.3.6", "1.1.12", "4.1.1", "4.1.2",
            "4.1.9", "4.1.10", "4.2.8", "4.2.12",
        ],
    ),
    (
        "rke-cis-1.24-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.6", "1.2.30", "1.2.31", "1.3.6",
            "1.1.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.6", "4.2.8", "4.2.10", "4.2.12",
            "5.1.5", "5.2.3", "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "rke-cis-1.7-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.5", "1.3.6", "4.1.1", "4.1.2",
            "4.1.9", "4.1.10", "4.2.7", "4.2.11", "5.7.4",
        ],
    ),
    (
        "rke-cis-1.7-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.5", "1.2.12", "1.2.29",
            "1.2.30", "1.3.6", "1.1.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7", "4.2.9",
            "4.2.11", "5.1.5", "5.2.3", "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "rke-cis-1.8-hardened",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.5", "1.3.6", "4.1.1", "4.1.2",
            "4.1.9", "4.1.10", "4.2.7", "4.2.11", "5.7.4",
        ],
    ),
    (
        "rke-cis-1.8-permissive",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.13",
            "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.5", "1.2.12", "1.2.28",
            "1.2.29", "1.3.6", "1.1.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7", "4.2.9",
            "4.2.11", "5.1.5", "5.2.3", "5.2.4", "5.2.5", "5.3.2", "5.7.4",
        ],
    ),
    (
        "rke2-cis-1.10-profile",
        &["4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
    (
        "rke2-cis-1.11-profile",
        &["4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
    (
        "rke2-cis-1.12-profile",
        &["4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
    (
        "rke2-cis-1.23-hardened",
        &[
            "1.3.6", "2.1", "2.2", "2.4", "2.5", "4.1.1", "4.1.2", "4.2.8",
        ],
    ),
    (
        "rke2-cis-1.23-permissive",
        &[
            "1.1.12", "1.2.31", "1.3.6", "2.1", "2.2", "2.4", "2.5", "3.2.1", "4.1.1", "4.1.2",
            "4.2.8",
        ],
    ),
    (
        "rke2-cis-1.24-hardened",
        &["4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.8"],
    ),
    (
        "rke2-cis-1.24-permissive",
        &[
            "1.1.12", "1.2.31", "3.2.1", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.8",
        ],
    ),
    (
        "rke2-cis-1.7-hardened",
        &["1.2.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
    (
        "rke2-cis-1.7-permissive",
        &[
            "1.1.12", "1.2.12", "1.2.30", "3.2.1", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "rke2-cis-1.8-hardened",
        &["1.2.12", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
    (
        "rke2-cis-1.8-permissive",
        &[
            "1.1.12", "1.2.12", "1.2.29", "3.2.1", "4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7",
        ],
    ),
    (
        "rke2-cis-1.9-profile",
        &["4.1.1", "4.1.2", "4.1.9", "4.1.10", "4.2.7"],
    ),
];

fn library() -> Library {
    Library::load(&kubecis_builtin::BUILTINS, None).unwrap()
}

#[test]
fn every_rancher_variant_is_a_profile_that_skips_exactly_its_items() {
    let lib = library();
    for (profile, ids) in RANCHER_SKIPS {
        let benchmark = profile
            .trim_end_matches("-hardened")
            .trim_end_matches("-permissive")
            .trim_end_matches("-profile");
        let bundle = lib.get(benchmark).unwrap();
        let p = bundle.profile(profile).unwrap();
        let ours: BTreeSet<&str> = p
            .skip
            .keys()
            .chain(p.not_applicable.keys())
            .map(String::as_str)
            .collect();
        // rke2-cis-1.23/1.24 hardened call CIS's 1.2.31 "1.2.33"; kubecis uses CIS's id.
        let theirs: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ours, theirs, "{profile}");
        for (id, why) in p.skip.iter().chain(&p.not_applicable) {
            assert!(why.len() > 40, "{profile} {id}: {why:?}");
        }
    }
    // Every distribution bundle is covered by the table.
    let covered: BTreeSet<&str> = RANCHER_SKIPS
        .iter()
        .map(|(p, _)| p.rsplit_once('-').unwrap().0)
        .collect();
    for name in lib.names() {
        if ["k3s-", "rke2-", "rke-"]
            .iter()
            .any(|p| name.starts_with(p))
            && name != "rke-cis-1.4"
        {
            assert!(covered.contains(name), "{name} has no row");
        }
    }
}

/// Advice in a distribution bundle never sends its user to a file that
/// distribution does not use.
#[test]
fn remediation_names_the_distributions_own_files() {
    let lib = library();
    for name in lib.names() {
        let Some(flavor) = ["k3s", "rke2", "rke"]
            .into_iter()
            .find(|f| name.starts_with(&format!("{f}-cis-")) && name != "rke-cis-1.4")
        else {
            continue;
        };
        let bundle = lib.get(name).unwrap();
        for (_, _, item) in bundle.items() {
            let text = &item.remediation;
            let file_check = item.check.as_deref() == Some("file");
            for word in ["/etc/kubernetes/manifests", "daemon-reload", "kubeadm"] {
                assert!(!text.contains(word), "{name} {}: {word} in {text}", item.id);
            }
            if !file_check {
                for var in ["${apiserver.conf}", "${kubelet.svc}", "${scheduler.conf}"] {
                    assert!(!text.contains(var), "{name} {}: {var} in {text}", item.id);
                }
            }
            let flag_check = item.check.as_deref() == Some("flag");
            match flavor {
                "k3s" if flag_check => assert!(
                    text.contains("/etc/rancher/k3s/config.yaml") && text.contains("-arg"),
                    "{name} {}: {text}",
                    item.id
                ),
                "rke2" if flag_check => assert!(
                    text.contains("/etc/rancher/rke2/config.yaml") && text.contains("-arg"),
                    "{name} {}: {text}",
                    item.id
                ),
                "rke" if flag_check => assert!(
                    text.contains("cluster.yml") || text.contains("rke "),
                    "{name} {}: {text}",
                    item.id
                ),
                _ => {}
            }
        }
    }
}

fn scan(node: &Materialised, extra: &[&str]) -> Report {
    let (root, cache) = node.root_and_cache();
    let mut args = vec![
        "scan",
        "--root",
        &root,
        "--cache-dir",
        &cache,
        "--format",
        "json",
    ];
    args.extend(extra);
    let out = kubecis(&args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids_in(report: &Report, state: State) -> BTreeSet<String> {
    report
        .results
        .iter()
        .filter(|r| r.state == state)
        .filter(|r| {
            r.reason.starts_with("profile ")
                || r.skipped_by
                    .as_deref()
                    .is_some_and(|b| b.starts_with("profile "))
        })
        .map(|r| r.id.clone())
        .collect()
}

/// On a k3s node, `auto` picks Rancher's k3s benchmark with its default
/// profile and says so; the hardened profile judges what permissive skips.
#[test]
fn auto_on_k3s_picks_rancher_k3s_benchmark_and_its_profiles_differ() {
    let node = Materialised::new("k3s-server");
    let report = scan(&node, &[]);
    assert_eq!(report.benchmark, "k3s-cis-1.10");
    assert_eq!(report.profile.as_deref(), Some("k3s-cis-1.10-profile"));
    assert!(
        report.benchmark_from.contains("k3s") && report.benchmark_from.contains("1.28.10"),
        "{}",
        report.benchmark_from
    );
    // The apiserver's flags are judged from k3s's log, advice is k3s's config.yaml.
    let anonymous = report.result("1.2.1").unwrap();
    assert_eq!(anonymous.state, State::Pass, "{anonymous:?}");
    assert!(
        anonymous
            .remediation
            .contains("/etc/rancher/k3s/config.yaml")
    );

    let permissive = scan(&node, &["--benchmark", "k3s-cis-1.8"]);
    assert_eq!(
        permissive.profile.as_deref(),
        Some("k3s-cis-1.8-permissive")
    );
    let hardened = scan(
        &node,
        &[
            "--benchmark",
            "k3s-cis-1.8",
            "--profile",
            "k3s-cis-1.8-hardened",
        ],
    );
    let skipped_only_by_permissive: BTreeSet<String> = ids_in(&permissive, State::Skip)
        .difference(&ids_in(&hardened, State::Skip))
        .cloned()
        .collect();
    assert!(
        skipped_only_by_permissive.contains("1.2.18"),
        "{skipped_only_by_permissive:?}"
    );
    for id in &skipped_only_by_permissive {
        let state = hardened.result(id).unwrap().state;
        assert!(
            !matches!(state, State::Skip | State::NotApplicable),
            "hardened judges {id}: {state:?}"
        );
    }
    // This node writes no audit log: the hardened profile says so (a Manual item warns).
    let maxage = hardened.result("1.2.18").unwrap();
    assert_eq!(maxage.state, State::Warn);
    assert!(maxage.actual.contains("not set"), "{maxage:?}");
    assert_eq!(
        ids_in(&permissive, State::NotApplicable),
        ids_in(&hardened, State::NotApplicable),
        "both variants agree on what k3s does not have"
    );
}

/// An EKS-optimized worker as its AMI sets it up: the kubelet's settings in
/// /etc/kubernetes/kubelet/kubelet-config.json, flags written with a space.
fn eks_worker(anonymous: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str, mode: u32| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let kubelet = [
        "/usr/bin/kubelet",
        "--config",
        "/etc/kubernetes/kubelet/kubelet-config.json",
        "--kubeconfig",
        "/var/lib/kubelet/kubeconfig",
        "--container-runtime-endpoint",
        "unix:///run/containerd/containerd.sock",
        "--image-credential-provider-config",
        "/etc/eks/image-credential-provider/config.json",
        "--image-credential-provider-bin-dir",
        "/etc/eks/image-credential-provider",
        "--node-ip=10.0.1.23",
        "--hostname-override=ip-10-0-1-23.ec2.internal",
        "--cloud-provider=external",
        "--node-labels=eks.amazonaws.com/nodegroup=ng-1,eks.amazonaws.com/capacityType=ON_DEMAND",
        "--v=2",
    ];
    write("proc/3100/cmdline", &(kubelet.join("\0") + "\0"), 0o644);
    write(
        "etc/kubernetes/kubelet/kubelet-config.json",
        &format!(
            r#"{{"kind":"KubeletConfiguration","apiVersion":"kubelet.config.k8s.io/v1beta1",
"address":"0.0.0.0","authentication":{{"anonymous":{{"enabled":{anonymous}}},
"webhook":{{"cacheTTL":"2m0s","enabled":true}},"x509":{{"clientCAFile":"/etc/kubernetes/pki/ca.crt"}}}},
"authorization":{{"mode":"Webhook","webhook":{{"cacheAuthorizedTTL":"5m0s","cacheUnauthorizedTTL":"30s"}}}},
"clusterDomain":"cluster.local","hairpinMode":"hairpin-veth","readOnlyPort":0,"cgroupDriver":"systemd",
"cgroupRoot":"/","featureGates":{{"RotateKubeletServerCertificate":true}},"protectKernelDefaults":true,
"serializeImagePulls":false,"serverTLSBootstrap":true}}"#
        ),
        0o644,
    );
    write(
        "var/lib/kubelet/kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n    server: https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com\n  name: kubernetes\n",
        0o600,
    );
    write(
        "etc/kubernetes/pki/ca.crt",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        0o644,
    );
    write(
        "etc/eks/release",
        "BASE_AMI_ID=\"ami-0a1b2c3d4e5f67890\"\nARCH=\"x86_64\"\n",
        0o644,
    );
    write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644);
    write("etc/group", "root:x:0:\n", 0o644);
    tmp
}

#[test]
fn an_eks_worker_gets_the_eks_benchmark_and_its_kubelet_is_judged() {
    let cache = tempfile::tempdir().unwrap();
    let run = |anonymous: bool| -> Report {
        let node = eks_worker(anonymous);
        let out = kubecis(&[
            "scan",
            "--root",
            &node.path().display().to_string(),
            "--cache-dir",
            &cache.path().display().to_string(),
            "--k8s-version",
            "1.30.4",
            "--format",
            "json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let report = run(false);
    assert_eq!(report.benchmark, "eks-1.8.0");
    assert_eq!(report.node.distribution, "eks");
    assert!(
        report.benchmark_from.contains("the benchmark for eks"),
        "{}",
        report.benchmark_from
    );
    for (id, state) in [
        ("3.1.1", State::Pass), // kubeconfig 0600
        ("3.1.3", State::Pass), // kubelet-config.json 0644
        ("3.2.1", State::Pass), // anonymous off in the config file
        ("3.2.4", State::Pass), // readOnlyPort 0
        ("3.2.9", State::Pass), // the gate is on
    ] {
        let r = report.result(id).unwrap();
        assert_eq!(r.state, state, "{id}: {r:?}");
    }
    // The provider's settings are cluster-wide: not judged on a worker.
    let provider = report.result("5.1.1").unwrap();
    assert_eq!(provider.state, State::NotApplicable, "{provider:?}");
    assert_eq!(run(true).result("3.2.1").unwrap().state, State::Fail);
}

/// Generic CIS chosen by hand on a k3s or RKE node still gives the advice of
/// that distribution; on kubeadm, kubeadm's.
#[test]
fn generic_cis_on_k3s_and_rke_advises_their_own_files() {
    for (fixture, benchmark, own, foreign) in [
        (
            "k3s-server",
            "cis-1.10",
            "/etc/rancher/k3s/config.yaml",
            "/etc/kubernetes/manifests",
        ),
        (
            "rke-node",
            "cis-1.5",
            "cluster.yml",
            "/etc/kubernetes/manifests",
        ),
        (
            "kubeadm-control-plane",
            "cis-1.8",
            "/etc/kubernetes/manifests",
            "/etc/rancher",
        ),
    ] {
        let node = Materialised::new(fixture);
        let report = scan(&node, &["--benchmark", benchmark, "--k8s-version", "1.26"]);
        let anonymous = report.result("1.2.1").unwrap();
        assert!(
            anonymous.remediation.contains(own),
            "{fixture}: {}",
            anonymous.remediation
        );
        for r in &report.results {
            let unless_present = r.remediation.contains("Only if such a file exists");
            assert!(
                !r.remediation.contains(foreign) || unless_present,
                "{fixture} {}: {}",
                r.id,
                r.remediation
            );
        }
    }
}
