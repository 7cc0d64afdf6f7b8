//! `kubecis report`: node reports composed into a cluster report.

use crate::flags::{EXIT_NOTHING_JUDGED, Gate, OutputArgs};
use anyhow::{Context, Result, bail};
use kubecis_model::report::State;
use kubecis_report::cluster::render::CsvKind;
use kubecis_report::cluster::{self, ClusterGroup, ReportOptions, compose_files};
use kubecis_report::output::{count, printable_lines};
use std::path::PathBuf;
use std::process::ExitCode;

/// The CSV exports, as flag values.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvChoice {
    /// Rancher's report: ID,Description,Remediation,State of Test,Node type,Nodes,Passed_Nodes,Failed_Nodes.
    Rancher,
    /// Calico: every test of every node.
    AllTests,
    /// Calico: failed tests of every node.
    FailedTests,
    /// Calico: one row per node.
    NodeSummary,
    /// Calico: one row for the cluster.
    TotalSummary,
}

impl From<CsvChoice> for CsvKind {
    fn from(c: CsvChoice) -> CsvKind {
        match c {
            CsvChoice::Rancher => CsvKind::Rancher,
            CsvChoice::AllTests => CsvKind::AllTests,
            CsvChoice::FailedTests => CsvKind::FailedTests,
            CsvChoice::NodeSummary => CsvKind::NodeSummary,
            CsvChoice::TotalSummary => CsvKind::TotalSummary,
        }
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    /// kubecis.cluster/v1.
    Json,
    /// One benchmark and profile: choose it with --benchmark and --profile when the inputs hold several.
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Node reports (`kubecis scan --format json`), or directories of them (*.json).
    #[arg(required = true, value_name = "REPORTS")]
    pub inputs: Vec<PathBuf>,
    /// Report options: a Calico GlobalReport (spec.cis) or a file of those fields.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Which CSV: Rancher's report or one of Calico's exports.
    #[arg(long, value_enum, default_value = "rancher")]
    pub csv: CsvChoice,
    /// Keep only this benchmark's nodes.
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Keep only nodes scanned with this profile (`none`: without one).
    #[arg(long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: Gate,
}

/// The report files named, directories read for their `*.json`.
fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading {}", input.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            if found.is_empty() {
                bail!(
                    "{} holds no node report (*.json); expected files of `kubecis scan --format json`",
                    input.display()
                );
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn group_name(g: &ClusterGroup) -> String {
    match &g.profile {
        Some(p) => format!("{} with profile {p}", g.benchmark),
        None => format!("{} without a profile", g.benchmark),
    }
}

pub fn run_report(args: &ReportArgs, fail_on_given: bool) -> Result<ExitCode> {
    let options = match &args.config {
        Some(path) => ReportOptions::read(path)?,
        None => ReportOptions::default(),
    };
    let files = input_files(&args.inputs)?;
    let mut report = compose_files(&files, &options)?.finish();
    let held: Vec<String> = report.groups.iter().map(group_name).collect();
    if let Some(b) = &args.benchmark {
        report
            .groups
            .retain(|g| g.benchmark.eq_ignore_ascii_case(b));
    }
    if let Some(p) = &args.profile {
        report.groups.retain(|g| match &g.profile {
            Some(q) => q.eq_ignore_ascii_case(p),
            None => p.eq_ignore_ascii_case("none"),
        });
    }
    if report.groups.is_empty() {
        bail!(
            "no input matches --benchmark/--profile; the inputs hold {}",
            held.join("; ")
        );
    }
    let text = match args.format {
        // Node names and values come from report files: shown, never obeyed.
        ReportFormat::Text => printable_lines(&cluster::render::render_text(&report)),
        ReportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
        ReportFormat::Csv => match report.groups.as_slice() {
            [group] => cluster::render::render_csv(group, args.csv.into()),
            groups => {
                let held: Vec<String> = groups
                    .iter()
                    .map(|g| format!("{} ({})", group_name(g), count(g.nodes.len(), "node")))
                    .collect();
                bail!(
                    "a CSV holds one benchmark and profile, and the inputs hold {}; choose one with --benchmark B and --profile P (or --profile none)",
                    held.join("; ")
                );
            }
        },
    };
    args.output.emit(&text)?;

    // Every node's state of every item; an expected node that did not report is an error.
    let states = report.groups.iter().flat_map(|g| {
        g.items.iter().flat_map(|i| {
            i.results
                .iter()
                .map(|r| r.state)
                .chain(i.missing_nodes.iter().map(|_| State::Error))
        })
    });
    let (mut judged, mut tripped) = (0, 0);
    for state in states {
        judged += usize::from(matches!(state, State::Pass | State::Fail | State::Warn));
        tripped += usize::from(args.gate.trips(state));
    }
    if judged == 0 {
        eprintln!("kubecis: nothing was judged: no node passed, failed or warned on any item");
        return Ok(ExitCode::from(EXIT_NOTHING_JUDGED));
    }
    Ok(args.gate.exit(tripped, Gate::report_default(fail_on_given)))
}
