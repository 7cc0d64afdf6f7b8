//! `kubecis diff`: what changed between two scans.

use crate::flags::{Gate, OutputArgs};
use anyhow::Result;
use kubecis_report::cluster::diff::{self, Snapshot};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The earlier scan: a node report (`scan --format json`) or a cluster report (`report --format json`).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later scan, of the same benchmark or another version of it (items are paired by title, then id).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: Gate,
}

pub fn run_diff(args: &DiffArgs) -> Result<ExitCode> {
    let old = Snapshot::read(&args.old)?;
    let new = Snapshot::read(&args.new)?;
    let d = diff::diff(&old, &new);
    let text = match args.format {
        DiffFormat::Text => diff::render_text(&d),
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&d)?;
            s.push('\n');
            s
        }
    };
    args.output.emit(&text)?;
    // The gate trips on an item that entered a --fail-on state.
    let tripped = d
        .new_failures
        .iter()
        .chain(&d.changed)
        .filter(|c| c.new.is_some_and(|s| args.gate.trips(s)) && c.old != c.new)
        .count();
    Ok(args.gate.exit(tripped, 1))
}
