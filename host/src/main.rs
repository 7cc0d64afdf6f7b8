//! The `kubecis` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use kubecis::bundle::Library;
use kubecis::node::Node;
use kubecis::node::discovery::NodeType;
use kubecis::output::{self, Format};
use kubecis::sandbox::{Cache, Limits, Sandbox};
use kubecis::scan::{self, ScanOptions};
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
    /// List the benchmarks kubecis knows.
    Benchmarks {
        /// Load more bundles from this directory (one subdirectory per benchmark).
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Benchmark version.
    #[arg(long, default_value = "cis-1.8")]
    benchmark: String,
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
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(*args),
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

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    let library = Library::load(args.bundle_dir.as_deref()).context("loading benchmark bundles")?;
    let bundle = library.get(&args.benchmark)?;
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

    let node = match &args.root {
        Some(dir) => Node::at_root(dir, args.proc.as_deref()),
        None => Node::live(),
    }
    .context("opening the node")?;

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

    let node_name = args.node_name.clone().unwrap_or_else(host_name);
    let options = ScanOptions { targets, node_name };
    let report = scan::scan(bundle, Arc::new(node), &sandbox, &options);
    if report.node.node_types.is_empty() {
        bail!(
            "no Kubernetes component runs on this node, so no item applies; scan a node root with --root DIR or name the node types with --targets"
        );
    }
    let text = output::render(&report, args.format, color);
    match &args.output {
        Some(path) => output::write_atomically(path, &text)
            .with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn list_benchmarks(bundle_dir: Option<PathBuf>) -> Result<ExitCode> {
    let library = Library::load(bundle_dir.as_deref()).context("loading benchmark bundles")?;
    println!(
        "{:<14} {:<22} {:>6}  title",
        "benchmark", "kubernetes", "items"
    );
    for b in library.bundles() {
        println!(
            "{:<14} {:<22} {:>6}  {}",
            b.benchmark,
            b.kubernetes.join(","),
            b.items().count(),
            b.title
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
