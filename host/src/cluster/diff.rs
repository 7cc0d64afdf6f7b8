//! Differences between two scans (node reports or cluster reports): new
//! failures, fixed items, other state changes, unchanged.

use super::ClusterReport;
use crate::report::{Report, State};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Every (node, item) state of a scan, with the benchmark it belongs to.
pub struct Snapshot {
    pub benchmark: String,
    states: BTreeMap<(String, String), (State, String)>,
}

impl Snapshot {
    /// A node report or a cluster report (of one benchmark).
    pub fn read(path: &Path) -> Result<Snapshot, String> {
        let file = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{file}: not JSON: {e}"))?;
        let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
        let mut states = BTreeMap::new();
        let benchmark = match schema {
            crate::report::SCHEMA => {
                let r: Report =
                    serde_json::from_value(value).map_err(|e| format!("{file}: {e}"))?;
                for x in r.results {
                    states.insert((r.node.name.clone(), x.id), (x.state, x.title));
                }
                r.benchmark
            }
            super::SCHEMA => {
                let c: ClusterReport =
                    serde_json::from_value(value).map_err(|e| format!("{file}: {e}"))?;
                let [group] = <[_; 1]>::try_from(c.groups).map_err(|g: Vec<_>| {
                    format!("{file} holds {} benchmarks; diff compares one", g.len())
                })?;
                for item in group.items {
                    for r in item.results {
                        states.insert((r.node, item.id.clone()), (r.state, item.title.clone()));
                    }
                }
                group.benchmark
            }
            other => {
                return Err(format!(
                    "{file}: schema {other:?}; expected a node report ({}) or a cluster report ({})",
                    crate::report::SCHEMA,
                    super::SCHEMA
                ));
            }
        };
        Ok(Snapshot { benchmark, states })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub node: String,
    pub id: String,
    pub title: String,
    /// `None` when the item was not in that scan.
    pub old: Option<State>,
    pub new: Option<State>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub benchmark: String,
    /// Failing now, not failing before (or not there before).
    pub new_failures: Vec<Change>,
    /// Failing before, passing now.
    pub fixed: Vec<Change>,
    /// Any other change of state, items that appeared or disappeared included.
    pub changed: Vec<Change>,
    pub unchanged: usize,
}

pub fn diff(old: &Snapshot, new: &Snapshot) -> Result<Diff, String> {
    if old.benchmark != new.benchmark {
        return Err(format!(
            "the old scan is {} and the new one {}; compare scans of one benchmark",
            old.benchmark, new.benchmark
        ));
    }
    let mut d = Diff {
        benchmark: new.benchmark.clone(),
        ..Diff::default()
    };
    let mut keys: Vec<&(String, String)> = old.states.keys().chain(new.states.keys()).collect();
    keys.sort_by(|a, b| {
        (&a.0, crate::bundle::natural_key(&a.1)).cmp(&(&b.0, crate::bundle::natural_key(&b.1)))
    });
    keys.dedup();
    for key in keys {
        let o = old.states.get(key);
        let n = new.states.get(key);
        let change = Change {
            node: key.0.clone(),
            id: key.1.clone(),
            title: n.or(o).map(|x| x.1.clone()).unwrap_or_default(),
            old: o.map(|x| x.0),
            new: n.map(|x| x.0),
        };
        match (change.old, change.new) {
            (a, b) if a == b => d.unchanged += 1,
            (a, Some(State::Fail)) if a != Some(State::Fail) => d.new_failures.push(change),
            (Some(State::Fail), Some(State::Pass)) => d.fixed.push(change),
            _ => d.changed.push(change),
        }
    }
    Ok(d)
}

fn state(s: Option<State>) -> &'static str {
    s.map_or("absent", State::as_str)
}

pub fn render_text(d: &Diff) -> String {
    let mut out = format!(
        "{}: {} new failures, {} fixed, {} changed, {} unchanged\n",
        d.benchmark,
        d.new_failures.len(),
        d.fixed.len(),
        d.changed.len(),
        d.unchanged
    );
    for (title, list) in [
        ("New failures", &d.new_failures),
        ("Fixed", &d.fixed),
        ("Changed", &d.changed),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}:\n"));
        for c in list {
            out.push_str(&format!(
                "  {:<20} {:<8} {} -> {}  {}\n",
                c.node,
                c.id,
                state(c.old),
                state(c.new),
                c.title
            ));
        }
    }
    out
}
