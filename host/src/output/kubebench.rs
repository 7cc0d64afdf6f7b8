//! JSON in the shape kube-bench writes, for tools that import it (DefectDojo
//! and others): `Controls[].tests[].results[]` and `Totals`.

use crate::report::{CheckResult, Report, State};
use serde::Serialize;

#[derive(Serialize)]
struct Output<'a> {
    #[serde(rename = "Controls")]
    controls: Vec<Control<'a>>,
    #[serde(rename = "Totals")]
    totals: Totals,
}

#[derive(Serialize, Default, Clone, Copy)]
struct Totals {
    total_pass: usize,
    total_fail: usize,
    total_warn: usize,
    total_info: usize,
}

#[derive(Serialize)]
struct Control<'a> {
    id: &'a str,
    version: &'a str,
    detected_version: &'a str,
    text: &'a str,
    node_type: &'a str,
    tests: Vec<Group<'a>>,
    #[serde(flatten)]
    totals: Totals,
}

#[derive(Serialize)]
struct Group<'a> {
    section: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    pass: usize,
    fail: usize,
    warn: usize,
    info: usize,
    desc: &'a str,
    results: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    test_number: &'a str,
    test_desc: &'a str,
    audit: String,
    #[serde(rename = "AuditConfig")]
    audit_config: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    remediation: &'a str,
    test_info: Vec<&'a str>,
    status: &'static str,
    actual_value: &'a str,
    scored: bool,
    #[serde(rename = "IsMultiple")]
    is_multiple: bool,
    expected_result: &'a str,
    reason: &'a str,
}

/// kube-bench has no skip, notApplicable or error: skip and notApplicable
/// are INFO (with the reason), error is WARN (something to look at, never a pass).
fn status(state: State) -> &'static str {
    match state {
        State::Pass => "PASS",
        State::Fail => "FAIL",
        State::Warn | State::Error => "WARN",
        State::Skip | State::NotApplicable => "INFO",
    }
}

fn add(t: &mut Totals, s: &str) {
    match s {
        "PASS" => t.total_pass += 1,
        "FAIL" => t.total_fail += 1,
        "WARN" => t.total_warn += 1,
        _ => t.total_info += 1,
    }
}

fn item(r: &CheckResult) -> Item<'_> {
    Item {
        test_number: &r.id,
        test_desc: &r.title,
        audit: format!(
            "kubecis check ({})",
            if r.automated { "automated" } else { "manual" }
        ),
        audit_config: "",
        kind: match r.state {
            State::Skip | State::NotApplicable => "skip",
            _ if !r.automated => "manual",
            _ => "",
        },
        remediation: &r.remediation,
        test_info: vec![&r.remediation],
        status: status(r.state),
        actual_value: &r.actual,
        scored: r.scored,
        is_multiple: false,
        expected_result: &r.expected,
        reason: &r.reason,
    }
}

pub fn render_kube_bench(report: &Report) -> String {
    let mut controls: Vec<Control> = Vec::new();
    let mut all = Totals::default();
    for r in &report.results {
        if controls.last().is_none_or(|c| c.id != r.section_id) {
            controls.push(Control {
                id: &r.section_id,
                version: &report.benchmark,
                detected_version: "",
                text: &r.section,
                node_type: r.node_type.as_str(),
                tests: Vec::new(),
                totals: Totals::default(),
            });
        }
        let control = controls.last_mut().expect("pushed above");
        if control.tests.last().is_none_or(|g| g.section != r.group_id) {
            control.tests.push(Group {
                section: &r.group_id,
                kind: "",
                pass: 0,
                fail: 0,
                warn: 0,
                info: 0,
                desc: &r.group,
                results: Vec::new(),
            });
        }
        let group = control.tests.last_mut().expect("pushed above");
        let it = item(r);
        match it.status {
            "PASS" => group.pass += 1,
            "FAIL" => group.fail += 1,
            "WARN" => group.warn += 1,
            _ => group.info += 1,
        }
        add(&mut control.totals, it.status);
        add(&mut all, it.status);
        group.results.push(it);
    }
    let mut s = serde_json::to_string_pretty(&Output {
        controls,
        totals: all,
    })
    .expect("serialisable");
    s.push('\n');
    s
}
