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
                let default = b
                    .default_profile
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(&p.name));
                format!(
                    "{}{} ({} skipped, {} not applicable)",
                    p.name,
                    if default { " [default]" } else { "" },
                    p.skip.len(),
                    p.not_applicable.len()
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<14} {:<22} {:>6}  {:<50} {}",
            b.benchmark,
            versions(&b.kubernetes),
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

/// Kubernetes minor versions as runs: `1.19-1.21,1.24`.
fn versions(list: &[String]) -> String {
    let minor = kubecis_engine::bundle::minor_version;
    let mut runs: Vec<(String, String)> = Vec::new();
    for v in list {
        match (runs.last_mut(), minor(v)) {
            (Some((_, last)), Some((major, m)))
                if minor(last).is_some_and(|(lm, ln)| lm == major && ln + 1 == m) =>
            {
                *last = v.clone();
            }
            _ => runs.push((v.clone(), v.clone())),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                a.clone()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_shown_as_runs() {
        let v = |l: &[&str]| super::versions(&l.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(v(&["1.26", "1.27", "1.28"]), "1.26-1.28");
        assert_eq!(v(&["1.13"]), "1.13");
        assert_eq!(v(&["1.19", "1.20", "1.22"]), "1.19-1.20,1.22");
    }
}
