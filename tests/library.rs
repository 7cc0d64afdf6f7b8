//! The built-in bundles as the library serves them: each reads, Kubernetes
//! versions map to benchmarks, skip configs name real benchmarks.

use kubecis_engine::bundle::Library;
use kubecis_engine::node::discovery::NodeType;
use kubecis_engine::skipconfig::SkipConfig;
use std::path::Path;

fn library() -> Library {
    Library::load(&kubecis_builtin::BUILTINS, None).unwrap()
}

#[test]
fn every_built_in_bundle_reads() {
    let lib = library();
    let bundles = lib.bundles().unwrap();
    assert_eq!(bundles.len(), lib.names().count());
    for b in &bundles {
        // Managed-cloud benchmarks hold the worker's items and the provider's settings only.
        let least = if ["eks-", "gke-", "aks-"]
            .iter()
            .any(|p| b.benchmark.starts_with(p))
        {
            40
        } else {
            90
        };
        assert!(b.items().count() > least, "{}", b.benchmark);
    }
}

#[test]
fn kubernetes_versions_map_to_benchmarks() {
    let lib = library();
    let pick = |v: &str| {
        lib.for_kubernetes(v, "kubeadm")
            .map(|(b, w)| (b.benchmark.clone(), w.is_some()))
            .unwrap()
    };
    assert_eq!(pick("1.26.9"), ("cis-1.8".into(), false));
    assert_eq!(pick("v1.27.3"), ("cis-1.9".into(), false));
    assert_eq!(pick("1.28"), ("cis-1.10".into(), false));
    for v in ["1.29", "1.30.2", "1.31"] {
        assert_eq!(pick(v), ("cis-1.11".into(), false));
    }
    for v in ["1.32", "1.33.1", "1.34"] {
        assert_eq!(pick(v), ("cis-1.12".into(), false));
    }
    assert_eq!(pick("1.13.5"), ("cis-1.4".into(), false));
    // Every version kube-bench maps has a benchmark of its own (kube-bench's
    // version_mapping), with no warning.
    for (versions, benchmark) in [
        (&["1.15"][..], "cis-1.5"),
        (&["1.16", "1.17", "1.18.20"], "cis-1.6"),
        (&["1.19.16", "1.20", "1.21"], "cis-1.20"),
        (&["1.22", "1.23.17"], "cis-1.23"),
        (&["1.24"], "cis-1.24"),
        (&["1.25.16"], "cis-1.7"),
    ] {
        for v in versions {
            assert_eq!(pick(v), (benchmark.into(), false), "{v}");
        }
    }
    assert_eq!(
        pick("1.36.0"),
        ("cis-1.12".into(), true),
        "newer: the newest, with a warning"
    );
    assert_eq!(
        pick("1.14.10"),
        ("cis-1.5".into(), true),
        "between two benchmarks: the next newer one, with a warning"
    );
    let too_old = lib
        .for_kubernetes("1.12.3", "kubeadm")
        .unwrap_err()
        .to_string();
    assert!(
        too_old.contains("Kubernetes 1.12.3 is older than every benchmark")
            && too_old.contains("cis-1.4 (1.13)")
            && too_old.contains("cis-1.20 (1.19, 1.20, 1.21)"),
        "older than any: refused, with the list: {too_old}"
    );
    assert!(lib.for_kubernetes("latest", "kubeadm").is_err());
    let rke = |v: &str| lib.for_kubernetes(v, "rke").unwrap().0.benchmark.clone();
    assert_eq!(
        rke("1.15.12"),
        "rke-cis-1.4",
        "a distribution's own benchmark first"
    );
    assert_eq!(
        rke("1.20.15"),
        "cis-1.20",
        "no RKE benchmark for it: the generic one"
    );
    assert_eq!(rke("1.26.9"), "rke-cis-1.8");
    assert_eq!(
        rke("1.32.4"),
        "rke-cis-1.8",
        "Rancher's rke-cis-1.8 has no upper bound"
    );
    // Rancher's distribution benchmarks, by distribution first, then version.
    for distribution in ["k3s", "rke2"] {
        let pick = |v: &str| {
            lib.for_kubernetes(v, distribution)
                .map(|(b, w)| (b.benchmark.clone(), w.is_some()))
                .unwrap()
        };
        for (versions, suffix) in [
            (&["1.22.17", "1.23"][..], "1.23"),
            (&["1.24.4"], "1.24"),
            (&["1.25"], "1.7"),
            (&["1.26.15"], "1.8"),
            (&["1.27"], "1.9"),
            (&["1.28.10"], "1.10"),
            (&["1.29", "1.30.4", "1.31"], "1.11"),
            (&["1.32", "1.33.1", "1.34"], "1.12"),
        ] {
            for v in versions {
                let want = format!("{distribution}-cis-{suffix}");
                assert_eq!(pick(v), (want, false), "{distribution} {v}");
            }
        }
        assert_eq!(
            pick("1.36.0"),
            (format!("{distribution}-cis-1.12"), true),
            "newer than every {distribution} benchmark: its newest, with a warning"
        );
        assert_eq!(
            pick("1.21.14"),
            ("cis-1.20".into(), false),
            "older than every {distribution} benchmark: generic CIS"
        );
    }
}

