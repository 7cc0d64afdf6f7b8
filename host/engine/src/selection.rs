//! Which items a scan runs, skips or declares not applicable, and who decided:
//! the profile, the user (a skip list, ids typed where the scan was asked
//! for), the node type, or the user's choice of items. Where the user's words
//! came from (a flag, a scan's configuration) is named by the caller.

use crate::bundle::{Bundle, Group, Item, Profile, Section};
use crate::node::discovery::NodeType;
use crate::waivers::Waivers;
use serde::Serialize;

/// What the user asked for, on top of the profile.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub profile: Option<Profile>,
    /// Item, group or section ids the user skips.
    pub user_skips: Vec<UserSkip>,
    /// Only these items, groups or sections (empty = all).
    pub only: Vec<String>,
    /// Where `only` came from, for messages (`--check/--group`, a scan's name).
    pub only_from: String,
    pub scored_only: bool,
    /// Items accepted as they are until a date (see `waivers`).
    pub waivers: Waivers,
}

/// An id the user skips and where it came from (`--skip`, `skip config
/// skip.json`). Typed ids must name something of the bundle; a skip list may
/// name ids of other versions of its benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSkip {
    pub id: String,
    pub from: String,
    pub typed: bool,
}

/// Selection flags that cannot hold together, or name what the bundle lacks.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("{from} names {id:?}, which is no item, group or section of {benchmark}")]
    UnknownId {
        from: String,
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
    /// For an item that runs: the waiver that named it and expired, in words.
    pub fn expired_waiver(
        &self,
        section: &Section,
        group: &Group,
        item: &Item,
        node: &str,
        node_types: &[NodeType],
    ) -> Option<String> {
        match self.waivers.find(node, node_types, section, group, item)? {
            (w, false) => Some(format!(
                "the waiver of {} expired on {} ({}); judged again",
                w.owner, w.expires, w.reason
            )),
            _ => None,
        }
    }

    /// Refuse typed ids that the bundle does not have: a typo must not
    /// silently select or skip nothing; and refuse an item both asked for and
    /// skipped by typed ids. A skip list may name ids of other versions of
    /// its benchmark (Rancher's own example does): those are dropped and
    /// returned, for a warning, as are items asked for that a skip list or
    /// the profile skips.
    pub fn validate(&mut self, bundle: &Bundle) -> Result<Vec<String>, SelectionError> {
        let only = self.only.iter().map(|i| (i, &self.only_from));
        let typed = self
            .user_skips
            .iter()
            .filter(|s| s.typed)
            .map(|s| (&s.id, &s.from));
        for (id, from) in only.chain(typed) {
            if !bundle.has_id(id) {
                return Err(SelectionError::UnknownId {
                    from: from.clone(),
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
            let asked = format!("{} {asked}", self.only_from);
            let skipped = self
                .user_skips
                .iter()
                .find(|s| covers(&s.id, section, group, item));
            match skipped {
                Some(skip) if skip.typed => {
                    return Err(SelectionError::Contradiction {
                        id: item.id.clone(),
                        asked,
                        skipped: format!("{} {}", skip.from, skip.id),
                    });
                }
                Some(skip) => warnings.push(format!(
                    "{} is asked for ({asked}) but {} skips it",
                    item.id, skip.from
                )),
                None => {
                    if let Some(p) = &self.profile
                        && p.skip.contains_key(&item.id)
                    {
                        warnings.push(format!(
                            "{} is asked for ({asked}) but profile {} skips it",
                            item.id, p.name
                        ));
                    }
                }
            }
        }
        self.user_skips.retain(|skip| {
            let known = bundle.has_id(&skip.id);
            if !known {
                warnings.push(format!(
                    "{} names {:?}, which {} does not have; nothing to skip",
                    skip.from, skip.id, bundle.benchmark
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
        node: &str,
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
        if let Some(skip) = self
            .user_skips
            .iter()
            .find(|s| covers(&s.id, section, group, item))
        {
            return Decision::Skip {
                by: format!("user ({})", skip.from),
                reason: format!("listed in {}", skip.from),
            };
        }
        if let Some((waiver, true)) = self.waivers.find(node, node_types, section, group, item) {
            return Decision::Skip {
                by: waiver.skipped_by(),
                reason: format!("waived in {}", self.waivers.from),
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
