//! The Kubernetes version a node runs, and where it was read. On a live node
//! the running binary says it (`kubelet --version`); a node root shows it in
//! what the distribution leaves on disk: static pod image tags (kubeadm,
//! RKE2), k3s's start-up log line, RKE's docker container configs, or the
//! kubelet's Debian package.

use super::Discovery;
use super::command::run_bounded;
use crate::node::{Node, NodePath, Source};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a component's `--version` may take before it is given up on.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// `--version` prints a line; anything longer is not a version banner.
const PROBE_OUTPUT_LIMIT: u64 = 4096;

/// A version and where it was read.
type Found = Option<(String, String)>;

/// The Kubernetes version: the running binary's answer, asked in the
/// background while the scan goes on (a Go binary takes a while to start),
/// else what the node shows on disk.
#[derive(Clone, Default)]
pub struct KubernetesVersion {
    probe: Arc<Mutex<Probe>>,
    on_disk: Found,
}

#[derive(Default)]
enum Probe {
    #[default]
    None,
    Running(std::thread::JoinHandle<Found>),
    Done(Found),
}

impl std::fmt::Debug for KubernetesVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KubernetesVersion { .. }")
    }
}

impl KubernetesVersion {
    /// The version and its source, waiting for the running binary's answer
    /// the first time (at most [`PROBE_TIMEOUT`] per binary).
    pub fn get(&self) -> Found {
        self.answer(true)
    }

    /// The version as known now, without waiting: the running binary's
    /// answer if it came, else what the node shows on disk.
    pub fn settled(&self) -> Found {
        self.answer(false)
    }

    fn answer(&self, wait: bool) -> Found {
        let mut probe = if wait {
            self.probe.lock().unwrap_or_else(|p| p.into_inner())
        } else {
            match self.probe.try_lock() {
                Ok(probe) => probe,
                Err(_) => return self.on_disk.clone(),
            }
        };
        if wait || matches!(&*probe, Probe::Running(h) if h.is_finished()) {
            *probe = match std::mem::take(&mut *probe) {
                Probe::Running(handle) => Probe::Done(handle.join().unwrap_or(None)),
                settled => settled,
            };
        }
        match &*probe {
            Probe::Done(Some(found)) => Some(found.clone()),
            _ => self.on_disk.clone(),
        }
    }
}

impl Discovery {
    /// Every source that names a version, in order of trust: the running
    /// binaries (started now, answered later), then what is on disk.
    pub(super) fn find_kubernetes_version(&self, node: &Node) -> KubernetesVersion {
        let on_disk = self
            .version_of_static_pods(node)
            .or_else(|| self.k3s_version.clone())
            .or_else(|| from_docker_containers(node))
            .or_else(|| self.version_of_rke2_data_dir(node))
            .or_else(|| from_dpkg(node));
        let binaries = self.running_binaries(node);
        let probe = if binaries.is_empty() {
            Probe::None
        } else {
            let asked = binaries.clone();
            match std::thread::Builder::new()
                .name("kubecis-version".into())
                .spawn(move || version_of_running_binaries(&asked))
            {
                Ok(handle) => Probe::Running(handle),
                Err(_) => Probe::Done(version_of_running_binaries(&binaries)),
            }
        };
        KubernetesVersion {
            probe: Arc::new(Mutex::new(probe)),
            on_disk,
        }
    }

    /// `/proc/<pid>/exe` of the running API server, then the kubelet, with
    /// their binary names. Only on the live node: a node root's binaries are not run.
    fn running_binaries(&self, node: &Node) -> Vec<(PathBuf, String)> {
        if *node.source() != Source::Live {
            return Vec::new();
        }
        ["apiserver", "kubelet"]
            .iter()
            .filter_map(|component| self.processes(component).first())
            .map(|process| {
                (
                    node.proc_dir().join(process.pid.to_string()).join("exe"),
                    process.binary.clone(),
                )
            })
            .collect()
    }

    /// The image tag of a control-plane static pod
    /// (`registry.k8s.io/kube-apiserver:v1.26.9`, `rancher/hardened-kubernetes:v1.30.4-rke2r1`).
    fn version_of_static_pods(&self, node: &Node) -> Option<(String, String)> {
        for var in ["apiserver.conf", "controllermanager.conf", "scheduler.conf"] {
            let path = NodePath::parse(self.vars.get(var)?)?;
            let Ok(image) = node.config_value(&path, "spec.containers.0.image") else {
                continue;
            };
            if let Some(version) = image.as_str().and_then(version_of_image) {
                return Some((version, format!("image tag in {path}")));
            }
        }
        None
    }
}

/// The first binary whose `--version` names a version.
fn version_of_running_binaries(binaries: &[(PathBuf, String)]) -> Found {
    for (exe, binary) in binaries {
        let Some(output) = probe_version(exe) else {
            continue;
        };
        if let Some(version) = version_in_text(&output) {
            let banner = output.lines().next().unwrap_or_default().trim();
            return Some((
                version,
                format!(
                    "`{} --version` of the running {binary} printed {banner:?}",
                    exe.display()
                ),
            ));
        }
    }
    None
}

/// `exe --version`, run with no environment and a deadline.
fn probe_version(exe: &Path) -> Option<String> {
    run_bounded(exe, &["--version"], PROBE_TIMEOUT, PROBE_OUTPUT_LIMIT)
}

