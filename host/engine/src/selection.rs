//! Which items a scan runs, skips or declares not applicable, and who decided:
//! the profile, the user (skip config, `--skip`), the node type, or the
//! `--check`/`--group`/`--scored-only` selection.

use crate::bundle::{Bundle, Group, Item, Profile, Section};
use crate::node::discovery::NodeType;
use serde::Serialize;

/// What the user asked for, on top of the profile.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub profile: Option<Profile>,
    /// Item, group or section ids the user skips, with where the list came from.
    pub user_skips: Vec<(String, String)>,
    /// Only these items, groups or sections (empty = all).
    pub only: Vec<String>,
    pub scored_only: bool,
}

/// Selection flags that cannot hold together, or name what the bundle lacks.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("{flag} names {id:?}, which is no item, group or section of {benchmark}")]
    UnknownId {
        flag: &'static str,
        id: String,
        benchmark: String,
    },
    #[error("{id} is both asked for ({asked}) and skipped ({skipped}); leave one out")]
    Contradiction {
        id: String,
        asked: String,
        skipped: String,
    },
}

/// The decision for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "camelCase")]
pub enum Decision {
    Run,
    Skip {
        by: String,
        reason: String,
    },
    NotApplicable {
        reason: String,
    },
    /// Left out of the report altogether (not selected).
    Omit,
}

/// `id` names the item itself, its group or its section.
fn covers(id: &str, section: &Section, group: &Group, item: &Item) -> bool {
    id == item.id || id == group.id || id == section.id
}

impl Selection {
    /// Where user skips typed on the command line come from.
    pub const TYPED_SKIP: &'static str = "--skip";

    /// Refuse ids typed on the command line that the bundle does not have: a
    /// typo must not silently select or skip nothing; and refuse an item both
    /// asked for and skipped on the command line. A skip config may name ids
    /// of other versions of its benchmark (Rancher's own example does): those
    /// are dropped and returned, for a warning, as are items asked for that a
    /// skip config or the profile skips.
    pub fn validate(&mut self, bundle: &Bundle) -> Result<Vec<String>, SelectionError> {
        let flags = self.only.iter().map(|i| (i, "--check/--group"));
        let typed = self
            .user_skips
            .iter()
            .filter(|(_, s)| s == Self::TYPED_SKIP)
            .map(|(i, _)| (i, Self::TYPED_SKIP));
        for (id, source) in flags.chain(typed) {
            if !bundle.has_id(id) {
                return Err(SelectionError::UnknownId {
                    flag: source,
                    id: id.clone(),
                    benchmark: bundle.benchmark.clone(),
                });
            }
        }
        let mut warnings = Vec::new();
        for (section, group, item) in bundle.items() {
            let Some(asked) = self.only.iter().find(|id| covers(id, section, group, item)) else {
                continue;
            };
            let skipped = self
                .user_skips
                .iter()
                .find(|(id, _)| covers(id, section, group, item));
            match skipped {
                Some((by, source)) if source == Self::TYPED_SKIP => {
                    return Err(SelectionError::Contradiction {
                        id: item.id.clone(),
                        asked: format!("--check/--group {asked}"),
                        skipped: format!("--skip {by}"),
                    });
                }
                Some((_, source)) => warnings.push(format!(
                    "{} is asked for (--check/--group {asked}) but {source} skips it",
                    item.id
                )),
                None => {
                    if let Some(p) = &self.profile
                        && p.skip.contains_key(&item.id)
                    {
                        warnings.push(format!(
                            "{} is asked for (--check/--group {asked}) but profile {} skips it",
                            item.id, p.name
                        ));
                    }
                }
            }
        }
        self.user_skips.retain(|(id, source)| {
            let known = bundle.has_id(id);
            if !known {
                warnings.push(format!(
                    "{source} names {id:?}, which {} does not have; nothing to skip",
                    bundle.benchmark
                ));
            }
            known
        });
        Ok(warnings)
    }

    pub fn decide(
        &self,
        section: &Section,
        group: &Group,
        item: &Item,
        node_types: &[NodeType],
    ) -> Decision {
        if !self.only.is_empty() && !self.only.iter().any(|id| covers(id, section, group, item)) {
            return Decision::Omit;
        }
        if self.scored_only && !item.scored {
            return Decision::Omit;
        }
        if let Some(p) = &self.profile
            && let Some(why) = p.not_applicable.get(&item.id)
        {
            return Decision::NotApplicable {
                reason: format!("profile {}: {why}", p.name),
            };
        }
        if !node_types.contains(&section.node_type) {
            let is = if node_types.is_empty() {
                "none".to_owned()
            } else {
                node_types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Decision::NotApplicable {
                reason: format!(
                    "applies to {} nodes; this node is checked as: {is}",
                    section.node_type
                ),
            };
        }
        if let Some((_, source)) = self
            .user_skips
            .iter()
            .find(|(id, _)| covers(id, section, group, item))
        {
            return Decision::Skip {
                by: format!("user ({source})"),
                reason: format!("listed in {source}"),
            };
        }
        if let Some(p) = &self.profile
            && let Some(why) = p.skip.get(&item.id)
        {
            return Decision::Skip {
                by: format!("profile {}", p.name),
                reason: why.clone(),
            };
        }
        Decision::Run
    }
}
