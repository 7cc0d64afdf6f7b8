//! Differences between two scans (node reports or cluster reports): new
//! failures, fixed items, other state changes, unchanged.

use super::ClusterReport;
use crate::report::{Report, State};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// (node, item id).
type Key = (String, String);

/// Every (node, item) state of a scan, with the benchmark it belongs to.
pub struct Snapshot {
    pub benchmark: String,
    states: BTreeMap<(String, String), (State, String)>,
}

/// A file `diff` cannot compare, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SnapshotError(pub String);

impl Snapshot {
    /// A cluster report of one benchmark.
    pub fn of_cluster(c: &ClusterReport) -> Result<Snapshot, SnapshotError> {
        let [group] = c.groups.as_slice() else {
            return Err(SnapshotError(format!(
                "holds {} benchmarks; diff compares one",
                c.groups.len()
            )));
        };
        let mut states = BTreeMap::new();
        for item in &group.items {
            for r in &item.results {
                states.insert(
                    (r.node.clone(), item.id.clone()),
                    (r.state, item.title.clone()),
                );
            }
        }
        Ok(Snapshot {
            benchmark: group.benchmark.clone(),
            states,
        })
    }

    /// A node report or a cluster report (of one benchmark).
    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        Self::read_file(path).map_err(SnapshotError)
    }

    fn read_file(path: &Path) -> Result<Snapshot, String> {
        let file = path.display();
        // A cluster report of thousands of nodes runs to hundreds of megabytes.
        let bytes = kubecis_engine::node::read::regular_file(path, 2 << 30)
            .map_err(|e| format!("{file}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{file}: not UTF-8 text"))?;
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
                return Snapshot::of_cluster(&c).map_err(|e| format!("{file} {e}"));
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
    /// The item's id in the old scan, when another benchmark version numbered it otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_id: Option<String>,
    pub title: String,
    /// `None` when the item was not in that scan.
    pub old: Option<State>,
    pub new: Option<State>,
}

/// An item of one side's benchmark that the other side's has no counterpart of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// The new scan's benchmark.
    pub benchmark: String,
    /// The old scan's benchmark, when it is another version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_benchmark: Option<String>,
    /// Failing now, not failing before (or not there before).
    pub new_failures: Vec<Change>,
    /// Failing before, passing now.
    pub fixed: Vec<Change>,
    /// Any other change of state, items that appeared or disappeared included.
    pub changed: Vec<Change>,
    pub unchanged: usize,
    /// Across benchmark versions: items only the old benchmark has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_old: Vec<Unmatched>,
    /// Across benchmark versions: items only the new benchmark has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_new: Vec<Unmatched>,
}

impl Snapshot {
    /// Each item's title, by id.
    fn titles(&self) -> BTreeMap<&str, &str> {
        self.states
            .iter()
            .map(|((_, id), (_, title))| (id.as_str(), title.as_str()))
            .collect()
    }
}

/// A title as two benchmark versions may both spell it.
fn normal_title(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_lowercase()
}

/// The group an id belongs to (`1.2` of `1.2.16`).
fn group_of(id: &str) -> &str {
    id.rsplit_once('.').map_or(id, |(group, _)| group)
}

/// Old id → new id across two benchmark versions. CIS renumbers items
/// between versions and some titles repeat (the API server's and the
/// kubelet's `--anonymous-auth`), so: the same id and title; then the same
/// title in the same group, or a title only one item on each side has; then
/// the same id with a reworded title.
fn pair_items(old: &Snapshot, new: &Snapshot) -> BTreeMap<String, String> {
    let (old_titles, new_titles) = (old.titles(), new.titles());
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: std::collections::BTreeSet<&str> = Default::default();
    for (id, title) in &old_titles {
        if new_titles
            .get(id)
            .is_some_and(|t| normal_title(t) == normal_title(title))
        {
            pairs.insert((*id).to_owned(), (*id).to_owned());
            taken.insert(id);
        }
    }
    let mut by_title: BTreeMap<String, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (id, title) in &old_titles {
        if !pairs.contains_key(*id) {
            by_title.entry(normal_title(title)).or_default().0.push(id);
        }
    }
    for (id, title) in &new_titles {
        if !taken.contains(id) {
            by_title.entry(normal_title(title)).or_default().1.push(id);
        }
    }
    for (olds, news) in by_title.values() {
        for old_id in olds {
            let same_group = news
                .iter()
                .find(|n| !taken.contains(*n) && group_of(n) == group_of(old_id));
            let only = (olds.len() == 1 && news.len() == 1)
                .then(|| news[0])
                .filter(|n| !taken.contains(n));
            if let Some(new_id) = same_group.copied().or(only) {
                pairs.insert((*old_id).to_owned(), new_id.to_owned());
                taken.insert(new_id);
            }
        }
    }
    for id in old_titles.keys() {
        if !pairs.contains_key(*id) && new_titles.contains_key(id) && taken.insert(id) {
            pairs.insert((*id).to_owned(), (*id).to_owned());
        }
    }
    pairs
}