/// The first `v1.NN.P` in a text (`Kubernetes v1.30.4`, `k3s version v1.28.10+k3s1 (a4c5612e)`).
pub(super) fn version_in_text(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '"')
        .filter_map(|word| word.strip_prefix('v'))
        .find_map(release)
}

/// `registry.k8s.io/kube-apiserver:v1.26.9` → `1.26.9`.
fn version_of_image(image: &str) -> Option<String> {
    release(image.rsplit_once(':')?.1.trim_start_matches('v'))
}

/// `1.26.9-rancher1`, `1.28.10+k3s1` → `1.26.9`: the numeric release, at least major.minor.
fn release(tag: &str) -> Option<String> {
    let core = tag.split(['-', '+', '_']).next()?;
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric.then(|| core.to_owned())
}

/// RKE2 unpacks its binaries to `/var/lib/rancher/rke2/data/v1.30.4-rke2r1-<hash>/bin`
/// (`bin` beside `data` links to the one in use) and runs the kubelet from
/// there by bare name: the directory names the version, on an agent too,
/// where there is no API server and no static pod with an image tag.
const RKE2_BIN: &str = "/var/lib/rancher/rke2/bin";

impl Discovery {
    fn version_of_rke2_data_dir(&self, node: &Node) -> Option<(String, String)> {
        // The running kubelet's executable, where the node root keeps /proc's links.
        let kubelet_exe = self.processes("kubelet").first().and_then(|p| {
            let link = node.proc_dir().join(p.pid.to_string()).join("exe");
            let target = std::fs::read_link(&link).ok()?;
            Some((
                target.to_string_lossy().into_owned(),
                format!("the kubelet's executable ({})", link.display()),
            ))
        });
        let current = || {
            let bin = NodePath::parse(RKE2_BIN)?;
            let resolved = node.resolve(&bin).ok()?;
            (resolved != bin).then(|| (resolved.to_string(), format!("{RKE2_BIN}, a link")))
        };
        let (path, how) = kubelet_exe.or_else(current)?;
        let dir = path
            .strip_prefix("/var/lib/rancher/rke2/data/")?
            .split('/')
            .next()?;
        let version = release(dir.strip_prefix('v')?)?;
        Some((version, format!("RKE2's data directory {dir}, from {how}")))
    }
}

/// RKE runs every component as a docker container named after it: the image
/// tag of the `kube-apiserver` or `kubelet` container that is running.
fn from_docker_containers(node: &Node) -> Option<(String, String)> {
    let containers = NodePath::parse("/var/lib/docker/containers")?;
    let ids = node.list_dir(&containers).ok()?;
    for wanted in ["/kube-apiserver", "/kubelet"] {
        for id in &ids {
            let Some(config) = NodePath::parse(&format!("{containers}/{id}/config.v2.json")) else {
                continue;
            };
            let field = |key: &str| node.config_value(&config, key).ok();
            let named = field("Name").is_some_and(|n| n.as_str() == Some(wanted));
            let running = field("State.Running").is_some_and(|r| r.as_bool() == Some(true));
            if !(named && running) {
                continue;
            }
            let image = field("Config.Image")?;
            if let Some(version) = image.as_str().and_then(version_of_image) {
                return Some((
                    version,
                    format!(
                        "image tag of the running {} container ({config})",
                        &wanted[1..]
                    ),
                ));
            }
        }
    }
    None
}

/// The installed `kubelet` package in dpkg's status file (kubeadm nodes
/// install it from pkgs.k8s.io: `Version: 1.30.4-1.1`).
fn from_dpkg(node: &Node) -> Option<(String, String)> {
    const STATUS: &str = "/var/lib/dpkg/status";
    let file = node.open_file(&NodePath::parse(STATUS)?).ok()?;
    let mut text = String::new();
    file.take(64 << 20).read_to_string(&mut text).ok()?;
    text.split("\n\n").find_map(|stanza| {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        if field("Package")? != "kubelet" || field("Status")? != "install ok installed" {
            return None;
        }
        let package = field("Version")?;
        let version = release(package.split_once(':').map_or(package, |(_, v)| v))?;
        Some((
            version,
            format!("installed kubelet package {package} in {STATUS}"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_image_tags() {
        assert_eq!(
            version_of_image("registry.k8s.io/kube-apiserver:v1.26.9").as_deref(),
            Some("1.26.9")
        );
        assert_eq!(
            version_of_image("rancher/hyperkube:v1.15.12-rancher2").as_deref(),
            Some("1.15.12")
        );
        assert_eq!(
            version_of_image("localhost:5000/kube-apiserver:latest"),
            None
        );
        assert_eq!(version_of_image("kube-apiserver"), None);
    }

    #[test]
    fn versions_from_banners() {
        assert_eq!(
            version_in_text("Kubernetes v1.30.4\n").as_deref(),
            Some("1.30.4")
        );
        assert_eq!(
            version_in_text("k3s version v1.28.10+k3s1 (a4c5612e)\ngo version go1.21.9\n")
                .as_deref(),
            Some("1.28.10")
        );
        assert_eq!(
            version_in_text(r#"msg="Starting k3s v1.28.10+k3s1 (a4c5612e)""#).as_deref(),
            Some("1.28.10")
        );
        assert_eq!(version_in_text("usage: kubelet [flags]"), None);
        assert_eq!(version_in_text("verbose vx.y"), None);
    }
}
