//! JUnit XML: a test suite per group, a test case per item. A fail is a
//! failure, an error an error; skip, notApplicable and warn are skipped with
//! their reason.

use crate::report::{CheckResult, Report, State};
use std::fmt::Write;

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0's Char excludes most control characters, even
            // escaped, and U+FFFE and U+FFFF: a parser refuses the file.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn why(r: &CheckResult) -> String {
    match (r.reason.is_empty(), r.actual.is_empty()) {
        (false, _) => r.reason.clone(),
        (true, false) => format!("found: {}", r.actual),
        (true, true) => r.state.to_string(),
    }
}

pub fn render_junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |state: State| report.results.iter().filter(|r| r.state == state).count();
    let skipped = count(State::Skip) + count(State::NotApplicable) + count(State::Warn);
    let name = match &report.profile {
        Some(p) => format!("kubecis {} ({p}) on {}", report.benchmark, report.node.name),
        None => format!("kubecis {} on {}", report.benchmark, report.node.name),
    };
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        esc(&name),
        report.results.len(),
        count(State::Fail),
        count(State::Error),
        report.duration_ms as f64 / 1000.0,
    );
    let mut groups: Vec<&str> = Vec::new();
    for r in &report.results {
        if !groups.contains(&r.group_id.as_str()) {
            groups.push(&r.group_id);
        }
    }
    for gid in groups {
        let cases: Vec<&CheckResult> = report
            .results
            .iter()
            .filter(|r| r.group_id == gid)
            .collect();
        let n = |s: State| cases.iter().filter(|r| r.state == s).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            esc(gid),
            esc(&cases[0].group),
            cases.len(),
            n(State::Fail),
            n(State::Error),
            n(State::Skip) + n(State::NotApplicable) + n(State::Warn),
        );
        out.push_str("    <properties>\n");
        let mut props = vec![
            ("benchmark", report.benchmark.as_str()),
            ("node", report.node.name.as_str()),
        ];
        if let Some(p) = &report.profile {
            props.push(("profile", p));
        }
        for (k, v) in props {
            let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", esc(v));
        }
        out.push_str("    </properties>\n");
        for r in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}.{}\" name=\"{} {}\"",
                esc(&report.benchmark),
                esc(gid),
                esc(&r.id),
                esc(&r.title)
            );
            match r.state {
                State::Pass => out.push_str("/>\n"),
                State::Fail => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"expected {}; found {}\">{}</failure>\n    </testcase>",
                        esc(&r.expected),
                        esc(&r.actual),
                        esc(&r.remediation)
                    );
                }
                State::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\"/>\n    </testcase>",
                        esc(&r.reason)
                    );
                }
                State::Skip | State::NotApplicable | State::Warn => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}: {}\"/>\n    </testcase>",
                        r.state,
                        esc(&why(r))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn every_character_a_node_can_put_in_a_reason_parses() {
        let hostile = "a\u{0}b\u{1b}[2J\u{fffe}\u{ffff}<&>\"'\u{10ffff}";
        let xml = format!("<t why=\"{0}\">{0}</t>", esc(hostile));
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let text = doc.root_element().text().unwrap();
        assert!(text.contains("<&>\"'"), "{text}");
        assert!(!text.contains('\u{ffff}'));
    }
}
