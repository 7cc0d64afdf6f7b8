//! Cluster reports: node reports of many nodes composed per benchmark, with
//! Rancher's node lists and Calico's node health, filters and top failures.

pub mod diff;
mod input;
pub mod options;
pub mod render;

pub use input::{InputError, add_node_report, compose_files, read_node_report};
pub use kubecis_model::cluster::*;
pub use options::ReportOptions;

use kubecis_model::NodeType;
use kubecis_model::report::State;

use std::collections::{BTreeMap, HashMap};

/// One node's report as composition needs it.
#[derive(Debug, Clone)]
pub struct NodeInput {
    pub benchmark: String,
    pub benchmark_title: String,
    pub profile: Option<String>,
    pub name: String,
    /// Where the report came from (its file), for messages.
    pub source: String,
    pub kubernetes_version: Option<String>,
    pub node_types: Vec<NodeType>,
    pub results: Vec<ResultInput>,
}

#[derive(Debug, Clone)]
pub struct ResultInput {
    pub id: String,
    pub title: String,
    pub node_type: NodeType,
    pub scored: bool,
    pub state: State,
    pub actual: String,
    pub reason: String,
    /// Only the first node's remediation of an item is kept.
    pub remediation: Option<String>,
}

/// Folds node reports in one at a time, so memory holds the composition, not the inputs.
#[derive(Default, Clone)]
pub struct Composer {
    options: ReportOptions,
    groups: BTreeMap<(String, Option<String>), GroupAcc>,
}

#[derive(Default, Clone)]
struct GroupAcc {
    title: String,
    nodes: Vec<NodeAcc>,
    items: Vec<ItemAcc>,
    index: HashMap<String, usize>,
}

#[derive(Clone)]
struct NodeAcc {
    name: String,
    source: String,
    version: Option<String>,
    node_types: Vec<NodeType>,
    passing: usize,
    failing: usize,
    unknown: usize,
}

#[derive(Clone)]
struct ItemAcc {
    id: String,
    title: String,
    node_type: NodeType,
    scored: bool,
    remediation: String,
    /// The node whose report gave the remediation: the first by name, so
    /// the composition does not depend on the order reports came in.
    remediation_from: String,
    /// (node index, state, actual, reason)
    seen: Vec<(u32, State, Box<str>, Box<str>)>,
}

/// Two reports of one node for one benchmark: which one counts is not ours to guess.
/// Two reports of one node for one benchmark: which would win is not for
/// composition to guess.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "node {node} appears twice for {benchmark}: in {first} and in {second}; give one report per node"
)]
pub struct NodeTwice {
    pub node: String,
    pub benchmark: String,
    pub first: String,
    pub second: String,
}

/// Whether node `a` comes before node `b` as people sort names.
fn before(a: &str, b: &str) -> bool {
    kubecis_model::natural_key(a) < kubecis_model::natural_key(b)
}

fn twice(node: &str, benchmark: &str, first: &str, second: &str) -> NodeTwice {
    NodeTwice {
        node: node.to_owned(),
        benchmark: benchmark.to_owned(),
        first: first.to_owned(),
        second: second.to_owned(),
    }
}

impl Composer {
    /// Orders each group's nodes by name (as people sort them), so that what
    /// is composed does not depend on the order reports arrived in.
    pub fn sort_nodes_by_name(&mut self) {
        for g in self.groups.values_mut() {
            let mut order: Vec<usize> = (0..g.nodes.len()).collect();
            order.sort_by_key(|&i| kubecis_model::natural_key(&g.nodes[i].name));
            let mut moved_to = vec![0u32; order.len()];
            for (new, &old) in order.iter().enumerate() {
                moved_to[old] = new as u32;
            }
            g.nodes = order.iter().map(|&i| g.nodes[i].clone()).collect();
            for item in &mut g.items {
                for seen in &mut item.seen {
                    seen.0 = moved_to[seen.0 as usize];
                }
                item.seen.sort_by_key(|s| s.0);
            }
        }
    }