/// Managed-cloud worker benchmarks are chosen where the node shows its
/// provider, and only there.
#[test]
fn managed_cloud_nodes_get_their_providers_benchmark() {
    let lib = library();
    for (provider, benchmark) in [
        ("eks", "eks-1.8.0"),
        ("gke", "gke-1.9.0"),
        ("aks", "aks-1.8"),
    ] {
        for v in ["1.27.16", "1.30.4", "1.34.0"] {
            let (bundle, warning) = lib.for_kubernetes(v, provider).unwrap();
            assert_eq!(bundle.benchmark, benchmark, "{provider} {v}");
            assert!(warning.is_none());
        }
        let bundle = lib.get(benchmark).unwrap();
        // The provider runs the control plane: no master or etcd items.
        assert!(
            bundle
                .sections
                .iter()
                .all(|s| !matches!(s.node_type, NodeType::Master | NodeType::Etcd)),
            "{benchmark}"
        );
        // Worker items are judged on the node, the provider's settings need its API.
        let checked = bundle.items().filter(|(_, _, i)| i.check.is_some()).count();
        assert!(checked >= 4, "{benchmark}: {checked}");
        assert_eq!(
            lib.for_kubernetes("1.30.4", "kubeadm").unwrap().0.benchmark,
            "cis-1.11"
        );
    }
}

/// Rancher's distribution benchmarks run with a profile even when none is
/// named: the permissive one where Rancher has two, else its only one.
#[test]
fn distribution_benchmarks_name_their_default_profile() {
    let lib = library();
    for name in lib.names().collect::<Vec<_>>() {
        let bundle = lib.get(name).unwrap();
        let distribution = ["k3s-", "rke2-", "rke-"]
            .iter()
            .any(|p| name.starts_with(p))
            && name != "rke-cis-1.4";
        let default = bundle.profile_for(None).unwrap().map(|p| p.name.clone());
        if !distribution {
            assert_eq!(default, None, "{name}");
            continue;
        }
        let names: Vec<&str> = bundle.profiles.iter().map(|p| p.name.as_str()).collect();
        let want = if names.len() == 2 {
            format!("{name}-permissive")
        } else {
            format!("{name}-profile")
        };
        assert_eq!(default.as_deref(), Some(want.as_str()), "{name}: {names:?}");
        // A profile named on the command line wins.
        if names.len() == 2 {
            let hardened = format!("{name}-hardened");
            assert_eq!(
                bundle.profile_for(Some(&hardened)).unwrap().unwrap().name,
                hardened
            );
        }
    }
}

#[test]
fn keys_must_name_benchmarks() {
    let library = library();
    let path = Path::new("skip.json");
    let typo = SkipConfig::parse(r#"{"skip": {"cis-18": ["1.1.1"]}}"#).unwrap();
    let e = typo.check_names(&library, path).unwrap_err().to_string();
    assert!(
        e.contains("skip.json")
            && e.contains("\"cis-18\" names no benchmark")
            && e.contains("cis-1.8"),
        "{e}"
    );
    let profile = SkipConfig::parse(r#"{"skip": {"rke-cis-1.4-permissive": ["1.1.1"]}}"#).unwrap();
    let e = profile.check_names(&library, path).unwrap_err().to_string();
    assert!(e.contains("a profile of rke-cis-1.4"), "{e}");
    let good = SkipConfig::parse(r#"{"skip": {"RKE-CIS-1.4": ["1.1.1"]}}"#).unwrap();
    good.check_names(&library, path).unwrap();
}

/// The built-in bundles are what `profiles/tools/regenerate.sh` makes from
/// the reference data beside the repository: nobody edited a generated file
/// by hand, and the importer's self-checks (variables, grants, advice that
/// names the distribution's own files) hold for every one.
#[test]
fn built_in_bundles_are_what_the_importer_makes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reference = repo.join("../shared/reference");
    assert!(
        reference.join("kube-bench").is_dir(),
        "{}: the reference data must be beside the repository",
        reference.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("profiles");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(repo.join("profiles"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::process::Command::new("sh")
        .arg(copy.join("tools/regenerate.sh"))
        .arg(&reference)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !stdout.contains("ERROR"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = std::process::Command::new("diff")
        .args(["-r", "-x", "__pycache__"])
        .arg(repo.join("profiles"))
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "regenerated bundles differ from profiles/:\n{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}
