//! Runs the containers of deploy/'s pod specs as a kubelet and a container
//! runtime would, on this machine: each container in a root of its own (the
//! image's files) with its volumes bound in, its securityContext's user,
//! groups and capabilities, the environment and arguments of the spec
//! (`$(VAR)` expanded, service links injected), in one network namespace
//! where the Service's DNS name leads to serve. An agent's "node" is a
//! fixture root at its hostPath and, as through hostPID, a PID namespace
//! holding processes started with that fixture's command lines.
//! What the runtime's part needs that Rust's standard library lacks is in
//! tests/deploy/contain.c.

use super::kustomize::{Doc, base64_decode, find};
use crate::server::http;
use crate::support::{Materialised, live_node};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An image's root filesystem and its configuration (OCI image config).
pub struct Rootfs {
    pub dir: PathBuf,
    pub config: serde_json::Value,
    _tmp: tempfile::TempDir,
}

impl Rootfs {
    /// What deploy/image/Containerfile makes, with this build's (dynamic)
    /// binary and the libraries it loads in place of the static one.
    pub fn from_binary(binary: &Path) -> Rootfs {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("rootfs");
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::create_dir_all(dir.join("var/cache/kubecis")).unwrap();
        std::fs::copy(binary, dir.join("kubecis")).unwrap();
        let ldd = Command::new("ldd").arg(binary).output().unwrap();
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            let lib = line
                .split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(PathBuf::from);
            if let Some(lib) = lib {
                let to = dir.join(lib.strip_prefix("/").unwrap());
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&lib, &to).unwrap();
            }
        }
        std::fs::write(dir.join("etc/passwd"), "root:x:0:0::/:/sbin/nologin\n").unwrap();
        std::fs::write(dir.join("etc/group"), "root:x:0:\n").unwrap();
        let config = containerfile_config(
            &std::fs::read_to_string(super::deploy_dir().join("image/Containerfile")).unwrap(),
        );
        Rootfs {
            dir,
            config,
            _tmp: tmp,
        }
    }

    /// The root of an image in an OCI archive: its layers unpacked in order.
    pub fn from_oci_archive(archive: &Path) -> Rootfs {
        let tmp = tempfile::tempdir().unwrap();
        let layout = tmp.path().join("layout");
        let dir = tmp.path().join("rootfs");
        std::fs::create_dir_all(&layout).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        untar(archive, &layout);
        let blob = |digest: &serde_json::Value| {
            let digest = digest.as_str().unwrap().strip_prefix("sha256:").unwrap();
            layout.join("blobs/sha256").join(digest)
        };
        let json = |path: PathBuf| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
        };
        let index = json(layout.join("index.json"));
        let manifest = json(blob(&index["manifests"][0]["digest"]));
        let config = json(blob(&manifest["config"]["digest"]));
        for layer in manifest["layers"].as_array().unwrap() {
            untar(&blob(&layer["digest"]), &dir);
        }
        Rootfs {
            dir,
            config,
            _tmp: tmp,
        }
    }
}

fn untar(archive: &Path, into: &Path) {
    let status = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .status()
        .unwrap();
    assert!(status.success(), "unpacking {}", archive.display());
}

/// ENTRYPOINT, ENV and USER of a Containerfile, as an image config.
fn containerfile_config(text: &str) -> serde_json::Value {
    let mut config = serde_json::json!({"config": {"Env": []}});
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            config["config"]["Entrypoint"] = serde_json::from_str(rest).unwrap();
        } else if let Some(rest) = line.strip_prefix("ENV ") {
            config["config"]["Env"]
                .as_array_mut()
                .unwrap()
                .push(rest.into());
        } else if let Some(rest) = line.strip_prefix("USER ") {
            config["config"]["User"] = rest.trim().into();
        }
    }
    config
}