    /// Nodes added so far, over every benchmark.
    pub fn node_count(&self) -> usize {
        self.groups.values().map(|g| g.nodes.len()).sum()
    }

    pub fn new(options: ReportOptions) -> Composer {
        Composer {
            options,
            groups: BTreeMap::new(),
        }
    }

    /// Whether this node's remediation for the item is wanted: the item is
    /// new, or the node comes before the one that gave it, by name.
    pub fn wants_remediation(
        &self,
        benchmark: &str,
        profile: Option<&str>,
        id: &str,
        node: &str,
    ) -> bool {
        self.groups
            .get(&(benchmark.to_owned(), profile.map(str::to_owned)))
            .and_then(|g| g.index.get(id).map(|i| &g.items[*i]))
            .is_none_or(|item| before(node, &item.remediation_from))
    }

    pub fn add(&mut self, node: NodeInput) -> Result<(), NodeTwice> {
        let key = (node.benchmark.clone(), node.profile.clone());
        let group = self.groups.entry(key).or_default();
        if let Some(first) = group.nodes.iter().find(|n| n.name == node.name) {
            return Err(twice(
                &node.name,
                &node.benchmark,
                &first.source,
                &node.source,
            ));
        }
        group.title = node.benchmark_title;
        let idx = group.nodes.len() as u32;
        let mut acc = NodeAcc {
            name: node.name,
            source: node.source,
            version: node.kubernetes_version,
            node_types: node.node_types,
            passing: 0,
            failing: 0,
            unknown: 0,
        };
        for r in node.results {
            if !self.options.keeps(acc.version.as_deref(), &r.id, r.scored) {
                continue;
            }
            match r.state {
                State::Pass => acc.passing += 1,
                State::Fail => acc.failing += 1,
                State::Warn | State::Error => acc.unknown += 1,
                State::Skip | State::NotApplicable => {}
            }
            let i = match group.index.get(&r.id).copied() {
                None => {
                    group.index.insert(r.id.clone(), group.items.len());
                    group.items.push(ItemAcc {
                        id: r.id,
                        title: r.title,
                        node_type: r.node_type,
                        scored: r.scored,
                        remediation: r.remediation.unwrap_or_default(),
                        remediation_from: acc.name.clone(),
                        seen: Vec::new(),
                    });
                    group.items.len() - 1
                }
                Some(i) => {
                    let item = &mut group.items[i];
                    if let Some(remediation) = r.remediation
                        && before(&acc.name, &item.remediation_from)
                    {
                        item.remediation = remediation;
                        item.remediation_from = acc.name.clone();
                    }
                    i
                }
            };
            group.items[i]
                .seen
                .push((idx, r.state, r.actual.into(), r.reason.into()));
        }
        group.nodes.push(acc);
        Ok(())
    }

