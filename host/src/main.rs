//! The `kubecis` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use kubecis::bundle::{Bundle, Library};
use kubecis::cluster::diff::Snapshot;
use kubecis::cluster::render::CsvKind;
use kubecis::cluster::{self, ReportOptions, compose_files};
use kubecis::node::discovery::{Discovery, NodeType};
use kubecis::node::{Node, NodePath, Source};
use kubecis::output::{self, Format};
use kubecis::report::State;
use kubecis::sandbox::{Cache, Limits, Sandbox};
use kubecis::scan::{self, ScanOptions};
use kubecis::selection::{Decision, Selection};
use kubecis::skipconfig::SkipConfig;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "kubecis",
    version,
    about = "CIS Kubernetes Benchmark checks, each in its own WebAssembly sandbox"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan this node (or a node root) against a benchmark.
    Scan(Box<ScanArgs>),
    /// Show what a scan with the same flags would run, skip (and who skips it) and not apply.
    Plan(Box<ScanArgs>),
    /// Compose node reports (`scan --format json`) into a cluster report.
    Report(Box<ReportArgs>),
    /// Compare two scans (node or cluster reports): new failures, fixed, changed.
    /// Exits 1 when there are new failures.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the benchmarks kubecis knows, with Kubernetes versions, profiles and item counts.
    Benchmarks {
        /// Load more bundles from this directory (one subdirectory per benchmark).
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Benchmark version, or auto: the one for the node's Kubernetes version.
    #[arg(long, default_value = "auto")]
    benchmark: String,
    /// Profile of the benchmark (case-insensitive), e.g. rke-cis-1.4-permissive.
    #[arg(long)]
    profile: Option<String>,
    /// Skip list in Rancher's format: {"skip": {"<benchmark>": ["<id>", …]}}, or the security-scan-cfg ConfigMap.
    #[arg(long, value_name = "FILE")]
    skip_config: Option<PathBuf>,
    /// Only these items (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    check: Vec<String>,
    /// Only these groups or sections (comma-separated ids, e.g. 1.2,4).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    group: Vec<String>,
    /// Skip these items, groups or sections (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    skip: Vec<String>,
    /// Leave unscored items out.
    #[arg(long)]
    scored_only: bool,
    /// Scan a node filesystem at DIR (a host mounted at /host, or a snapshot) instead of this machine.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Where the node's /proc is, when not DIR/proc (e.g. /proc of a hostPID pod).
    #[arg(long, value_name = "DIR", requires = "root")]
    proc: Option<PathBuf>,
    /// Node types to check (comma-separated: master, etcd, controlplane, node, policies); default: from what runs.
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Name of the node in the report; default: the host name.
    #[arg(long)]
    node_name: Option<String>,
    /// The node's Kubernetes version, when it cannot be found on the node (e.g. 1.26.9).
    #[arg(long, value_name = "VERSION")]
    k8s_version: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with this code when any item fails (as kube-bench's --exit-code).
    #[arg(long, default_value_t = 0, value_name = "N")]
    exit_code: u8,
    /// Time each check may run, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    check_timeout_ms: u64,
    /// Memory each check may use, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    check_memory_mib: usize,
    /// Where precompiled components are kept.
    #[arg(long, value_name = "DIR", env = "KUBECIS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile components in memory, without the on-disk cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Load more bundles from this directory (one subdirectory per benchmark).
    #[arg(long, value_name = "DIR")]
    bundle_dir: Option<PathBuf>,
    /// Colour the text report: auto, always, never.
    #[arg(long, default_value = "auto")]
    color: String,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Node reports, or directories of them (*.json).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Report options: a Calico GlobalReport (spec.cis) or a file of those fields.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// text, json, or csv (one benchmark).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Which CSV: Rancher's report or one of Calico's exports.
    #[arg(long, value_enum, default_value = "rancher")]
    csv: CsvKind,
    /// Keep only this benchmark's nodes (needed for CSV when the inputs hold several).
    #[arg(long)]
    benchmark: Option<String>,
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Plan(args) => run_plan(&args),
        Command::Report(args) => run_report(&args),
        Command::Diff {
            old,
            new,
            format,
            output,
        } => run_diff(&old, &new, format, output.as_deref()),
        Command::Benchmarks { bundle_dir } => list_benchmarks(bundle_dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kubecis: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Everything a scan or a plan needs, read and validated before anything runs.
struct Prepared {
    library: Library,
    benchmark: String,
    node: Node,
    discovery: Discovery,
    options: ScanOptions,
}

/// The benchmark asked for, or with `auto` the one for the node's Kubernetes version.
fn choose_benchmark(
    args: &ScanArgs,
    library: &Library,
    discovery: &Discovery,
) -> Result<(String, String)> {
    if !args.benchmark.eq_ignore_ascii_case("auto") {
        return Ok((
            library.get(&args.benchmark)?.benchmark.clone(),
            "given with --benchmark".to_owned(),
        ));
    }
    let (version, from) = match &args.k8s_version {
        Some(v) => (v.clone(), "given with --k8s-version".to_owned()),
        None => discovery.kubernetes_version.clone().context(
            "--benchmark auto cannot tell this node's Kubernetes version (looked for: the running API server's or kubelet's `--version` on a live node, a control-plane static pod image tag, k3s's start-up log, RKE's docker containers, the kubelet's Debian package); state it with --k8s-version 1.NN or choose --benchmark",
        )?,
    };
    let (bundle, warning) = library.for_kubernetes(&version, &discovery.distribution.0)?;
    if let Some(w) = warning {
        eprintln!("kubecis: warning: {w}");
    }
    Ok((
        bundle.benchmark.clone(),
        format!(
            "auto: Kubernetes {version} ({from}) maps to {}",
            bundle.benchmark
        ),
    ))
}

/// The profile, skip lists and selection the flags ask for, checked against the bundle.
fn selection_for(args: &ScanArgs, bundle: &Bundle) -> Result<Selection> {
    let profile = args
        .profile
        .as_deref()
        .map(|p| bundle.profile(p))
        .transpose()?
        .cloned();
    let mut user_skips: Vec<(String, String)> = Vec::new();
    if let Some(path) = &args.skip_config {
        let config = SkipConfig::read(path)?;
        let source = format!("skip config {}", path.display());
        user_skips.extend(
            config
                .for_benchmark(&bundle.benchmark)
                .into_iter()
                .map(|id| (id, source.clone())),
        );
    }
    user_skips.extend(args.skip.iter().map(|id| (id.clone(), "--skip".to_owned())));
    let mut selection = Selection {
        profile,
        user_skips,
        only: args.check.iter().chain(&args.group).cloned().collect(),
        scored_only: args.scored_only,
    };
    for warning in selection.validate(bundle).map_err(anyhow::Error::msg)? {
        eprintln!("kubecis: warning: {warning}");
    }
    Ok(selection)
}

fn prepare(args: &ScanArgs) -> Result<Prepared> {
    let library = Library::load(args.bundle_dir.as_deref()).context("loading benchmark bundles")?;
    let targets = args
        .targets
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|t| {
                    NodeType::parse(t).with_context(|| {
                        format!("unknown target {t:?}; expected master, etcd, controlplane, node or policies")
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    // With a named benchmark, bad input is refused before the node is opened.
    let named = if args.benchmark.eq_ignore_ascii_case("auto") {
        None
    } else {
        Some(selection_for(args, library.get(&args.benchmark)?)?)
    };
    let node = match &args.root {
        Some(dir) => Node::at_root(dir, args.proc.as_deref()),
        None => Node::live(),
    }
    .context("opening the node")?;
    let discovery = Discovery::run(&node);
    if targets.is_none() && discovery.components().is_empty() {
        bail!(NOTHING_RUNS);
    }
    let (benchmark, benchmark_from) = choose_benchmark(args, &library, &discovery)?;
    let selection = match named {
        Some(selection) => selection,
        None => selection_for(args, library.get(&benchmark)?)?,
    };
    let options = ScanOptions {
        targets,
        node_name: args.node_name.clone().unwrap_or_else(|| node_name(&node)),
        selection,
        kubernetes_version: args.k8s_version.clone(),
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

const NOTHING_RUNS: &str = "no Kubernetes component runs on this node, so no item applies; scan a node root with --root DIR or name the node types with --targets";

fn run_scan(args: &ScanArgs) -> Result<ExitCode> {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        "auto" => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
        other => bail!("--color takes auto, always or never, not {other:?}"),
    };
    let Prepared {
        library,
        benchmark,
        node,
        discovery,
        options,
    } = prepare(args)?;
    let bundle = library.get(&benchmark)?;
    let limits = Limits {
        deadline: Duration::from_millis(args.check_timeout_ms.max(1)),
        memory_bytes: args.check_memory_mib.max(1) << 20,
        ..Limits::default()
    };
    let cache = if args.no_cache {
        None
    } else {
        args.cache_dir
            .clone()
            .or_else(Cache::default_dir)
            .map(Cache::new)
    };
    let mut sandbox = Sandbox::new(limits, cache)?;
    scan::prepare(&mut sandbox, bundle)?;

    let report = scan::scan(
        bundle,
        Arc::new(node),
        Arc::new(discovery),
        &sandbox,
        &options,
    );
    if report.node.node_types.is_empty() {
        bail!(NOTHING_RUNS);
    }
    let text = output::render(&report, args.format, color);
    match &args.output {
        Some(path) => output::write_atomically(path, &text)
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    let failed = report.totals.get(&State::Fail).copied().unwrap_or(0) > 0;
    Ok(ExitCode::from(if failed { args.exit_code } else { 0 }))
}

fn run_plan(args: &ScanArgs) -> Result<ExitCode> {
    let prepared = prepare(args)?;
    let bundle = prepared.library.get(&prepared.benchmark)?;
    let (node_types, from) = scan::node_types(&prepared.options, &prepared.discovery);
    if node_types.is_empty() {
        bail!(NOTHING_RUNS);
    }
    let planned = scan::plan(bundle, &node_types, &prepared.options.selection);
    let text = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&planned)?;
            s.push('\n');
            s
        }
        Format::Text => {
            let mut s = String::new();
            let types: Vec<&str> = node_types.iter().map(|t| t.as_str()).collect();
            let profile = prepared
                .options
                .selection
                .profile
                .as_ref()
                .map_or("none", |p| p.name.as_str());
            s.push_str(&format!(
                "{} ({}), profile {profile}; node {} checked as {} ({from})\n",
                bundle.title,
                bundle.benchmark,
                prepared.options.node_name,
                types.join(", ")
            ));
            let count =
                |f: fn(&Decision) -> bool| planned.iter().filter(|p| f(&p.decision)).count();
            s.push_str(&format!(
                "{} run, {} skipped, {} not applicable\n\n",
                count(|d| matches!(d, Decision::Run)),
                count(|d| matches!(d, Decision::Skip { .. })),
                count(|d| matches!(d, Decision::NotApplicable { .. })),
            ));
            for p in &planned {
                let what = match &p.decision {
                    Decision::Run => "run".to_owned(),
                    Decision::Skip { by, reason } => format!("skip ({by}): {reason}"),
                    Decision::NotApplicable { reason } => format!("not applicable: {reason}"),
                    Decision::Omit => continue,
                };
                s.push_str(&format!(
                    "{:<8} {:<13} {} — {what}\n",
                    p.id,
                    p.node_type.as_str(),
                    p.title
                ));
            }
            s
        }
        other => bail!("plan prints text or json, not {other:?}"),
    };
    match &args.output {
        Some(path) => output::write_atomically(path, &text)
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Write to the file atomically, or to standard output.
fn emit(text: &str, output: Option<&std::path::Path>) -> Result<()> {
    match output {
        Some(path) => output::write_atomically(path, text)
            .with_context(|| format!("writing {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

fn run_report(args: &ReportArgs) -> Result<ExitCode> {
    let options = match &args.config {
        Some(path) => ReportOptions::read(path).map_err(anyhow::Error::msg)?,
        None => ReportOptions::default(),
    };
    let mut files = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading {}", input.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    let mut report = compose_files(&files, &options)?.finish();
    if let Some(b) = &args.benchmark {
        report
            .groups
            .retain(|g| g.benchmark.eq_ignore_ascii_case(b));
        if report.groups.is_empty() {
            bail!("no input is a report of {b}");
        }
    }
    let text = match args.format {
        Format::Text => cluster::render::render_text(&report),
        Format::Json => json_text(&report)?,
        Format::Csv => match report.groups.as_slice() {
            [group] => cluster::render::render_csv(group, args.csv),
            groups => {
                let held: Vec<String> = groups
                    .iter()
                    .map(|g| format!("{} ({} nodes)", g.benchmark, g.nodes.len()))
                    .collect();
                bail!(
                    "the inputs hold {}; choose one with --benchmark for CSV",
                    held.join(", ")
                );
            }
        },
        other => bail!("report prints text, json or csv, not {other:?}"),
    };
    emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

fn run_diff(
    old: &std::path::Path,
    new: &std::path::Path,
    format: Format,
    output: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let old = Snapshot::read(old).map_err(anyhow::Error::msg)?;
    let new = Snapshot::read(new).map_err(anyhow::Error::msg)?;
    let d = cluster::diff::diff(&old, &new).map_err(anyhow::Error::msg)?;
    let text = match format {
        Format::Text => cluster::diff::render_text(&d),
        Format::Json => json_text(&d)?,
        other => bail!("diff prints text or json, not {other:?}"),
    };
    emit(&text, output)?;
    Ok(ExitCode::from(u8::from(!d.new_failures.is_empty())))
}

fn list_benchmarks(bundle_dir: Option<PathBuf>) -> Result<ExitCode> {
    let library = Library::load(bundle_dir.as_deref()).context("loading benchmark bundles")?;
    println!(
        "{:<14} {:<22} {:>6}  {:<50} profiles",
        "benchmark", "kubernetes", "items", "title"
    );
    for b in library.bundles() {
        let profiles: Vec<String> = b
            .profiles
            .iter()
            .map(|p| {
                format!(
                    "{} ({} skipped, {} not applicable)",
                    p.name,
                    p.skip.len(),
                    p.not_applicable.len()
                )
            })
            .collect();
        println!(
            "{:<14} {:<22} {:>6}  {:<50} {}",
            b.benchmark,
            b.kubernetes.join(","),
            b.items().count(),
            b.title,
            if profiles.is_empty() {
                "-".to_owned()
            } else {
                profiles.join("; ")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The node's host name: the kernel's on a live node, `/etc/hostname` in a node root.
fn node_name(node: &Node) -> String {
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
