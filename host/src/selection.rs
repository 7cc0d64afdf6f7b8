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
    /// Refuse ids typed on the command line that the bundle does not have: a
    /// typo must not silently select or skip nothing. A skip config may name
    /// ids of other versions of its benchmark (Rancher's own example does):
    /// those are dropped and returned, for a warning.
    pub fn validate(&mut self, bundle: &Bundle) -> Result<Vec<String>, String> {
        let flags = self.only.iter().map(|i| (i, "--check/--group"));
        let typed = self
            .user_skips
            .iter()
            .filter(|(_, s)| s == "--skip")
            .map(|(i, s)| (i, s.as_str()));
        for (id, source) in flags.chain(typed) {
            if !bundle.has_id(id) {
                return Err(format!(
                    "{source} names {id:?}, which is no item, group or section of {}",
                    bundle.benchmark
                ));
            }
        }
        let mut warnings = Vec::new();
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
                reason: format!("skipped by the user in {source}"),
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
