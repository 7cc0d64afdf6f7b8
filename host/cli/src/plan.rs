//! `kubecis plan`: what a scan with the same flags would run, skip (and who
//! skips it) and not apply, and what each check may read.

use crate::flags::OutputArgs;
use crate::target::{Target, no_component, prepare};
use anyhow::{Result, bail};
use kubecis_engine::node::discovery::NodeType;
use kubecis_engine::scan;
use kubecis_engine::selection::Decision;
use kubecis_report::output::{count, printable_lines};
use std::process::ExitCode;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Everything a scan or a plan needs, read and validated before anything runs.
pub fn run_plan(args: &PlanArgs) -> Result<ExitCode> {
    let prepared = prepare(&args.target, true)?;
    let bundle = prepared.library.get(&prepared.benchmark)?;
    let (mut node_types, mut from) = scan::node_types(&prepared.options, &prepared.discovery);
    if node_types.is_empty() {
        // Planning ahead of a node: show every node type of the benchmark.
        node_types = NodeType::ALL.to_vec();
        from = format!(
            "{}; planned for every node type",
            no_component(&prepared.node)
        );
    }
    let planned = scan::plan(
        bundle,
        &prepared.options.node_name,
        &node_types,
        &prepared.options.selection,
        &prepared.discovery.vars,
    );
    if planned.is_empty() {
        bail!(
            "the selection (--check, --group, --scored-only) leaves no item of {} to plan",
            bundle.benchmark
        );
    }
    let text = match args.format {
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&planned)?;
            s.push('\n');
            s
        }
        PlanFormat::Text => {
            use std::fmt::Write;
            let mut s = String::new();
            let types: Vec<&str> = node_types.iter().map(|t| t.as_str()).collect();
            let profile = prepared
                .options
                .selection
                .profile
                .as_ref()
                .map_or("none", |p| p.name.as_str());
            let _ = writeln!(
                s,
                "{} ({}), profile {profile}; node {} checked as {} ({from})",
                bundle.title,
                bundle.benchmark,
                prepared.options.node_name,
                types.join(", ")
            );
            let n = |f: fn(&Decision) -> bool| planned.iter().filter(|p| f(&p.decision)).count();
            let _ = writeln!(
                s,
                "{} to run, {} skipped, {} not applicable\n",
                count(n(|d| matches!(d, Decision::Run)), "item"),
                n(|d| matches!(d, Decision::Skip { .. })),
                n(|d| matches!(d, Decision::NotApplicable { .. })),
            );
            for p in &planned {
                let what = match &p.decision {
                    Decision::Run => "run".to_owned(),
                    Decision::Skip { by, reason } => format!("skip ({by}): {reason}"),
                    Decision::NotApplicable { reason } => format!("not applicable: {reason}"),
                    Decision::Omit => continue,
                };
                let _ = writeln!(
                    s,
                    "{:<8} {:<13} {} — {what}",
                    p.id,
                    p.node_type.as_str(),
                    p.title
                );
                if matches!(p.decision, Decision::Run) {
                    for grant in &p.grants {
                        let _ = writeln!(s, "{:<23}may read: {grant}", "");
                    }
                    if let Some(memory) = &p.memory {
                        let _ = writeln!(s, "{:<23}may use: {memory}", "");
                    }
                }
            }
            s
        }
    };
    // Titles may come from a bundle directory: shown, never obeyed.
    args.output.emit(&printable_lines(&text))?;
    Ok(ExitCode::SUCCESS)
}