/// Relative paths of every file (and empty directory, with a slash) under `dir`.
pub fn walk(base: &Path, dir: &Path, into: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    if entries.is_empty() && dir != base {
        into.push(format!("{}/", dir.strip_prefix(base).unwrap().display()));
    }
    for path in entries {
        if path.is_dir() && !path.is_symlink() {
            walk(base, &path, into);
        } else {
            into.push(path.strip_prefix(base).unwrap().display().to_string());
        }
    }
}

/// The image archive of this source: deploy/image/build.sh, run again so
/// that an archive of older code is never what is tested (tests/run.sh runs
/// it before the tests, so here it only finds everything built).
pub fn image_archive() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(root.join("deploy/image/build.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "deploy/image/build.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    root.join(format!(
        "target/image/kubecis-{}.oci.tar",
        env!("CARGO_PKG_VERSION")
    ))
}

/// The value of `--flag=value` or `--flag value` in a container's args.
pub fn flag(container: &Value, name: &str) -> Option<String> {
    let args: Vec<&str> = container["args"]
        .as_sequence()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let prefix = format!("{name}=");
    args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix(&prefix)
            .map(str::to_owned)
            .or_else(|| (*a == name).then(|| args.get(i + 1).map(|v| (*v).to_owned()))?)
    })
}

/// A Service's targetPort (a number or a container port's name) as a number.
pub fn container_port(container: &Value, target: &Value) -> u64 {
    if let Some(n) = target.as_u64() {
        return n;
    }
    container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"] == *target)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no container port {target:?}"))
}

/// Capabilities by name, as the securityContext spells them.
const CAPABILITIES: [(&str, u32); 14] = [
    ("CHOWN", 0),
    ("DAC_OVERRIDE", 1),
    ("DAC_READ_SEARCH", 2),
    ("FOWNER", 3),
    ("FSETID", 4),
    ("KILL", 5),
    ("SETGID", 6),
    ("SETUID", 7),
    ("SETPCAP", 8),
    ("NET_BIND_SERVICE", 10),
    ("NET_RAW", 13),
    ("SYS_CHROOT", 18),
    ("SYS_PTRACE", 19),
    ("MKNOD", 27),
];

/// What containerd gives a container that drops nothing.
const RUNTIME_DEFAULT: [&str; 12] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
];

fn capability(name: &str) -> u32 {
    CAPABILITIES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("capability {name} is not known to the tests"))
        .1
}

/// One pod of a workload, ready to start: the `contain` command line.
struct Pod {
    name: String,
    contain: Vec<String>,
    host_pid: bool,
    /// Volume directories by volume name (to look at afterwards).
    volumes: BTreeMap<String, PathBuf>,
    /// Where each volume is mounted: (mount path, volume name).
    mounts: Vec<(String, String)>,
    env: Vec<(String, String)>,
}

impl Pod {
    /// The directory outside the pod that a path named by an environment
    /// variable of the container is on (through its volume).
    fn path_of(&self, variable: &str) -> PathBuf {
        let (_, inside) = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == variable)
            .unwrap_or_else(|| panic!("{}: no {variable}", self.name));
        let (at, volume) = self
            .mounts
            .iter()
            .filter(|(at, _)| Path::new(inside).starts_with(at))
            .max_by_key(|(at, _)| at.len())
            .unwrap_or_else(|| panic!("{}: {variable}={inside} is on no volume", self.name));
        self.volumes[volume].join(Path::new(inside).strip_prefix(at).unwrap())
    }
}

/// What the pods run in: the test's directory and the cluster's stand-ins.
struct Cluster<'a> {
    work: PathBuf,
    docs: &'a [Doc],
    rootfs: &'a Rootfs,
    contain: PathBuf,
    /// `/etc/hosts` of every container: the Service names lead to loopback.
    hosts: String,
}

