//! Rancher's CSV report: one row per item with the node columns.

use crate::report::{Report, State};
use std::borrow::Cow;

/// A cell a spreadsheet shows as text: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return would make it a formula (`=HYPERLINK(…)` in a node name),
/// so such a cell starts with `'`; control characters other than line breaks
/// and tabs are shown as `\u{…}` so the file is safe to print too.
pub fn cell(text: &str) -> Cow<'_, str> {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let control = text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'));
    if !formula && !control {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 1);
    if formula {
        out.push('\'');
    }
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\n' | '\t') {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes rows of cells made safe by [`cell`].
pub fn write_row(w: &mut csv::Writer<Vec<u8>>, fields: &[&str]) {
    w.write_record(fields.iter().map(|f| cell(f).into_owned()))
        .expect("writing to memory");
}

pub const HEADER: [&str; 8] = [
    "ID",
    "Description",
    "Remediation",
    "State of Test",
    "Node type",
    "Nodes",
    "Passed_Nodes",
    "Failed_Nodes",
];

pub fn render_csv(report: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    let node = report.node.name.as_str();
    for r in &report.results {
        let ran = !matches!(r.state, State::Skip | State::NotApplicable);
        write_row(
            &mut w,
            &[
                r.id.as_str(),
                r.title.as_str(),
                r.remediation.as_str(),
                r.state.as_str(),
                r.node_type.as_str(),
                if ran { node } else { "" },
                if r.state == State::Pass { node } else { "" },
                if r.state == State::Fail { node } else { "" },
            ],
        );
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 fields")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("node-1"), "node-1");
        assert_eq!(cell("a\u{1b}[31m"), "a\\u{1b}[31m");
        assert_eq!(cell("line\nnext"), "line\nnext");
    }
}
