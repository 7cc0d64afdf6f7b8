//! Waivers: an item (or group or section) accepted as it is, by someone, for
//! a reason, until a date. While a waiver holds, the item is `skip` with
//! `skippedBy: waiver <owner> until <date>: <reason>`; from the day after
//! its expiry the item is judged again and its result says the waiver
//! expired. A waiver may be limited to nodes by name or by node type.
//!
//! ```yaml
//! waivers:
//!   - id: "1.2.16"
//!     nodes: [cp-1]            # optional
//!     nodeTypes: [master]      # optional
//!     reason: profiling is needed for OPS-123
//!     owner: alice@example.com
//!     expires: 2026-12-31      # the last day it holds (UTC)
//! ```

use crate::bundle::{Group, Item, Section};
use crate::node::discovery::NodeType;
use serde::Deserialize;
use std::fmt;

/// A day of the calendar (UTC), as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(i64);

impl Day {
    /// `YYYY-MM-DD`, a real date of the Gregorian calendar.
    pub fn parse(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let number = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = &text[r];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let day = Day(days_from_civil(y, m, d));
        // A date like 2026-02-30 does not come back as itself.
        ((1..=12).contains(&m) && d >= 1 && day.civil() == (y, m, d)).then_some(day)
    }

    /// The UTC day of a time in seconds since the Unix epoch.
    pub fn of_unix(seconds: i64) -> Day {
        Day(seconds.div_euclid(86_400))
    }

    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    fn civil(self) -> (i64, i64, i64) {
        // Howard Hinnant's civil_from_days.
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// One waiver, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub id: String,
    pub nodes: Vec<String>,
    pub node_types: Vec<NodeType>,
    pub reason: String,
    pub owner: String,
    /// The last day the waiver holds.
    pub expires: Day,
}

impl Waiver {
    fn covers(&self, node: &str, node_types: &[NodeType], ids: [&str; 3]) -> bool {
        ids.contains(&self.id.as_str())
            && (self.nodes.is_empty() || self.nodes.iter().any(|n| n == node))
            && (self.node_types.is_empty()
                || self.node_types.iter().any(|t| node_types.contains(t)))
    }

