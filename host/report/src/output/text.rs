//! The text report: a header that says what was scanned and why this
//! benchmark, sections with per-item states and evidence, remediation of what
//! failed or needs a person, and totals per section.

use crate::report::{CheckResult, Report, State};
use kubecis_model::NodeType;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How the text is laid out: colour (a terminal that shows it) and the width
/// to wrap at (`COLUMNS` or the terminal's; `None` keeps lines whole).
#[derive(Debug, Clone, Copy, Default)]
pub struct TextStyle {
    pub color: bool,
    pub width: Option<usize>,
}

impl TextStyle {
    fn state(&self, s: State) -> String {
        let label = match s {
            State::Pass => "PASS",
            State::Fail => "FAIL",
            State::Warn => "WARN",
            State::Skip => "SKIP",
            State::NotApplicable => "N/A ",
            State::Error => "ERR ",
        };
        if !self.color {
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
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// `text` after `indent` spaces, wrapped at the width when there is one.
    fn indented(&self, out: &mut String, indent: usize, text: &str) {
        let pad = " ".repeat(indent);
        for line in text.lines() {
            let line = printable(line);
            match self.width {
                Some(width) if width > indent + 20 => {
                    for part in wrap(&line, width - indent) {
                        let _ = writeln!(out, "{pad}{part}");
                    }
                }
                _ => {
                    let _ = writeln!(out, "{pad}{line}");
                }
            }
        }
    }

    /// An item's line: its state label, then `text` wrapped under itself.
    fn item(&self, out: &mut String, state: State, text: &str) {
        const LABEL: usize = 7; // "[PASS] "
        let text = printable(text);
        let parts = match self.width {
            Some(width) if width > LABEL + 20 => wrap(&text, width - LABEL),
            _ => vec![text],
        };
        for (i, part) in parts.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{} {part}", self.state(state));
            } else {
                let _ = writeln!(out, "{:LABEL$}{part}", "");
            }
        }
    }
}

/// Text from the node or a bundle, safe for a terminal: control characters
/// (escape sequences that could rewrite the screen) shown as `\u{..}`.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// [`printable`], line by line: the line breaks stay.
pub fn printable_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&printable(body));
        out.push_str(end);
    }
    out
}

/// Words of `line` in lines of at most `width` characters (a longer word stands alone).
fn wrap(line: &str, width: usize) -> Vec<String> {
    let lead = line.len() - line.trim_start().len();
    let (indent, rest) = line.split_at(lead);
    let mut lines = Vec::new();
    let mut current = indent.to_owned();
    for word in rest.split(' ') {
        let used = current.chars().count();
        if used > lead && used + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut current, indent.to_owned()));
        } else if used > lead {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// `1 item`, `2 items`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What a section's node type is about, in words.
fn applies_to(kind: NodeType) -> &'static str {
    match kind {
        NodeType::Master => "master nodes",
        NodeType::Etcd => "etcd nodes",
        NodeType::Controlplane => "control-plane nodes",
        NodeType::Node => "worker nodes (node)",
        NodeType::Policies => "cluster policies (checked on master nodes)",
    }
}

/// Seconds since the epoch as UTC time, e.g. `2026-12-01T03:47:26Z`.
fn utc(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}

fn header(out: &mut String, report: &Report, style: &TextStyle) {
    let node = &report.node;
    let types: Vec<&str> = node.node_types.iter().map(|t| t.as_str()).collect();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{} ({})",
            printable(&report.benchmark_title),
            printable(&report.benchmark)
        ))
    );
    let mut lines = vec![
        format!(
            "kubecis {}, scan of {} taking {} ms",
            report.tool_version,
            utc(report.started_at),
            report.duration_ms
        ),
        format!(
            "node {} ({}, {}), checked as {} ({}); running: {}",
            node.name,
            node.source,
            node.distribution,
            if types.is_empty() {
                "nothing".to_owned()
            } else {
                types.join(", ")
            },
            node.node_types_from,
            if node.components.is_empty() {
                "none".to_owned()
            } else {
                node.components.join(", ")
            },
        ),
        match (&node.kubernetes_version, &node.kubernetes_version_from) {
            (Some(v), Some(from)) => format!("Kubernetes {v} ({from})"),
            (Some(v), None) => format!("Kubernetes {v}"),
            _ => "Kubernetes version unknown".to_owned(),
        },
    ];
    if !report.benchmark_from.is_empty() {
        lines.push(format!("benchmark: {}", report.benchmark_from));
    }
    lines.push(format!(
        "profile: {}",
        report.profile.as_deref().unwrap_or("none")
    ));
    if !report.bundle_origin.is_empty() {
        let digest = report.bundle_digest.get(..16).unwrap_or("unknown");
        lines.push(format!(
            "bundle: {}, sha256 {digest}…",
            report.bundle_origin
        ));
        // Who vouches for a bundle from outside (a built-in one is the binary's).
        if !report.bundle_signer.is_empty() && report.bundle_signer != "built-in" {
            lines.push(format!("signer: {}", report.bundle_signer));
        }
    }
    for line in lines {
        style.indented(out, 0, &line);
    }
}

