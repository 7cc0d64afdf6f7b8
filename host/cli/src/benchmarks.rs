//! `kubecis benchmarks`: what kubecis can scan against.

use crate::flags::print_stdout;
use anyhow::Result;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run_benchmarks(bundle_dir: Option<&Path>) -> Result<ExitCode> {
    let library = crate::target::load_library(bundle_dir, &[])?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<22} {:>6}  {:<50} profiles",
        "benchmark", "kubernetes", "items", "title"
    );
    for b in library.bundles()? {
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
        let _ = writeln!(
            out,
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
    print_stdout(&kubecis_report::output::printable_lines(&out))?;
    Ok(ExitCode::SUCCESS)
}
