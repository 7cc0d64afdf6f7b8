//! The `kubecis` command line: one module per command, flag groups shared.

mod agent;
mod benchmarks;
mod bundle;
mod client;
mod diff;
mod flags;
mod plan;
mod remote;
mod report;
mod scan;
mod serve;
mod target;
mod waivers;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kubecis",
    version,
    about = "CIS Kubernetes Benchmark checks, each in its own WebAssembly sandbox",
    after_help = "Exit status: 0 success; N (--exit-code) when an item is in a --fail-on state; 2 bad input or an error; 3 a scan or report that judged nothing."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan this node (or a node root) against a benchmark.
    Scan(Box<scan::ScanArgs>),
    /// Show what a scan with the same flags would run, skip (and who skips it) and not apply.
    Plan(Box<plan::PlanArgs>),
    /// Compose node reports (`scan --format json`) into a cluster report.
    Report(Box<report::ReportArgs>),
    /// Compare two scans (node or cluster reports, one benchmark or two versions):
    /// new failures, fixed, changed. Exits 1 when an item entered a --fail-on state.
    Diff(Box<diff::DiffArgs>),
    /// List the benchmarks kubecis knows, with Kubernetes versions, profiles and item counts.
    Benchmarks {
        /// Load more bundles from this directory (one subdirectory per benchmark).
        #[arg(long, value_name = "DIR")]
        bundle_dir: Option<PathBuf>,
    },
    /// Bundle packages: keygen, pack, sign, verify, inspect.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Waivers files: which waivers stop holding soon.
    #[command(subcommand)]
    Waivers(waivers::WaiversCommand),
    /// Run the service: scheduled and on-demand cluster scans by agents, stored reports, job status, HTTP API.
    Serve(Box<serve::ServeArgs>),
    /// Run on a node (a DaemonSet): take scans from a server, run them warm, upload the node reports.
    Agent(Box<agent::AgentArgs>),
    /// A server's composed reports: list, get (any format), delete.
    Reports(Box<remote::RemoteArgs<remote::ReportsCommand>>),
    /// A server's scans: list, run now, job status.
    Scans(Box<remote::RemoteArgs<remote::ScansCommand>>),
    /// A server's jobs.
    Jobs(Box<remote::JobsArgs>),
}

/// `--version`: the commit, the sandbox's wasmtime and the built-in bundles.
fn long_version() -> String {
    use kubecis_builtin::{BUNDLE_DIGESTS, COMMIT, COMPONENTS, WASMTIME_VERSION};
    let mut text = format!(
        "{} (commit {COMMIT})\nwasmtime {WASMTIME_VERSION}\nbuilt-in bundles:",
        env!("CARGO_PKG_VERSION")
    );
    for (bundle, digest) in BUNDLE_DIGESTS {
        text.push_str(&format!("\n  {bundle:<14} sha256:{digest}"));
    }
    text.push_str("\nbuilt-in check components:");
    for (name, _, digest) in COMPONENTS {
        text.push_str(&format!("\n  {name:<14} sha256:{digest}"));
    }
    text
}

fn main() -> ExitCode {
    // Built once per run; the text lives as long as the process.
    let command = Cli::command().long_version(&*Box::leak(long_version().into_boxed_str()));
    let matches = command.get_matches();
    let sub = matches.subcommand().map(|(_, m)| m);
    let fail_on_given = sub.is_some_and(|m| flags::given(m, "fail_on"));
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run_scan(&args, fail_on_given),
        Command::Plan(args) => plan::run_plan(&args),
        Command::Report(args) => report::run_report(&args, fail_on_given),
        Command::Diff(args) => diff::run_diff(&args),
        Command::Benchmarks { bundle_dir } => benchmarks::run_benchmarks(bundle_dir.as_deref()),
        Command::Waivers(command) => waivers::run_waivers(&command),
        Command::Bundle(command) => bundle::run_bundle(&command),
        Command::Serve(args) => serve::run_serve(&args),
        Command::Agent(args) => agent::run_agent(&args),
        Command::Reports(args) => remote::run_reports(&args),
        Command::Scans(args) => remote::run_scans(&args),
        Command::Jobs(args) => remote::run_jobs(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "kubecis: {}",
                kubecis_report::output::printable(&format!("{e:#}"))
            );
            ExitCode::from(flags::EXIT_USAGE)
        }
    }
}
