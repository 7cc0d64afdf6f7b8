//! Rancher's CSV report: one row per item with the node columns.

use crate::report::{Report, State};

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
        w.write_record([
            r.id.as_str(),
            r.title.as_str(),
            r.remediation.as_str(),
            r.state.as_str(),
            r.node_type.as_str(),
            if ran { node } else { "" },
            if r.state == State::Pass { node } else { "" },
            if r.state == State::Fail { node } else { "" },
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 fields")
}
