//! The node, the benchmark and the items a scan or a plan is about: the flag
//! group both share, and everything read and validated before anything runs.

use anyhow::{Context, Result, bail};
use kubecis_engine::bundle::{Bundle, Library};
use kubecis_engine::node::discovery::{Discovery, NodeType};
use kubecis_engine::node::{Node, NodePath, Source};
use kubecis_engine::sandbox::{Cache, Limits, Sandbox};
use kubecis_engine::scan::ScanOptions;
use kubecis_engine::selection::{Selection, UserSkip};
use kubecis_engine::skipconfig::SkipConfig;
use kubecis_engine::waivers::Waivers;
use kubecis_report::output::printable;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which node, which benchmark, which items: shared by `scan` and `plan`.
#[derive(clap::Args, Debug)]
pub struct Target {
    /// Benchmark version, or auto: the one for the node's Kubernetes version.
    #[arg(long, default_value = "auto")]
    pub benchmark: String,
    /// Profile of the benchmark (case-insensitive), e.g. rke-cis-1.4-permissive.
    #[arg(long)]
    pub profile: Option<String>,
    /// Skip list in Rancher's format: {"skip": {"<benchmark>": ["<id>", …]}}, or the security-scan-cfg ConfigMap.
    #[arg(long, value_name = "FILE")]
    pub skip_config: Option<PathBuf>,
    /// Only these items (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub check: Vec<String>,
    /// Only these groups or sections (comma-separated ids, e.g. 1.2,4).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub group: Vec<String>,
    /// Waivers: items accepted as they are, by whom, why and until when
    /// (YAML: waivers: [{id, reason, owner, expires, nodes, nodeTypes}]).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Skip these items, groups or sections (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub skip: Vec<String>,
    /// Leave unscored items out.
    #[arg(long)]
    pub scored_only: bool,
    /// Scan a node filesystem at DIR (a host mounted at /host, or a snapshot) instead of this machine.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Where the node's /proc is, when not DIR/proc (e.g. /proc of a hostPID pod).
    #[arg(long, value_name = "DIR", requires = "root")]
    pub proc: Option<PathBuf>,
    /// Node types to check (comma-separated: master, etcd, controlplane, node, policies); default: from what runs.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub targets: Option<Vec<String>>,
    /// Name of the node in the report; default: the host name.
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's Kubernetes version, when it cannot be found on the node (e.g. 1.26.9).
    #[arg(long, value_name = "VERSION")]
    pub k8s_version: Option<String>,
    /// Load more bundles from this directory (one subdirectory per benchmark).
    #[arg(long, value_name = "DIR")]
    pub bundle_dir: Option<PathBuf>,
    /// Allow the broad or sensitive grants of these --bundle-dir or --bundle
    /// bundles (comma-separated benchmark names), after reviewing them with `plan`.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub allow_grants: Vec<String>,
    #[command(flatten)]
    pub packages: crate::bundle::PackageArgs,
}

pub struct Prepared {
    pub library: Arc<Library>,
    pub benchmark: String,
    pub node: Node,
    pub discovery: Discovery,
    pub options: ScanOptions,
}

/// The benchmark asked for, or with `auto` the one for the node's Kubernetes version.
fn choose_benchmark(
    target: &Target,
    library: &Library,
    discovery: &Discovery,
) -> Result<(String, String)> {
    if !target.benchmark.eq_ignore_ascii_case("auto") {
        return Ok((
            library.get(&target.benchmark)?.benchmark.clone(),
            "given with --benchmark".to_owned(),
        ));
    }
    let (version, from) = match &target.k8s_version {
        Some(v) => (v.clone(), "given with --k8s-version".to_owned()),
        None => discovery.kubernetes_version.get().context(
            "--benchmark auto cannot tell this node's Kubernetes version (looked for: the running API server's or kubelet's `--version` on a live node, a control-plane static pod image tag, k3s's start-up log, RKE's docker containers, the kubelet's Debian package); state it with --k8s-version 1.NN or choose --benchmark",
        )?,
    };
    let (bundle, warning) = library
        .for_kubernetes(&version, &discovery.distribution.0)
        .with_context(|| format!("--benchmark auto with Kubernetes {version} ({from})"))?;
    let distribution = &discovery.distribution.0;
    let mut from = if bundle.benchmark.starts_with(&format!("{distribution}-")) {
        format!(
            "auto: {distribution} with Kubernetes {version} ({from}) maps to {}, the benchmark for {distribution}",
            bundle.benchmark
        )
    } else {
        format!(
            "auto: Kubernetes {version} ({from}) maps to {}",
            bundle.benchmark
        )
    };
    if let Some(w) = warning {
        eprintln!("kubecis: warning: {}", printable(&w));
        from.push_str(&format!(" ({w})"));
    }
    Ok((bundle.benchmark.clone(), from))
}