impl Cluster<'_> {
    /// The pod a workload makes on `node`, with the node's root for hostPath volumes.
    fn pod(&self, workload: &Doc, node: &str, host: Option<&Path>) -> Pod {
        let template = match workload.kind() {
            "CronJob" => &workload.value["spec"]["jobTemplate"]["spec"]["template"],
            _ => &workload.value["spec"]["template"],
        };
        let spec = &template["spec"];
        let containers = spec["containers"].as_sequence().unwrap();
        assert_eq!(containers.len(), 1, "{}: one container", workload.name());
        let container = &containers[0];
        let name = format!("{}-{node}", workload.name());
        let dir = self.work.join(&name);
        let root = dir.join("root");
        copy_tree(&self.rootfs.dir, &root);
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/hosts"), &self.hosts).unwrap();

        // securityContext: the container's over the pod's over the image's USER.
        let pod_ctx = &spec["securityContext"];
        let ctx = &container["securityContext"];
        let pick = |key: &str| ctx[key].as_u64().or_else(|| pod_ctx[key].as_u64());
        let (image_uid, image_gid) = self.image_user();
        let uid = pick("runAsUser").unwrap_or(image_uid);
        let gid = pick("runAsGroup").unwrap_or(image_gid);
        let non_root = ctx["runAsNonRoot"]
            .as_bool()
            .or_else(|| pod_ctx["runAsNonRoot"].as_bool())
            .unwrap_or(false);
        assert!(
            !(non_root && uid == 0),
            "{name}: runAsNonRoot with uid 0 is refused by the kubelet"
        );
        let fs_group = pod_ctx["fsGroup"].as_u64();
        let mut contain = vec![
            self.contain.display().to_string(),
            "--root".into(),
            root.display().to_string(),
            "--proc".into(),
            format!("--uid={uid}"),
            format!("--gid={gid}"),
        ];
        if let Some(g) = fs_group {
            contain.push(format!("--groups={g}"));
        }
        if ctx["readOnlyRootFilesystem"] == true {
            contain.push("--ro-root".into());
        }
        if ctx["allowPrivilegeEscalation"] == false {
            contain.push("--no-new-privs".into());
        }
        assert_ne!(ctx["privileged"], true, "{name}: privileged");
        let drop: Vec<&str> = ctx["capabilities"]["drop"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut caps: Vec<u32> = if drop.contains(&"ALL") {
            Vec::new()
        } else {
            RUNTIME_DEFAULT
                .iter()
                .filter(|c| !drop.contains(c))
                .map(|c| capability(c))
                .collect()
        };
        for add in ctx["capabilities"]["add"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            caps.push(capability(add.as_str().unwrap()));
        }
        if !caps.is_empty() {
            let list: Vec<String> = caps.iter().map(u32::to_string).collect();
            contain.push(format!("--caps={}", list.join(",")));
        }

        // The runtime's /dev: what runc creates, bound from this machine.
        std::fs::create_dir_all(root.join("dev")).unwrap();
        for device in ["null", "zero", "random", "urandom"] {
            std::fs::write(root.join("dev").join(device), "").unwrap();
            contain.push(format!("--bind=/dev/{device}:/dev/{device}"));
        }

        // Volumes as the kubelet makes them, then bound where the container mounts them.
        let mut volumes = BTreeMap::new();
        let mut mounts = Vec::new();
        for volume in spec["volumes"].as_sequence().into_iter().flatten() {
            let vname = volume["name"].as_str().unwrap().to_owned();
            let source = self.volume(&dir, volume, fs_group, host);
            volumes.insert(vname, source);
        }
        for mount in container["volumeMounts"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let vname = mount["name"].as_str().unwrap();
            let volume = spec["volumes"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|v| v["name"] == vname)
                .unwrap_or_else(|| panic!("{name}: no volume {vname}"));
            let mut source = volumes[vname].clone();
            if let Some(sub) = mount["subPath"].as_str() {
                source = source.join(sub);
            }
            let target = mount["mountPath"].as_str().unwrap();
            mounts.push((target.to_owned(), vname.to_owned()));
            let inside = root.join(target.trim_start_matches('/'));
            if source.is_dir() {
                std::fs::create_dir_all(&inside).unwrap();
            } else {
                std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
                std::fs::write(&inside, "").unwrap();
            }
            // Secrets and ConfigMaps are always mounted read-only.
            let read_only = mount["readOnly"] == true
                || volume.get("secret").is_some()
                || volume.get("configMap").is_some();
            contain.push(format!(
                "--bind={}:{target}{}",
                source.display(),
                if read_only { ":ro" } else { "" }
            ));
        }

        // Environment: the image's, service links, then the container's own.
        let mut env: Vec<(String, String)> = self.rootfs.config["config"]["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str()?.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        env.push(("HOSTNAME".into(), name.clone()));
        if spec["enableServiceLinks"] != false {
            env.extend(self.service_links(workload.namespace()));
        }
        for var in container["env"].as_sequence().into_iter().flatten() {
            let key = var["name"].as_str().unwrap().to_owned();
            let value = if let Some(v) = var["value"].as_str() {
                expand(v, &env)
            } else {
                match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                    Some("spec.nodeName") => node.to_owned(),
                    Some("metadata.namespace") => workload.namespace().to_owned(),
                    Some("metadata.name") => name.clone(),
                    other => panic!("{name}: env {key} from {other:?} is not known to the tests"),
                }
            };
            env.push((key, value));
        }
        // One value per name, the spec's over the image's (as the runtime merges them).
        let mut merged: Vec<(String, String)> = Vec::new();
        for (k, v) in env {
            merged.retain(|(name, _)| *name != k);
            merged.push((k, v));
        }
        let env = merged;
        for (k, v) in &env {
            contain.push(format!("--env={k}={v}"));
        }
        let pod_env = env.clone();

        // The command: the container's, else the image's entrypoint; then its args.
        let strings = |v: &Value| -> Option<Vec<String>> {
            Some(
                v.as_sequence()?
                    .iter()
                    .map(|s| expand(s.as_str().unwrap(), &env))
                    .collect(),
            )
        };
        let command = strings(&container["command"]).unwrap_or_else(|| {
            self.rootfs.config["config"]["Entrypoint"]
                .as_array()
                .expect("an entrypoint")
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        });
        contain.push("--".into());
        contain.extend(command);
        contain.extend(strings(&container["args"]).unwrap_or_default());
        Pod {
            name,
            contain,
            host_pid: spec["hostPID"] == true,
            volumes,
            mounts,
            env: pod_env,
        }
    }

    /// uid and gid of the image's USER (root when it names none).
    fn image_user(&self) -> (u64, u64) {
        let user = self.rootfs.config["config"]["User"].as_str().unwrap_or("");
        let (u, g) = user.split_once(':').unwrap_or((user, user));
        (u.parse().unwrap_or(0), g.parse().unwrap_or(0))
    }

    /// The `<NAME>_SERVICE_HOST`, `<NAME>_PORT…` variables of every Service
    /// of the namespace, as the kubelet injects them.
    fn service_links(&self, namespace: &str) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for service in self
            .docs
            .iter()
            .filter(|d| d.kind() == "Service" && d.namespace() == namespace)
        {
            let prefix = service.name().to_uppercase().replace('-', "_");
            for (i, port) in service.value["spec"]["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .enumerate()
            {
                let number = port["port"].as_u64().unwrap();
                let proto = port["protocol"].as_str().unwrap_or("TCP");
                if i == 0 {
                    env.push((format!("{prefix}_SERVICE_HOST"), "127.0.0.1".into()));
                    env.push((format!("{prefix}_SERVICE_PORT"), number.to_string()));
                    env.push((
                        format!("{prefix}_PORT"),
                        format!("tcp://127.0.0.1:{number}"),
                    ));
                }
                if let Some(n) = port["name"].as_str() {
                    let n = n.to_uppercase().replace('-', "_");
                    env.push((format!("{prefix}_SERVICE_PORT_{n}"), number.to_string()));
                }
                let base = format!("{prefix}_PORT_{number}_{proto}");
                env.push((
                    base.clone(),
                    format!("{}://127.0.0.1:{number}", proto.to_lowercase()),
                ));
                env.push((format!("{base}_PROTO"), proto.to_lowercase()));
                env.push((format!("{base}_PORT"), number.to_string()));
                env.push((format!("{base}_ADDR"), "127.0.0.1".into()));
            }
        }
        env
    }

    /// A volume's directory as the kubelet prepares it.
    fn volume(
        &self,
        dir: &Path,
        volume: &Value,
        fs_group: Option<u64>,
        host: Option<&Path>,
    ) -> PathBuf {
        let name = volume["name"].as_str().unwrap();
        let path = dir.join("volumes").join(name);
        let group = |path: &Path, mode: u32| {
            if let Some(g) = fs_group {
                std::os::unix::fs::chown(path, Some(0), Some(g as u32)).unwrap();
            }
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        let files = |kind: &str, object: &str, data_of: &dyn Fn(&str) -> String| {
            std::fs::create_dir_all(&path).unwrap();
            let doc = find(self.docs, kind, object);
            let data = doc.value["data"].as_mapping().unwrap();
            let default_mode = volume[kind_key(kind)]["defaultMode"]
                .as_u64()
                .unwrap_or(0o644) as u32;
            let items: Vec<(String, String)> = match volume[kind_key(kind)]["items"].as_sequence() {
                Some(items) => items
                    .iter()
                    .map(|i| {
                        (
                            i["key"].as_str().unwrap().into(),
                            i["path"].as_str().unwrap().into(),
                        )
                    })
                    .collect(),
                None => data
                    .keys()
                    .map(|k| (k.as_str().unwrap().into(), k.as_str().unwrap().into()))
                    .collect(),
            };
            for (key, file) in items {
                let to = path.join(&file);
                std::fs::write(&to, data_of(&key)).unwrap();
                // With an fsGroup the kubelet gives the group read access.
                let mode = if fs_group.is_some() {
                    default_mode | 0o040
                } else {
                    default_mode
                };
                group(&to, mode);
            }
        };
        if let Some(name) = volume["configMap"]["name"].as_str() {
            let doc = find(self.docs, "ConfigMap", name);
            files("ConfigMap", name, &|k| {
                doc.value["data"][k].as_str().unwrap().to_owned()
            });
        } else if let Some(name) = volume["secret"]["secretName"].as_str() {
            let doc = find(self.docs, "Secret", name);
            files("Secret", name, &|k| {
                base64_decode(doc.value["data"][k].as_str().unwrap())
            });
        } else if volume.get("persistentVolumeClaim").is_some() {
            std::fs::create_dir_all(&path).unwrap();
            group(&path, if fs_group.is_some() { 0o2775 } else { 0o755 });
        } else if volume.get("emptyDir").is_some() {
            std::fs::create_dir_all(&path).unwrap();
            group(&path, if fs_group.is_some() { 0o2777 } else { 0o777 });
        } else if let Some(p) = volume["hostPath"]["path"].as_str() {
            assert_eq!(p, "/", "{name}: only the host's / is known to the tests");
            return host.expect("a hostPath volume on a node").to_path_buf();
        } else {
            panic!("volume {name}: its kind is not known to the tests: {volume:?}");
        }
        path
    }
}

fn kind_key(kind: &str) -> &'static str {
    if kind == "Secret" {
        "secret"
    } else {
        "configMap"
    }
}

