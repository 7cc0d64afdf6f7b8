//! `kubecis agent`: one per node (a DaemonSet). Registers its node with
//! `serve`, asks for work (a long poll, which is also its heartbeat), runs
//! each scan with a sandbox kept warm between scans, and uploads the node
//! report. Every failure is retried with backoff; a restarted server is
//! found again.

use crate::client::{Client, ServerArgs};
use crate::target::{SandboxArgs, Target, node_name, prepare_with};
use anyhow::{Context, Result};
use kubecis_engine::bundle::Library;
use kubecis_engine::node::Node;
use kubecis_engine::node::discovery::Discovery;
use kubecis_engine::sandbox::Sandbox;
use kubecis_engine::scan;
use kubecis_engine::selection::UserSkip;
use kubecis_engine::skipconfig::SkipConfig;
use kubecis_engine::waivers::Waivers;
use kubecis_model::agent::{Registration, Work};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The node's filesystem at DIR (the host mounted at /host) instead of this machine's.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Where the node's /proc is, when not DIR/proc (hostPID: /proc).
    #[arg(long, value_name = "DIR", requires = "root")]
    pub proc: Option<PathBuf>,
    /// The node's name; default: its host name.
    #[arg(long, env = "KUBECIS_NODE_NAME")]
    pub node_name: Option<String>,
    /// The node's Kubernetes version, when it cannot be found on the node.
    #[arg(long, value_name = "VERSION")]
    pub k8s_version: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Seconds a poll for work is held open by the server.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub poll_seconds: u64,
    /// Bundle packages the server's scans may name, verified here against
    /// this node's own trust store.
    #[command(flatten)]
    pub bundles: Bundles,
}

/// The bundles a node scans with besides the built-in ones: packages, the
/// keys they must be signed with, and bundles whose grants the operator allows.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct Bundles {
    #[command(flatten)]
    pub packages: crate::bundle::PackageArgs,
    /// Allow the broad or sensitive grants of these packages (comma-separated
    /// benchmark names), after reviewing them with `bundle inspect`.
    #[arg(long, value_delimiter = ',', value_name = "BENCHMARKS")]
    pub allow_grants: Vec<String>,
}

impl Bundles {
    /// The built-in bundles and these packages, verified: a package that does
    /// not verify is an error now, not at the first job.
    pub fn library(&self) -> Result<Library> {
        let mut library = crate::target::load_library(None, &self.allow_grants)?;
        self.packages.add_to(&mut library, &self.allow_grants)?;
        Ok(library)
    }
}