/// The profile, skip lists and selection the flags ask for, checked against the bundle.
fn selection_for(target: &Target, library: &Library, bundle: &Bundle) -> Result<Selection> {
    let profile = bundle.profile_for(target.profile.as_deref())?.cloned();
    let mut user_skips: Vec<UserSkip> = Vec::new();
    if let Some(path) = &target.skip_config {
        let config = SkipConfig::read(path)?;
        config.check_names(library, path)?;
        let from = format!("skip config {}", path.display());
        user_skips.extend(
            config
                .for_benchmark(&bundle.benchmark)
                .into_iter()
                .map(|id| UserSkip {
                    id,
                    from: from.clone(),
                    typed: false,
                }),
        );
    }
    user_skips.extend(target.skip.iter().map(|id| UserSkip {
        id: id.clone(),
        from: "--skip".to_owned(),
        typed: true,
    }));
    let waivers = match &target.waivers {
        Some(path) => {
            let waivers = crate::waivers::read(path)?;
            for w in waivers.list.iter().filter(|w| !bundle.has_id(&w.id)) {
                eprintln!(
                    "kubecis: warning: {}: waiver of {} names {:?}, which is no item, group or section of {}",
                    printable(&path.display().to_string()),
                    printable(&w.owner),
                    printable(&w.id),
                    bundle.benchmark
                );
            }
            waivers
        }
        None => Waivers::default(),
    };
    let mut selection = Selection {
        profile,
        user_skips,
        only: target.check.iter().chain(&target.group).cloned().collect(),
        only_from: "--check/--group".to_owned(),
        scored_only: target.scored_only,
        waivers,
    };
    for warning in selection.validate(bundle)? {
        eprintln!("kubecis: warning: {}", printable(&warning));
    }
    Ok(selection)
}

