//! `deploy/` as a cluster would take it: every manifest valid against the
//! Kubernetes schemas of 1.27 to 1.34, the pieces referring to each other,
//! and the containers run as processes exactly as the pod specs say (see
//! `pods`): `serve` with its volumes, an agent per node in the node's PID
//! namespace with the node's root at `/host`.

#[path = "deploy/kustomize.rs"]
mod kustomize;
#[path = "deploy/pods.rs"]
pub(crate) mod pods;

use kustomize::{Doc, find, render};
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Tokens for the Secret generator, as deploy/install.sh would write them.
pub(crate) fn tokens() -> Vec<(String, String)> {
    ["admin", "viewer", "agent"]
        .iter()
        .map(|role| {
            (
                format!("tokens/{role}"),
                format!("{role}-token-for-the-deploy-test"),
            )
        })
        .collect()
}

fn rendered() -> Vec<Doc> {
    let tokens = tokens();
    let mut docs = render(&deploy_dir(), &tokens);
    docs.extend(render(&deploy_dir().join("oneshot"), &tokens));
    docs
}

/// Whether a label selector's `matchLabels` selects these labels.
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_mapping().expect("matchLabels");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

const CRD_GROUP: &str = "monitoring.coreos.com/";

fn validate(file: &Path, version: &str) -> (bool, String) {
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--quiet", "-k", version])
        .arg(file)
        .output()
        .expect("running kubernetes-validate (PyPI; tests/run.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && !text.contains("ERROR"), text)
}

fn write_docs(path: &Path, docs: &[&Doc]) {
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_yaml_ng::to_string(&d.value).unwrap())
        .collect();
    std::fs::write(path, text.join("---\n")).unwrap();
}

#[test]
fn every_manifest_is_valid_kubernetes_from_1_27_to_1_34() {
    let docs = rendered();
    let core: Vec<&Doc> = docs
        .iter()
        .filter(|d| !d.api_version().starts_with(CRD_GROUP))
        .collect();
    let kinds: BTreeSet<&str> = core.iter().map(|d| d.kind()).collect();
    for kind in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
        "DaemonSet",
        "NetworkPolicy",
        "Job",
        "CronJob",
    ] {
        assert!(kinds.contains(kind), "no {kind} in deploy/: {kinds:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploy.yaml");
    write_docs(&file, &core);
    for minor in 27..=34 {
        let (ok, text) = validate(&file, &format!("1.{minor}.0"));
        assert!(ok, "deploy/ against Kubernetes 1.{minor}:\n{text}");
    }

    // The validator is strict: a misspelt field of the DaemonSet is caught.
    let mut daemonset = find(&docs, "DaemonSet", "kubecis-agent").clone();
    let spec = daemonset.value["spec"]["template"]["spec"]
        .as_mapping_mut()
        .unwrap();
    let host_pid = spec.remove("hostPID").unwrap();
    spec.insert("hostPid".into(), host_pid);
    let broken = dir.path().join("broken.yaml");
    write_docs(&broken, &[&daemonset]);
    let (ok, text) = validate(&broken, "1.34.0");
    assert!(!ok, "a misspelt hostPID passed:\n{text}");
    assert!(text.contains("hostPid"), "{text}");
}