/// `$(VAR)` of a container's command, args and env values, as Kubernetes
/// expands them (`$$` is a literal `$`; an unknown variable stays as written).
fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some((_, v)) = env.iter().rev().find(|(k, _)| k == &inner[..end])
        {
            out.push_str(v);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A tree copied with hard links (the images are read-only to the pods).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = Command::new("cp")
        .arg("-al")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The test's namespaces, ended on drop: the first process of a PID
/// namespace takes every other one with it when it is killed.
struct Running(Vec<(String, Child)>);

impl Drop for Running {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let pid = child.id();
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            for init in children
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                // SAFETY: a signal to a process this test started.
                unsafe { libc::kill(init, libc::SIGKILL) };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `f` on a thread that has joined the network namespace of `pid`.
fn in_netns<T: Send>(pid: u32, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: setns on this thread only, with a namespace descriptor.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap()
    })
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The nodes the agents run on: (node name, fixture).
const NODES: [(&str, &str); 3] = [
    ("cp-1", "misconfigured-control-plane"),
    // etcd's data directory is etcd's own (0700): reading it takes DAC_READ_SEARCH.
    ("cp-2", "hardened-control-plane"),
    ("worker-1", "kubeadm-worker"),
];

/// serve and an agent on each of two nodes, from `docs`, in `rootfs`; a
/// scan run through the API; each node's report equal to a direct scan of
/// the same node.
pub fn run_cluster(docs: &[Doc], rootfs: &Rootfs) {
    let work = tempfile::tempdir().unwrap();
    // The pods' directories must be reachable by serve's non-root user.
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (contain, idle) = tools(work.path());

    let service = find(docs, "Service", "kubecis");
    let cluster = Cluster {
        work: work.path().to_path_buf(),
        docs,
        rootfs,
        contain,
        hosts: format!(
            "127.0.0.1 localhost\n127.0.0.1 {0}.{1}.svc {0}.{1}.svc.cluster.local\n",
            service.name(),
            service.namespace()
        ),
    };
    let mut running = Running(Vec::new());

    // The pod network: one namespace with loopback up.
    let holder = Command::new("unshare")
        .args([
            "--net",
            "--",
            "bash",
            "-c",
            "ip link set lo up && exec sleep 600",
        ])
        .spawn()
        .expect("unshare (root)");
    let net = holder.id();
    running.0.push(("network".into(), holder));
    let no_logs = || String::new();
    wait_for(
        Duration::from_secs(10),
        "the network namespace",
        &no_logs,
        || std::fs::read_to_string(format!("/proc/{net}/comm")).is_ok_and(|c| c.trim() == "sleep"),
    );
    let start = |pod: &Pod, script: Option<String>, running: &mut Running| {
        let log = std::fs::File::create(work.path().join(format!("{}.log", pod.name))).unwrap();
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/proc/{net}/ns/net"))
            .arg("--")
            .arg("unshare")
            .args(POD_NAMESPACES);
        match script {
            Some(script) => command.args(["bash", "-c", &script]),
            None => command.args(&pod.contain),
        };
        let child = command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        running.0.push((pod.name.clone(), child));
    };
    let logs = || -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(work.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                all.push_str(&format!(
                    "--- {}\n{}\n",
                    path.display(),
                    std::fs::read_to_string(&path).unwrap_or_default()
                ));
            }
        }
        all
    };

    // serve, and its probes as the kubelet asks them.
    let deployment = find(docs, "Deployment", "kubecis-serve");
    let serve = cluster.pod(deployment, "node-0", None);
    start(&serve, None, &mut running);
    let serve_container = &deployment.value["spec"]["template"]["spec"]["containers"][0];
    for probe in ["readinessProbe", "livenessProbe"] {
        let get = &serve_container[probe]["httpGet"];
        let port = container_port(serve_container, &get["port"]);
        let path = get["path"].as_str().unwrap().to_owned();
        let url = format!("http://127.0.0.1:{port}");
        wait_for(Duration::from_secs(30), probe, &logs, || {
            in_netns(net, || http(&url, "GET", &path, None, b"")).is_ok_and(|(s, _)| s == 200)
        });
    }
    let port = service.value["spec"]["ports"][0]["port"].as_u64().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let token = |role: &str| {
        super::tokens()
            .into_iter()
            .find(|(p, _)| p.ends_with(role))
            .unwrap()
            .1
    };

    // An agent on each node: the node's processes in the pod's PID namespace (hostPID).
    let daemonset = find(docs, "DaemonSet", "kubecis-agent");
    let mut nodes = Vec::new();
    for (node, fixture) in NODES {
        let fixture_root = Materialised::new(fixture);
        let agent = cluster.pod(daemonset, node, Some(&fixture_root.root()));
        let script = on_node(&fixture_root.root(), &idle, &agent);
        start(&agent, Some(script), &mut running);
        nodes.push((node, fixture_root, agent));
    }
    wait_for(
        Duration::from_secs(60),
        "the agents to register",
        &logs,
        || {
            let (_, body) = in_netns(net, || {
                http(&url, "GET", "/api/v1/agents", Some(&token("viewer")), b"")
            })
            .unwrap_or_default();
            NODES
                .iter()
                .all(|(n, _)| body.contains(&format!("\"name\":\"{n}\"")))
        },
    );

    // A scan of serve.yaml's, run now by the admin.
    let config = find(docs, "ConfigMap", "kubecis-serve");
    let serve_yaml: Value =
        serde_yaml_ng::from_str(config.value["data"]["serve.yaml"].as_str().unwrap()).unwrap();
    let scan = serve_yaml["scans"][0]["name"].as_str().unwrap().to_owned();
    let (status, body) = in_netns(net, || {
        http(
            &url,
            "POST",
            &format!("/api/v1/scans/{scan}/run"),
            Some(&token("admin")),
            b"",
        )
    })
    .unwrap();
    assert!(status < 300, "running {scan}: {status} {body}\n{}", logs());
    let job = serde_json::from_str::<serde_json::Value>(body.trim()).unwrap()["job"]
        .as_i64()
        .unwrap();
    wait_for(Duration::from_secs(60), "the job to finish", &logs, || {
        let (_, body) = in_netns(net, || {
            http(&url, "GET", "/api/v1/jobs", Some(&token("viewer")), b"")
        })
        .unwrap_or_default();
        let jobs: Vec<serde_json::Value> = serde_json::from_str(body.trim()).unwrap_or_default();
        jobs.iter()
            .any(|j| j["id"] == job && j["state"] != "active")
    });

    for (node, fixture_root, agent) in &nodes {
        let (status, body) = in_netns(net, || {
            http(
                &url,
                "GET",
                &format!("/api/v1/reports/{job}/nodes/{node}"),
                Some(&token("viewer")),
                b"",
            )
        })
        .unwrap();
        assert_eq!(status, 200, "{node}: {body}\n{}", logs());
        let through_agent: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        let direct = crate::support::kubecis(&[
            "scan",
            "--root",
            fixture_root.root().to_str().unwrap(),
            "--node-name",
            node,
            "--format",
            "json",
            "--no-cache",
        ]);
        let direct: serde_json::Value = serde_json::from_slice(&direct.stdout).unwrap();
        assert_eq!(through_agent["benchmark"], direct["benchmark"], "{node}");
        assert_eq!(
            through_agent["node"]["nodeTypes"], direct["node"]["nodeTypes"],
            "{node}"
        );
        let states = |report: &serde_json::Value| -> BTreeMap<String, String> {
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_owned(),
                        r["state"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        assert_eq!(
            states(&through_agent),
            states(&direct),
            "{node}: the agent in its pod judged otherwise than a scan of the same root"
        );
        // The agent's compile cache is where KUBECIS_CACHE_DIR says, on a volume.
        let cache = agent.path_of("KUBECIS_CACHE_DIR");
        let cached = std::fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "cwasm")
            })
            .count();
        assert!(
            cached >= 2,
            "{node}: no components cached in {}\n{}",
            cache.display(),
            logs()
        );
    }
    // serve's SQLite file is on its claim, written by serve's own user.
    let data = &serve.volumes["data"];
    let database = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .unwrap_or_else(|| panic!("no database in the claim {}", data.display()));
    let (uid, _) = cluster.image_user();
    let owner = std::fs::metadata(&database).unwrap().uid();
    let expected_uid = deployment.value["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        .as_u64()
        .unwrap_or(uid);
    assert_eq!(u64::from(owner), expected_uid, "{}", database.display());
    drop(running);
}