    /// What a held waiver puts in `skippedBy`.
    pub fn skipped_by(&self) -> String {
        format!(
            "waiver {} until {}: {}",
            self.owner, self.expires, self.reason
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    waivers: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    nodes: Vec<String>,
    #[serde(default)]
    node_types: Vec<String>,
    reason: String,
    owner: String,
    expires: String,
}

/// Why a waivers file was refused: the file, the waiver and what was wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct WaiverError {
    pub file: String,
    pub message: String,
}

/// The waivers of a scan and the day they are judged on.
#[derive(Debug, Clone, Default)]
pub struct Waivers {
    pub list: Vec<Waiver>,
    /// Where they came from, for messages (a file's name).
    pub from: String,
    /// The UTC day the scan judges them on.
    pub today: Option<Day>,
}

impl Waivers {
    /// Reads a waivers file (YAML or JSON); every waiver needs an id, a
    /// reason, an owner and an expiry date.
    pub fn parse(text: &str, file: &str) -> Result<Vec<Waiver>, WaiverError> {
        let bad = |message: String| WaiverError {
            file: file.to_owned(),
            message,
        };
        let parsed: File = crate::yaml::from_str(text)
            .map_err(|e| bad(format!("{e} (expected waivers: a list of id, reason, owner, expires, and optional nodes and nodeTypes)")))?;
        let mut out = Vec::new();
        for (i, e) in parsed.waivers.into_iter().enumerate() {
            let at = format!("waivers[{i}] ({})", e.id);
            for (field, value) in [("id", &e.id), ("reason", &e.reason), ("owner", &e.owner)] {
                if value.trim().is_empty() {
                    return Err(bad(format!(
                        "{at}: {field} is empty; every waiver says what, why and who"
                    )));
                }
            }
            let expires = Day::parse(e.expires.trim()).ok_or_else(|| {
                bad(format!(
                    "{at}: expires is {:?}; expected a date as YYYY-MM-DD",
                    e.expires
                ))
            })?;
            let node_types = e
                .node_types
                .iter()
                .map(|t| {
                    NodeType::parse(t).ok_or_else(|| {
                        bad(format!(
                            "{at}: node type {t:?} is not master, etcd, controlplane, node or policies"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Waiver {
                id: e.id.trim().to_owned(),
                nodes: e.nodes,
                node_types,
                reason: e.reason.trim().to_owned(),
                owner: e.owner.trim().to_owned(),
                expires,
            });
        }
        Ok(out)
    }

    /// The waiver for this item on this node, if one names it, and whether
    /// it still holds today. A holding one wins over an expired one.
    pub fn find(
        &self,
        node: &str,
        node_types: &[NodeType],
        section: &Section,
        group: &Group,
        item: &Item,
    ) -> Option<(&Waiver, bool)> {
        let today = self.today?;
        let ids = [item.id.as_str(), group.id.as_str(), section.id.as_str()];
        let mut matching = self.list.iter().filter(|w| w.covers(node, node_types, ids));
        let first = matching.next()?;
        let holding = std::iter::once(first)
            .chain(matching)
            .find(|w| w.expires >= today);
        Some(match holding {
            Some(w) => (w, true),
            None => (first, false),
        })
    }

    /// Waivers that stop holding within `days` of today (or already have),
    /// soonest first.
    pub fn expiring(&self, days: i64) -> Vec<&Waiver> {
        let Some(today) = self.today else {
            return Vec::new();
        };
        let mut out: Vec<&Waiver> = self
            .list
            .iter()
            .filter(|w| w.expires < today.plus(days))
            .collect();
        out.sort_by_key(|w| w.expires);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_real_dates() {
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        assert_eq!(Day::parse("2026-12-31").unwrap().to_string(), "2026-12-31");
        assert_eq!(
            Day::parse("2024-02-29").unwrap().plus(1).to_string(),
            "2024-03-01"
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "+026-01-01",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert_eq!(Day::of_unix(86_399), Day(0));
        assert_eq!(Day::of_unix(-1), Day(-1));
    }

    #[test]
    fn a_file_names_the_waiver_and_the_field_that_is_wrong() {
        let err = |text: &str| Waivers::parse(text, "w.yaml").unwrap_err().to_string();
        assert!(err("waivers:\n  - {id: '1.1.1', reason: r, owner: o, expires: 2026-02-30}\n")
            .contains("w.yaml: waivers[0] (1.1.1): expires is \"2026-02-30\"; expected a date as YYYY-MM-DD"));
        assert!(
            err("waivers:\n  - {id: '1.1.1', reason: ' ', owner: o, expires: 2026-01-01}\n")
                .contains("reason is empty")
        );
        assert!(
            err("waivers:\n  - {id: '1.1.1', reason: r, expires: 2026-01-01}\n").contains("owner")
        );
        assert!(
            err(
                "waivers:\n  - {id: '1.1.1', reason: r, owner: o, expires: 2026-01-01, until: x}\n"
            )
            .contains("until")
        );
        assert!(err("waivers:\n  - {id: '1.1.1', reason: r, owner: o, expires: 2026-01-01, nodeTypes: [worker]}\n")
            .contains("node type \"worker\""));
        let ok = Waivers::parse(
            "waivers:\n  - {id: '4.2.1', reason: r, owner: o, expires: 2026-01-01, nodes: [w-1], nodeTypes: [node]}\n",
            "w.yaml",
        )
        .unwrap();
        assert_eq!(ok[0].node_types, [NodeType::Node]);
        assert_eq!(ok[0].skipped_by(), "waiver o until 2026-01-01: r");
    }
}