#[test]
fn the_monitoring_objects_point_at_what_deploy_makes() {
    let docs = rendered();
    let monitoring = render(&deploy_dir().join("monitoring"), &[]);
    let monitor = find(&monitoring, "ServiceMonitor", "kubecis");
    let service = find(&docs, "Service", "kubecis");
    assert!(
        selects(
            &monitor.value["spec"]["selector"]["matchLabels"],
            &service.value["metadata"]["labels"]
        ),
        "the ServiceMonitor selects the Service"
    );
    let endpoint = &monitor.value["spec"]["endpoints"][0];
    let port_names: Vec<&Value> = service.value["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert!(port_names.contains(&&endpoint["port"]), "{endpoint:?}");
    assert_eq!(endpoint["path"], "/metrics");
    // /metrics takes a viewer's token: the scrape names one that exists.
    let secret = find(
        &docs,
        "Secret",
        endpoint["bearerTokenSecret"]["name"].as_str().unwrap(),
    );
    let key = endpoint["bearerTokenSecret"]["key"].as_str().unwrap();
    assert!(
        secret.value["data"].get(key).is_some(),
        "no {key} in the Secret"
    );
    let rule = find(&monitoring, "PrometheusRule", "kubecis");
    assert_eq!(rule.namespace(), service.namespace());
}

#[test]
fn the_manifests_fit_together() {
    let docs = rendered();
    // Every manifest under deploy/ is part of a kustomization.
    let mut listed = BTreeSet::new();
    for sub in ["", "oneshot", "monitoring"] {
        kustomize::files(&deploy_dir().join(sub), &mut listed);
    }
    let mut on_disk = BTreeSet::new();
    for sub in ["namespace", "base", "oneshot", "monitoring"] {
        for entry in std::fs::read_dir(deploy_dir().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if name.ends_with(".yaml") && name != "kustomization.yaml" && name != "serve.yaml" {
                on_disk.insert(path.canonicalize().unwrap());
            }
        }
    }
    let missing: Vec<_> = on_disk.difference(&listed).collect();
    assert!(missing.is_empty(), "in no kustomization: {missing:?}");

    let serve = find(&docs, "Deployment", "kubecis-serve");
    let agent = find(&docs, "DaemonSet", "kubecis-agent");
    for workload in [serve, agent] {
        let pod = &workload.value["spec"]["template"];
        assert!(
            selects(
                &workload.value["spec"]["selector"]["matchLabels"],
                &pod["metadata"]["labels"]
            ),
            "{} selects its own pods",
            workload.name()
        );
        let spec = &pod["spec"];
        find(
            &docs,
            "ServiceAccount",
            spec["serviceAccountName"].as_str().unwrap(),
        );
        for volume in spec["volumes"].as_sequence().unwrap() {
            if let Some(name) = volume["configMap"]["name"].as_str() {
                find(&docs, "ConfigMap", name);
            }
            if let Some(name) = volume["secret"]["secretName"].as_str() {
                let secret = find(&docs, "Secret", name);
                for item in volume["secret"]["items"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    let key = item["key"].as_str().unwrap();
                    assert!(
                        secret.value["data"].get(key).is_some(),
                        "no {key} in {name}"
                    );
                }
            }
            if let Some(name) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                find(&docs, "PersistentVolumeClaim", name);
            }
        }
        let image = spec["containers"][0]["image"].as_str().unwrap();
        assert_eq!(
            image, "kubecis:0.1.0",
            "the image of deploy/kustomization.yaml"
        );
    }

    // The agent: every node, the host read-only, hostPID, no API token, a
    // priority that gets it onto a full node, and only two capabilities.
    let spec = &agent.value["spec"]["template"]["spec"];
    assert_eq!(spec["hostPID"], true);
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["tolerations"][0]["operator"], "Exists");
    find(
        &docs,
        "PriorityClass",
        spec["priorityClassName"].as_str().unwrap(),
    );
    let container = &spec["containers"][0];
    let context = &container["securityContext"];
    assert_eq!(context["readOnlyRootFilesystem"], true);
    assert_eq!(context["allowPrivilegeEscalation"], false);
    assert_eq!(context["capabilities"]["drop"][0], "ALL");
    let host = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/host")
        .expect("the host at /host");
    assert_eq!(host["readOnly"], true);
    let host_volume = spec["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == host["name"])
        .unwrap();
    assert_eq!(host_volume["hostPath"]["path"], "/");

    // The agent finds serve through its Service, on the port serve listens on.
    let service = find(&docs, "Service", "kubecis");
    let server = pods::flag(container, "--server").expect("the agent's --server");
    let port = service.value["spec"]["ports"][0]["port"].as_u64().unwrap();
    assert_eq!(
        server,
        format!(
            "http://{}.{}.svc:{port}",
            service.name(),
            service.namespace()
        )
    );
    let serve_container = &serve.value["spec"]["template"]["spec"]["containers"][0];
    let container_port = pods::container_port(
        serve_container,
        &service.value["spec"]["ports"][0]["targetPort"],
    );
    let config = find(&docs, "ConfigMap", "kubecis-serve");
    let serve_yaml: Value =
        serde_yaml_ng::from_str(config.value["data"]["serve.yaml"].as_str().unwrap()).unwrap();
    let listen = serve_yaml["listen"].as_str().unwrap();
    assert!(
        listen.ends_with(&format!(":{container_port}")),
        "serve listens on {listen}, the Service sends to {container_port}"
    );
    let serve_pods = &serve.value["spec"]["template"]["metadata"]["labels"];
    assert!(
        selects(&service.value["spec"]["selector"], serve_pods),
        "the Service selects serve's pods"
    );

    // serve reads what cluster-level items need, and nothing it could change or leak.
    let role = find(&docs, "ClusterRole", "kubecis-serve-read");
    for rule in role.value["rules"].as_sequence().unwrap() {
        for verb in rule["verbs"].as_sequence().unwrap() {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str().unwrap()),
                "{rule:?}"
            );
        }
        for resource in rule["resources"].as_sequence().unwrap() {
            assert_ne!(resource, "secrets", "serve must not read Secrets");
        }
    }

    // Into serve: agents (and Prometheus' namespace), nothing else.
    let policy = find(&docs, "NetworkPolicy", "kubecis-serve");
    assert!(selects(
        &policy.value["spec"]["podSelector"]["matchLabels"],
        serve_pods
    ));
    let agent_pods = &agent.value["spec"]["template"]["metadata"]["labels"];
    assert!(selects(
        &policy.value["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"],
        agent_pods
    ));
    assert!(
        !selects(
            &policy.value["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"],
            serve_pods
        ),
        "the agents' rule is theirs alone"
    );
    let agent_policy = find(&docs, "NetworkPolicy", "kubecis-agent");
    assert!(selects(
        &agent_policy.value["spec"]["podSelector"]["matchLabels"],
        agent_pods
    ));
    assert!(
        agent_policy.value["spec"].get("ingress").is_none(),
        "nothing reaches an agent"
    );
    assert!(selects(
        &agent_policy.value["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"],
        serve_pods
    ));
}