/// One item's evidence in a line or two, each fact once.
fn detail(r: &CheckResult) -> Vec<String> {
    let mut lines = Vec::new();
    match r.state {
        State::Pass => {}
        State::Skip => match r.skipped_by.as_deref() {
            Some(by) if by.starts_with("profile") => {
                lines.push(format!("skipped by {by}: {}", r.reason));
            }
            Some(by) => lines.push(format!("skipped by the {by}")),
            None => lines.push(format!("skipped: {}", r.reason)),
        },
        _ => {
            if !r.actual.is_empty() {
                lines.push(format!("found: {}", r.actual));
            }
            if !r.reason.is_empty() && !r.actual.contains(r.reason.as_str()) {
                lines.push(r.reason.clone());
            }
        }
    }
    lines
}

pub fn render_text(report: &Report, style: TextStyle) -> String {
    let mut out = String::new();
    header(&mut out, report, &style);

    let mut section = "";
    let mut group = "";
    for r in &report.results {
        let checked = report.node.node_types.contains(&r.node_type);
        if r.section != section {
            section = &r.section;
            let _ = writeln!(
                out,
                "\n{}",
                style.bold(&format!(
                    "== {} [{}] ==",
                    printable(&r.section),
                    r.node_type
                ))
            );
            if !checked {
                let n = report
                    .results
                    .iter()
                    .filter(|x| x.section == r.section)
                    .count();
                style.item(
                    &mut out,
                    State::NotApplicable,
                    &format!(
                        "{} for {}, which this node is not checked as",
                        count(n, "item"),
                        applies_to(r.node_type)
                    ),
                );
            }
        }
        if !checked {
            continue;
        }
        if r.group != group {
            group = &r.group;
            let _ = writeln!(out, "-- {}", printable(&r.group));
        }
        style.item(&mut out, r.state, &format!("{} {}", r.id, r.title));
        for line in detail(r) {
            style.indented(&mut out, 7, &line);
        }
    }

    // kube-bench prints remediation for FAIL and WARN: both need someone to act.
    let to_act: Vec<&CheckResult> = report
        .results
        .iter()
        .filter(|r| matches!(r.state, State::Fail | State::Warn) && !r.remediation.is_empty())
        .collect();
    if !to_act.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("== Remediations =="));
        for r in to_act {
            style.item(&mut out, r.state, &format!("{} {}", r.id, r.title));
            if !r.expected.is_empty() {
                style.indented(&mut out, 2, &format!("expected: {}", r.expected));
            }
            if !r.actual.is_empty() {
                style.indented(&mut out, 2, &format!("found:    {}", r.actual));
            }
            style.indented(&mut out, 2, &r.remediation);
            out.push('\n');
        }
    }

    summary(&mut out, report, &style);
    out
}

/// Totals per section, then for the whole scan.
fn summary(out: &mut String, report: &Report, style: &TextStyle) {
    let _ = writeln!(out, "\n{}", style.bold("== Summary =="));
    let mut sections: Vec<(&str, &str, BTreeMap<State, usize>)> = Vec::new();
    for r in &report.results {
        if sections.last().is_none_or(|s| s.0 != r.section_id) {
            sections.push((&r.section_id, &r.section, BTreeMap::new()));
        }
        *sections
            .last_mut()
            .expect("pushed above")
            .2
            .entry(r.state)
            .or_default() += 1;
    }
    let columns = [
        (State::Pass, "pass"),
        (State::Fail, "fail"),
        (State::Warn, "warn"),
        (State::Skip, "skip"),
        (State::NotApplicable, "n/a"),
        (State::Error, "error"),
    ];
    let mut head = format!("{:<44}", "section");
    for (_, name) in columns {
        let _ = write!(head, " {name:>5}");
    }
    let _ = writeln!(out, "{}", head.trim_end());
    for (id, title, counts) in &sections {
        let mut name = printable(&format!("{id} {title}"));
        if name.chars().count() > 44 {
            name = name.chars().take(43).collect::<String>() + "…";
        }
        let mut line = format!("{name:<44}");
        for (state, _) in columns {
            let _ = write!(line, " {:>5}", counts.get(&state).copied().unwrap_or(0));
        }
        let _ = writeln!(out, "{line}");
    }
    let parts: Vec<String> = report
        .totals
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(
        out,
        "\n{}: {}",
        count(report.results.len(), "check"),
        parts.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_keeping_the_indent() {
        assert_eq!(
            wrap("  alpha beta gamma delta", 12),
            ["  alpha beta", "  gamma", "  delta"]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 8),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("ok\x1b[2Jgone"), "ok\\u{1b}[2Jgone");
        assert_eq!(printable("plain"), "plain");
    }

    #[test]
    fn counts_and_articles_read_as_english() {
        assert_eq!(count(1, "item"), "1 item");
        assert_eq!(count(3, "item"), "3 items");
    }

    #[test]
    fn epoch_seconds_in_utc() {
        assert_eq!(utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