fn parse_targets(target: &Target) -> Result<Option<Vec<NodeType>>> {
    target
        .targets
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|t| {
                    NodeType::parse(t).with_context(|| {
                        format!("--targets: unknown node type {t:?}; expected master, etcd, controlplane, node or policies")
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()
}

/// The built-in bundles and those of `--bundle-dir`; a refused grant says
/// which flag allows it.
pub fn load_library(bundle_dir: Option<&std::path::Path>, allow: &[String]) -> Result<Library> {
    Library::load_allowing(&kubecis_builtin::BUILTINS, bundle_dir, allow)
        .map_err(|e| match e {
            kubecis_engine::bundle::BundleError::Grant { ref bundle, .. } => {
                let hint = format!(
                    "review it with `kubecis plan`, then allow it with --allow-grants {bundle}"
                );
                anyhow::anyhow!("{e} ({hint})")
            }
            e => anyhow::Error::new(e),
        })
        .context("loading benchmark bundles")
}

/// `plan_anywhere`: a plan may be made off a node (every node type), a scan may not.
pub fn prepare(target: &Target, plan_anywhere: bool) -> Result<Prepared> {
    let mut library = load_library(target.bundle_dir.as_deref(), &target.allow_grants)?;
    target.packages.add_to(&mut library, &target.allow_grants)?;
    prepare_with(target, Arc::new(library), plan_anywhere)
}

/// `prepare` with a library already loaded and verified (an agent's or
/// `serve`'s, kept for the process's life); `target`'s bundle flags are not read.
pub fn prepare_with(
    target: &Target,
    library: Arc<Library>,
    plan_anywhere: bool,
) -> Result<Prepared> {
    let targets = parse_targets(target)?;
    // With a named benchmark, bad input is refused before the node is opened.
    let named = if target.benchmark.eq_ignore_ascii_case("auto") {
        None
    } else {
        Some(selection_for(
            target,
            &library,
            library.get(&target.benchmark)?,
        )?)
    };
    let node = match &target.root {
        Some(dir) => Node::at_root(dir, target.proc.as_deref()),
        None => Node::live(),
    }
    .context("opening the node")?;
    let discovery = Discovery::run(&node);
    // Say so before asking for a Kubernetes version the node cannot show.
    if !plan_anywhere && targets.is_none() && discovery.components().is_empty() {
        bail!(nothing_runs(&node));
    }
    let (benchmark, benchmark_from) = choose_benchmark(target, &library, &discovery)?;
    let selection = match named {
        Some(selection) => selection,
        None => selection_for(target, &library, library.get(&benchmark)?)?,
    };
    let options = ScanOptions {
        targets,
        node_name: target.node_name.clone().unwrap_or_else(|| node_name(&node)),
        selection,
        kubernetes_version: target.k8s_version.clone(),
        benchmark_from,
    };
    Ok(Prepared {
        library,
        benchmark,
        node,
        discovery,
        options,
    })
}

/// That no component runs, and where it looked.
pub fn no_component(node: &Node) -> String {
    format!(
        "no Kubernetes component runs on this node (processes read from {})",
        node.proc_dir().display()
    )
}

/// Why nothing applies on a node where no component runs, and what to do.
fn nothing_runs(node: &Node) -> String {
    format!(
        "{}, so no item applies; scan a node root with --root DIR (and --proc DIR), or name the node types with --targets",
        no_component(node)
    )
}

/// The node's host name: the kernel's on a live node, `/etc/hostname` in a node root.
pub fn node_name(node: &Node) -> String {
    use std::io::Read;
    let read = |path: &str| {
        let mut text = String::new();
        let file = NodePath::parse(path).and_then(|p| node.open_file(&p).ok());
        file?.take(256).read_to_string(&mut text).ok()?;
        Some(text)
    };
    match node.source() {
        Source::Live => read("/proc/sys/kernel/hostname").or_else(|| read("/etc/hostname")),
        Source::Root(_) => read("/etc/hostname"),
    }
    .map(|s| s.trim().to_owned())
    .filter(|s| !s.is_empty())
    .unwrap_or_else(|| "unknown".to_owned())
}

/// The sandbox's limits and compile cache: shared by `scan` and `agent`.
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Time each check may run, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub check_timeout_ms: u64,
    /// Memory each check may use, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    pub check_memory_mib: usize,
    /// Where precompiled components are kept.
    #[arg(long, value_name = "DIR", env = "KUBECIS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile components in memory, without the on-disk cache (over
    /// --cache-dir and KUBECIS_CACHE_DIR, which an image may set).
    #[arg(long)]
    pub no_cache: bool,
}

impl SandboxArgs {
    /// A sandbox with these limits, kept until the process ends: unmapping
    /// the instance pool is the kernel's work at exit, not worth doing twice.
    pub fn sandbox(&self) -> Result<&'static mut Sandbox> {
        let limits = Limits {
            deadline: Duration::from_millis(self.check_timeout_ms.max(1)),
            memory_bytes: self.check_memory_mib.max(1) << 20,
            ..Limits::default()
        };
        let cache = if self.no_cache {
            None
        } else {
            // A cache that is not private is not used: its entries are native code.
            self.cache_dir
                .clone()
                .or_else(Cache::default_dir)
                .and_then(|dir| match Cache::open(dir) {
                    Ok(cache) => Some(cache),
                    Err(e) => {
                        eprintln!(
                            "kubecis: warning: not using the compile cache: {}; every check is compiled",
                            printable(&e.to_string())
                        );
                        None
                    }
                })
        };
        Ok(Box::leak(Box::new(Sandbox::new(limits, cache)?)))
    }
}