/// The containers of the Deployment and the DaemonSet, run as the pod specs say.
#[test]
fn serve_and_agents_run_as_the_manifests_say() {
    let rootfs = pods::Rootfs::from_binary(Path::new(env!("CARGO_BIN_EXE_kubecis")));
    pods::run_cluster(&rendered(), &rootfs);
}

/// kube-bench's workflow: the Job prints a text report of its node, the
/// CronJob a JSON one, each run as its pod spec says.
#[test]
fn the_one_shot_scans_print_a_report_of_their_node() {
    let rootfs = pods::Rootfs::from_binary(Path::new(env!("CARGO_BIN_EXE_kubecis")));
    let docs = rendered();
    let (code, out, err) = pods::run_once(
        &docs,
        &rootfs,
        "Job",
        "kubecis-scan",
        "misconfigured-control-plane",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("node node-1"), "{out}");
    assert!(out.contains("[FAIL] 1.2.16"), "{out}");
    let (code, out, err) = pods::run_once(
        &docs,
        &rootfs,
        "CronJob",
        "kubecis-nightly-scan",
        "kubeadm-worker",
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    assert_eq!(report["node"]["name"], "node-1");
    assert_eq!(report["node"]["nodeTypes"], serde_json::json!(["node"]));
}

/// The image deploy/image/build.sh makes: static, every bundle inside, and
/// the same manifests run from its unpacked root.
#[test]
fn the_image_runs_the_manifests() {
    let archive = pods::image_archive();
    let rootfs = pods::Rootfs::from_oci_archive(&archive);
    let labels = &rootfs.config["config"]["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert!(labels["org.opencontainers.image.source"].is_string());
    // Nothing but the binary, its two account files and the cache's place.
    let mut files = Vec::new();
    pods::walk(&rootfs.dir, &rootfs.dir, &mut files);
    assert_eq!(
        files,
        ["etc/group", "etc/passwd", "kubecis", "var/cache/kubecis/"],
        "the image's files"
    );
    let binary = rootfs.dir.join("kubecis");
    let elf = Command::new("readelf")
        .arg("-lW")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&elf.stdout).contains("INTERP"),
        "the image's kubecis asks for a dynamic loader"
    );
    println!(
        "image: kubecis {:.1} MiB, archive {:.1} MiB",
        std::fs::metadata(&binary).unwrap().len() as f64 / (1 << 20) as f64,
        std::fs::metadata(&archive).unwrap().len() as f64 / (1 << 20) as f64
    );
    // Every built-in bundle is in it: the same list as this build's.
    let list = |bin: &Path| {
        let out = Command::new(bin).arg("benchmarks").output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        list(&binary),
        list(Path::new(env!("CARGO_BIN_EXE_kubecis")))
    );
    let docs = rendered();
    pods::run_cluster(&docs, &rootfs);
    let (code, out, err) = pods::run_once(
        &docs,
        &rootfs,
        "Job",
        "kubecis-scan",
        "misconfigured-control-plane",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[FAIL] 1.2.16"), "{out}");
}
