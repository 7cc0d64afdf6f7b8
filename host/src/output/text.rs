//! The text report: sections, per-item states, totals, remediation of what failed.

use crate::report::{Report, State};
use std::fmt::Write;

struct Paint {
    on: bool,
}

impl Paint {
    fn state(&self, s: State) -> String {
        let label = match s {
            State::Pass => "PASS",
            State::Fail => "FAIL",
            State::Warn => "WARN",
            State::Skip => "SKIP",
            State::NotApplicable => "N/A ",
            State::Error => "ERR ",
        };
        if !self.on {
            return format!("[{label}]");
        }
        let code = match s {
            State::Pass => "32",
            State::Fail => "31",
            State::Warn => "33",
            State::Error => "35",
            State::Skip | State::NotApplicable => "90",
        };
        format!("\x1b[{code}m[{label}]\x1b[0m")
    }

    fn bold(&self, text: &str) -> String {
        if self.on {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

pub fn render_text(report: &Report, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    let types: Vec<&str> = report.node.node_types.iter().map(|t| t.as_str()).collect();
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{} ({})",
            report.benchmark_title, report.benchmark
        ))
    );
    let _ = writeln!(
        out,
        "node {} ({}, {}) checked as {} ({}); components running: {}",
        report.node.name,
        report.node.source,
        report.node.distribution,
        if types.is_empty() {
            "nothing".to_owned()
        } else {
            types.join(", ")
        },
        report.node.node_types_from,
        if report.node.components.is_empty() {
            "none".to_owned()
        } else {
            report.node.components.join(", ")
        },
    );

    let mut section = "";
    let mut group = "";
    for r in &report.results {
        let checked = report.node.node_types.contains(&r.node_type);
        if r.section != section {
            section = &r.section;
            let _ = writeln!(
                out,
                "\n{}",
                paint.bold(&format!("== {} [{}] ==", r.section, r.node_type))
            );
            if !checked {
                let n = report
                    .results
                    .iter()
                    .filter(|x| x.section == r.section)
                    .count();
                let _ = writeln!(
                    out,
                    "{} {n} items: this is not a {} node",
                    paint.state(State::NotApplicable),
                    r.node_type
                );
            }
        }
        if !checked {
            continue;
        }
        if r.group != group {
            group = &r.group;
            let _ = writeln!(out, "-- {}", r.group);
        }
        let _ = writeln!(out, "{} {} {}", paint.state(r.state), r.id, r.title);
        let detail = match r.state {
            State::Pass => None,
            State::Skip => Some(format!(
                "skipped by {}: {}",
                r.skipped_by.as_deref().unwrap_or("?"),
                r.reason
            )),
            State::Fail | State::Warn if !r.actual.is_empty() => {
                Some(format!("found: {}", r.actual))
            }
            _ => (!r.reason.is_empty()).then(|| r.reason.clone()),
        };
        if let Some(d) = detail {
            let _ = writeln!(out, "       {d}");
        }
    }

    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.state == State::Fail)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\n{}", paint.bold("== Remediations =="));
        for r in failed {
            let _ = writeln!(out, "{} {}", r.id, r.title);
            let _ = writeln!(out, "  expected: {}", r.expected);
            let _ = writeln!(out, "  found:    {}", r.actual);
            for line in r.remediation.lines() {
                let _ = writeln!(out, "  {line}");
            }
            out.push('\n');
        }
    }

    let _ = writeln!(out, "\n{}", paint.bold("== Summary =="));
    let parts: Vec<String> = report
        .totals
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(out, "{} checks: {}", report.results.len(), parts.join(", "));
    out
}
