//! JSON in the shape kube-bench writes, for tools that import it (DefectDojo
//! and others): `Controls[].tests[].results[]` and `Totals`, field by field as
//! kube-bench names them. Where kubecis knows more than kube-bench can say
//! (skip, notApplicable, error, its own reason), `kubecis_state` and
//! `kubecis_reason` carry it.

use crate::report::{CheckResult, Report, State};
use serde::Serialize;

/// kube-bench's reasons, which importers match on (DefectDojo drops manual tests by it).
const MANUAL_REASON: &str = "Test marked as a manual test";
const SKIP_REASON: &str = "Test marked as skip";

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
    #[serde(skip_serializing_if = "str::is_empty")]
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
    #[serde(rename = "AuditEnv")]
    audit_env: &'a str,
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
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    kubecis_state: State,
    #[serde(skip_serializing_if = "str::is_empty")]
    kubecis_reason: &'a str,
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

impl Totals {
    fn add(&mut self, status: &str) {
        match status {
            "PASS" => self.total_pass += 1,
            "FAIL" => self.total_fail += 1,
            "WARN" => self.total_warn += 1,
            _ => self.total_info += 1,
        }
    }
}

fn item(r: &CheckResult) -> Item<'_> {
    let (kind, reason) = match r.state {
        State::Skip => ("skip", SKIP_REASON),
        State::Warn if r.manual => ("manual", MANUAL_REASON),
        _ => ("", r.reason.as_str()),
    };
    Item {
        test_number: &r.id,
        test_desc: &r.title,
        audit: if r.manual {
            String::new()
        } else {
            format!(
                "kubecis check ({})",
                if r.automated { "automated" } else { "manual" }
            )
        },
        audit_env: "",
        audit_config: "",
        kind,
        remediation: &r.remediation,
        test_info: vec![&r.remediation],
        status: status(r.state),
        actual_value: &r.actual,
        scored: r.scored,
        is_multiple: false,
        expected_result: &r.expected,
        reason,
        kubecis_state: r.state,
        kubecis_reason: &r.reason,
    }
}

/// kube-bench's `detected_version`: the Kubernetes minor version (`1.26`).
fn minor_version(version: Option<&str>) -> &str {
    let Some(v) = version else { return "" };
    let v = v.trim_start_matches('v');
    match v.match_indices('.').nth(1) {
        Some((second_dot, _)) => &v[..second_dot],
        None => v,
    }
}

pub fn render_kube_bench(report: &Report) -> String {
    let detected = minor_version(report.node.kubernetes_version.as_deref());
    let mut controls: Vec<Control> = Vec::new();
    let mut all = Totals::default();
    for r in &report.results {
        if controls.last().is_none_or(|c| c.id != r.section_id) {
            controls.push(Control {
                id: &r.section_id,
                version: &report.benchmark,
                detected_version: detected,
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
        control.totals.add(it.status);
        all.add(it.status);
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

#[cfg(test)]
mod tests {
    use super::minor_version;

    #[test]
    fn detected_version_is_the_minor_version() {
        assert_eq!(minor_version(Some("1.26.9")), "1.26");
        assert_eq!(minor_version(Some("v1.30.4+rke2r1")), "1.30");
        assert_eq!(minor_version(Some("1.28")), "1.28");
        assert_eq!(minor_version(None), "");
    }
}