/// `unshare` flags of a pod: its own mount and PID namespaces (the PID
/// namespace and all in it end with the first process).
const POD_NAMESPACES: [&str; 6] = [
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
    "--",
];

/// The one-shot Job's and CronJob's container on a node: (exit status,
/// standard output, standard error).
pub fn run_once(
    docs: &[Doc],
    rootfs: &Rootfs,
    kind: &str,
    name: &str,
    fixture: &str,
) -> (i32, String, String) {
    let work = tempfile::tempdir().unwrap();
    let (contain, idle) = tools(work.path());
    let cluster = Cluster {
        work: work.path().to_path_buf(),
        docs,
        rootfs,
        contain,
        hosts: "127.0.0.1 localhost\n".into(),
    };
    let node = Materialised::new(fixture);
    let pod = cluster.pod(find(docs, kind, name), "node-1", Some(&node.root()));
    let out = Command::new("unshare")
        .args(POD_NAMESPACES)
        .args(["bash", "-c"])
        .arg(on_node(&node.root(), &idle, &pod))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The runtime's helper and the stand-in component binary, built into `dir`.
fn tools(dir: &Path) -> (PathBuf, PathBuf) {
    let contain = dir.join("contain");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/deploy/contain.c");
    let built = Command::new("gcc")
        .arg("-O2")
        .arg("-o")
        .arg(&contain)
        .arg(&src)
        .status()
        .unwrap();
    assert!(built.success(), "gcc failed to build {}", src.display());
    (contain, live_node::build_idle(dir))
}

/// A shell script for a node's PID namespace: the fixture's processes
/// (stand-ins with their command lines and environments), then the pod's
/// container, which sees them as through hostPID.
fn on_node(root: &Path, idle: &Path, pod: &Pod) -> String {
    assert!(pod.host_pid, "{}: runs with hostPID", pod.name);
    let mut script = String::from("set -e\npids=()\n");
    for (argv, env) in processes(root) {
        let mut words = vec!["env".to_owned(), "-i".to_owned()];
        words.extend(env.iter().map(|e| shell_quote(e)));
        words.push("/bin/bash -c 'exec -a \"$0\" \"$@\"'".into());
        words.push(shell_quote(&argv[0]));
        words.push(shell_quote(&idle.display().to_string()));
        words.extend(argv[1..].iter().map(|a| shell_quote(a)));
        script.push_str(&words.join(" "));
        script.push_str(" &\npids+=($!)\n");
    }
    // Each stand-in has become the component before the container looks.
    script.push_str(&format!(
        "for p in \"${{pids[@]}}\"; do for _ in $(seq 500); do [[ $(readlink /proc/$p/exe) == {} ]] && break; sleep 0.01; done; done\n",
        shell_quote(&idle.display().to_string())
    ));
    let quoted: Vec<String> = pod.contain.iter().map(|a| shell_quote(a)).collect();
    script.push_str(&format!("exec {}\n", quoted.join(" ")));
    script
}

/// Command lines and environments of a fixture's processes (its `proc/`).
fn processes(root: &Path) -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join("proc")) else {
        return found;
    };
    let mut pids: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .parse::<u32>()
                .is_ok()
        })
        .collect();
    pids.sort();
    let split = |bytes: Vec<u8>| -> Vec<String> {
        bytes
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    };
    for pid in pids {
        let argv = split(std::fs::read(pid.join("cmdline")).unwrap_or_default());
        let env = split(std::fs::read(pid.join("environ")).unwrap_or_default());
        if !argv.is_empty() {
            found.push((argv, env));
        }
    }
    found
}

/// Waits until `done`, at most `limit`; past it, fails with the pods' logs.
fn wait_for(
    limit: Duration,
    what: &str,
    logs: &dyn Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "waited {limit:?} for {what}\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