pub fn diff(old: &Snapshot, new: &Snapshot) -> Diff {
    let mut d = Diff {
        benchmark: new.benchmark.clone(),
        ..Diff::default()
    };
    let same = old.benchmark == new.benchmark;
    // Within one benchmark an id is an item; across versions, items are paired.
    let pairs: BTreeMap<String, String> = if same {
        BTreeMap::new()
    } else {
        d.old_benchmark = Some(old.benchmark.clone());
        let pairs = pair_items(old, new);
        let paired_new: std::collections::BTreeSet<&String> = pairs.values().collect();
        d.only_old = old
            .titles()
            .into_iter()
            .filter(|(id, _)| !pairs.contains_key(*id))
            .map(|(id, title)| Unmatched {
                id: id.to_owned(),
                title: title.to_owned(),
            })
            .collect();
        d.only_new = new
            .titles()
            .into_iter()
            .filter(|(id, _)| !paired_new.contains(&(*id).to_owned()))
            .map(|(id, title)| Unmatched {
                id: id.to_owned(),
                title: title.to_owned(),
            })
            .collect();
        pairs
    };
    let to_new = |(node, id): &(String, String)| -> Option<(String, String)> {
        if same {
            Some((node.clone(), id.clone()))
        } else {
            pairs.get(id).map(|n| (node.clone(), n.clone()))
        }
    };
    let old_by_new: BTreeMap<Key, (&Key, &(State, String))> = old
        .states
        .iter()
        .filter_map(|(key, value)| to_new(key).map(|k| (k, (key, value))))
        .collect();
    let mut keys: Vec<&(String, String)> = old_by_new.keys().chain(new.states.keys()).collect();
    keys.sort_by(|a, b| {
        (&a.0, kubecis_model::natural_key(&a.1)).cmp(&(&b.0, kubecis_model::natural_key(&b.1)))
    });
    keys.dedup();
    let paired_new: std::collections::BTreeSet<&String> = pairs.values().collect();
    for key in keys {
        if !same && !paired_new.contains(&key.1) {
            continue;
        }
        let o = old_by_new.get(key);
        let n = new.states.get(key);
        let old_id = o.map(|(k, _)| k.1.clone()).filter(|id| *id != key.1);
        let change = Change {
            node: key.0.clone(),
            id: key.1.clone(),
            old_id,
            title: n
                .map(|x| x.1.clone())
                .or_else(|| o.map(|(_, x)| x.1.clone()))
                .unwrap_or_default(),
            old: o.map(|(_, x)| x.0),
            new: n.map(|x| x.0),
        };
        match (change.old, change.new) {
            (a, b) if a == b => d.unchanged += 1,
            (a, Some(State::Fail)) if a != Some(State::Fail) => d.new_failures.push(change),
            (Some(State::Fail), Some(State::Pass)) => d.fixed.push(change),
            _ => d.changed.push(change),
        }
    }
    d
}

fn state(s: Option<State>) -> &'static str {
    s.map_or("absent", State::as_str)
}

pub fn render_text(d: &Diff) -> String {
    // Names from report files: shown, never obeyed.
    let benchmarks = crate::output::printable(&match &d.old_benchmark {
        Some(old) => format!("{old} -> {}", d.benchmark),
        None => d.benchmark.clone(),
    });
    let mut out = format!(
        "{}: {} new failures, {} fixed, {} changed, {} unchanged\n",
        benchmarks,
        d.new_failures.len(),
        d.fixed.len(),
        d.changed.len(),
        d.unchanged
    );
    let changes = |list: &[Change]| -> Vec<String> {
        list.iter()
            .map(|c| {
                let id = match &c.old_id {
                    Some(old) => format!("{} (was {old})", c.id),
                    None => c.id.clone(),
                };
                let (old, new) = (state(c.old), state(c.new));
                format!("{:<20} {id:<8} {old} -> {new}  {}", c.node, c.title)
            })
            .collect()
    };
    let items = |list: &[Unmatched]| -> Vec<String> {
        list.iter()
            .map(|u| format!("{:<8} {}", u.id, u.title))
            .collect()
    };
    for (title, lines) in [
        ("New failures", changes(&d.new_failures)),
        ("Fixed", changes(&d.fixed)),
        ("Changed", changes(&d.changed)),
        ("Only in the old benchmark", items(&d.only_old)),
        ("Only in the new benchmark", items(&d.only_new)),
    ] {
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}:\n"));
        for line in lines {
            // Node names and titles come from report files: shown, never obeyed.
            out.push_str("  ");
            out.push_str(&crate::output::printable(&line));
            out.push('\n');
        }
    }
    out
}