    /// Fold in another composer's nodes, after this one's (for composing in parallel).
    pub fn merge(&mut self, other: Composer) -> Result<(), NodeTwice> {
        for (key, theirs) in other.groups {
            let ours = self.groups.entry(key.clone()).or_default();
            for dup in &theirs.nodes {
                if let Some(first) = ours.nodes.iter().find(|m| m.name == dup.name) {
                    return Err(twice(&dup.name, &key.0, &first.source, &dup.source));
                }
            }
            if ours.title.is_empty() {
                ours.title = theirs.title;
            }
            let offset = ours.nodes.len() as u32;
            ours.nodes.extend(theirs.nodes);
            for mut item in theirs.items {
                for seen in &mut item.seen {
                    seen.0 += offset;
                }
                match ours.index.get(&item.id) {
                    Some(i) => {
                        let mine = &mut ours.items[*i];
                        if before(&item.remediation_from, &mine.remediation_from) {
                            mine.remediation = item.remediation;
                            mine.remediation_from = item.remediation_from;
                        }
                        mine.seen.extend(item.seen)
                    }
                    None => {
                        ours.index.insert(item.id.clone(), ours.items.len());
                        ours.items.push(item);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> ClusterReport {
        let options = self.options;
        let groups = self
            .groups
            .into_iter()
            .map(|((benchmark, profile), g)| finish_group(&options, benchmark, profile, g))
            .collect();
        ClusterReport {
            schema: SCHEMA.to_owned(),
            groups,
        }
    }
}

fn finish_group(
    options: &ReportOptions,
    benchmark: String,
    profile: Option<String>,
    g: GroupAcc,
) -> ClusterGroup {
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    let mut items: Vec<ClusterItem> = g
        .items
        .into_iter()
        .map(|item| {
            // The nodes the item is for: its node type, and not filtered out for their version.
            let expected: Vec<u32> = g
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    n.node_types.contains(&item.node_type)
                        && options.keeps(n.version.as_deref(), &item.id, item.scored)
                })
                .map(|(i, _)| i as u32)
                .collect();
            // Membership by node index: thousands of nodes, no quadratic scans.
            let mut is_expected = vec![false; names.len()];
            for n in &expected {
                is_expected[*n as usize] = true;
            }
            let mut is_seen = vec![false; names.len()];
            for s in &item.seen {
                is_seen[s.0 as usize] = true;
            }
            let on_expected: Vec<&(u32, State, Box<str>, Box<str>)> = item
                .seen
                .iter()
                .filter(|(n, ..)| is_expected[*n as usize])
                .collect();
            let state = match on_expected.split_first() {
                None => ClusterState::NotApplicable,
                Some((first, rest)) if rest.iter().all(|s| s.1 == first.1) => first.1.into(),
                Some(_) => ClusterState::Mixed,
            };
            let list = |keep: &dyn Fn(State) -> bool| -> Vec<String> {
                on_expected
                    .iter()
                    .filter(|s| keep(s.1))
                    .map(|s| names[s.0 as usize].to_owned())
                    .collect()
            };
            let missing = expected
                .iter()
                .filter(|n| !is_seen[**n as usize])
                .map(|n| names[*n as usize].to_owned())
                .collect();
            ClusterItem {
                nodes: list(&|s| !matches!(s, State::Skip | State::NotApplicable)),
                passed_nodes: list(&|s| s == State::Pass),
                failed_nodes: list(&|s| s == State::Fail),
                missing_nodes: missing,
                results: on_expected
                    .iter()
                    .map(|(n, s, actual, reason)| NodeResult {
                        node: names[*n as usize].to_owned(),
                        state: *s,
                        actual: actual.to_string(),
                        reason: reason.to_string(),
                    })
                    .collect(),
                id: item.id,
                title: item.title,
                node_type: item.node_type,
                scored: item.scored,
                state,
                remediation: item.remediation,
            }
        })
        .collect();
    items.sort_by_key(|i| kubecis_model::natural_key(&i.id));

    let mut top: Vec<&ClusterItem> = items
        .iter()
        .filter(|i| !i.failed_nodes.is_empty())
        .collect();
    top.sort_by_key(|i| std::cmp::Reverse(i.failed_nodes.len()));
    let top_failed = top
        .into_iter()
        .take(options.num_failed_tests)
        .map(|i| TopFailed {
            id: i.id.clone(),
            title: i.title.clone(),
            failed_nodes: i.failed_nodes.len(),
        })
        .collect();

    let nodes: Vec<NodeSummary> = g
        .nodes
        .iter()
        .map(|n| {
            let total = n.passing + n.failing + n.unknown;
            NodeSummary {
                name: n.name.clone(),
                kubernetes_version: n.version.clone(),
                node_types: n.node_types.clone(),
                health: options.health(n.passing, total),
                tests_passing: n.passing,
                tests_failing: n.failing,
                tests_unknown: n.unknown,
                tests_total: total,
            }
        })
        .collect();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for i in &items {
        *totals.entry(i.state.as_str().to_owned()).or_default() += 1;
    }
    ClusterGroup {
        benchmark,
        benchmark_title: g.title,
        profile,
        nodes,
        items,
        top_failed,
        totals,
    }
}