pub fn run_agent(args: &AgentArgs) -> Result<std::process::ExitCode> {
    // A package that does not verify stops the agent now, not at its first
    // job; verified once, the library serves every job.
    let library = Arc::new(args.bundles.library()?);
    let client = Client::new(&args.server, Duration::from_secs(args.poll_seconds + 30))?;
    // Warm for the agent's life: components compile (or load) once.
    let sandbox = args.sandbox.sandbox()?;
    let mut backoff = Duration::from_secs(1);
    loop {
        match turn(args, &client, &library, sandbox) {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => {
                eprintln!(
                    "kubecis agent: {}; trying again in {}s",
                    kubecis_report::output::printable(&format!("{e:#}")),
                    backoff.as_secs()
                );
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// The node an agent (or a local node of `serve`) scans.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec<'a> {
    pub root: Option<&'a Path>,
    pub proc: Option<&'a Path>,
    pub name: Option<&'a str>,
    pub k8s_version: Option<&'a str>,
}

impl AgentArgs {
    fn node(&self) -> NodeSpec<'_> {
        NodeSpec {
            root: self.root.as_deref(),
            proc: self.proc.as_deref(),
            name: self.node_name.as_deref(),
            k8s_version: self.k8s_version.as_deref(),
        }
    }
}

/// The node as its agent registers it: name, node types, version, distribution.
pub fn describe(spec: NodeSpec<'_>) -> Result<Registration> {
    let node = match spec.root {
        Some(dir) => Node::at_root(dir, spec.proc),
        None => Node::live(),
    }
    .context("opening the node")?;
    let discovery = Discovery::run(&node);
    Ok(Registration {
        node: spec
            .name
            .map(str::to_owned)
            .unwrap_or_else(|| node_name(&node)),
        node_types: kubecis_engine::node::discovery::node_types(&discovery),
        kubernetes_version: spec
            .k8s_version
            .map(str::to_owned)
            .or_else(|| discovery.kubernetes_version.get().map(|(v, _)| v)),
        distribution: discovery.distribution.0.clone(),
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Register, wait for work, and do it if there is some.
fn turn(
    args: &AgentArgs,
    client: &Client,
    library: &Arc<Library>,
    sandbox: &mut Sandbox,
) -> Result<()> {
    let registration = describe(args.node())?;
    let name = registration.node.clone();
    client
        .post(
            "/api/v1/agents/register",
            &serde_json::to_vec(&registration)?,
        )?
        .ok("registering")?;
    let path = format!(
        "/api/v1/agents/{}/work?wait={}",
        url_segment(&name),
        args.poll_seconds
    );
    let answer = client.get(&path)?;
    if answer.status == 204 {
        return Ok(());
    }
    let work: Work = serde_json::from_str(&answer.ok("asking for work")?)
        .context("the server's work is not what this agent understands")?;
    eprintln!(
        "kubecis agent: job {} of scan {}: scanning {} with {}",
        work.job,
        kubecis_report::output::printable(&work.scan),
        kubecis_report::output::printable(&name),
        kubecis_report::output::printable(&work.benchmark)
    );
    let started = std::time::Instant::now();
    let report = scan_for(args.node(), &name, &work, library, sandbox)?;
    let scanned = started.elapsed();
    let body = serde_json::to_vec(&report)?;
    let path = format!("/api/v1/jobs/{}/reports/{}", work.job, url_segment(&name));
    client.put(&path, &body)?.ok("uploading the node report")?;
    eprintln!(
        "kubecis agent: job {}: {} results, scanned in {:.1} ms, uploaded",
        work.job,
        report.results.len(),
        scanned.as_secs_f64() * 1e3
    );
    Ok(())
}

/// The scan a job asks for, on this agent's node, with the warm sandbox.
pub fn scan_for(
    spec: NodeSpec<'_>,
    name: &str,
    work: &Work,
    library: &Arc<Library>,
    sandbox: &mut Sandbox,
) -> Result<kubecis_model::report::Report> {
    let target = Target {
        benchmark: work.benchmark.clone(),
        profile: work.profile.clone(),
        skip_config: None,
        waivers: None,
        check: Vec::new(),
        group: Vec::new(),
        skip: Vec::new(),
        scored_only: false,
        root: spec.root.map(Path::to_path_buf),
        proc: spec.proc.map(Path::to_path_buf),
        targets: None,
        node_name: Some(name.to_owned()),
        k8s_version: spec.k8s_version.map(str::to_owned),
        bundle_dir: None,
        allow_grants: Vec::new(),
        packages: Default::default(),
    };
    let mut prepared = prepare_with(&target, Arc::clone(library), false)?;
    // The scan's skip list names ids of its benchmark; one this version lacks skips nothing.
    prepared
        .options
        .selection
        .user_skips
        .extend(work.skip.iter().map(|id| UserSkip {
            id: id.clone(),
            from: format!("scan {}", work.scan),
            typed: false,
        }));
    let lists = SkipConfig {
        skip: work.skip_lists.clone(),
    };
    prepared.options.selection.user_skips.extend(
        lists
            .for_benchmark(&prepared.benchmark)
            .into_iter()
            .map(|id| UserSkip {
                id,
                from: "skip config security-scan-cfg".to_owned(),
                typed: false,
            }),
    );
    if let Some(file) = &work.waivers {
        prepared.options.selection.waivers = Waivers {
            list: Waivers::parse(&file.text, &file.from)?,
            from: file.from.clone(),
            today: Some(crate::waivers::today()?),
        };
    }
    let bundle = prepared.library.get(&prepared.benchmark)?;
    scan::prepare(sandbox, bundle)?;
    Ok(scan::scan(
        bundle,
        Arc::new(prepared.node),
        Arc::new(prepared.discovery),
        sandbox,
        &prepared.options,
    ))
}

/// A node name as one URL path segment.
pub fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
