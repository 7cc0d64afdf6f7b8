//! The comparisons of CIS benchmark test items (kube-bench's `compare.op`).

use serde::Deserialize;
use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Noteq,
    Gt,
    Gte,
    Lt,
    Lte,
    /// The comma-separated list holds the value.
    Has,
    /// The comma-separated list does not hold the value.
    Nothave,
    Regex,
    /// Every comma-separated element is one of the allowed ones.
    ValidElements,
    /// An octal mode with no permission bit beyond the allowed mode.
    Bitmask,
}

/// `op` applied to a found value and the benchmark's value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Compare {
    pub op: Op,
    pub value: String,
}

impl Compare {
    /// Whether `actual` satisfies the comparison; `Err` when `actual` is not
    /// of the kind the operator needs (a number, a mode, a valid pattern).
    pub fn holds(&self, actual: &str) -> Result<bool, String> {
        let want = self.value.as_str();
        let actual = actual.trim();
        Ok(match self.op {
            Op::Eq => equal(actual, want),
            Op::Noteq => !equal(actual, want),
            Op::Gt => number(actual)? > number(want)?,
            Op::Gte => number(actual)? >= number(want)?,
            Op::Lt => number(actual)? < number(want)?,
            Op::Lte => number(actual)? <= number(want)?,
            Op::Has => elements(actual).any(|e| e == want),
            Op::Nothave => !elements(actual).any(|e| e == want),
            Op::Regex => regex_lite::Regex::new(want)
                .map_err(|e| format!("invalid pattern {want:?}: {e}"))?
                .is_match(actual),
            Op::ValidElements => {
                let allowed: Vec<&str> = elements(want).collect();
                elements(actual).all(|e| allowed.contains(&e))
            }
            Op::Bitmask => crate::perm::within(
                crate::perm::parse_mode(actual)?,
                crate::perm::parse_mode(want)?,
            ),
        })
    }
}

/// Against a boolean, the found value is read as Go's strconv.ParseBool reads
/// flags (`1`, `t`, `True`, `0`, `F`, …); everything else compares as text.
fn equal(actual: &str, want: &str) -> bool {
    let want_bool = match want.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    match (want_bool, go_bool(actual)) {
        (Some(w), Some(a)) => w == a,
        _ => actual == want || actual.trim_matches('"') == want.trim_matches('"'),
    }
}

fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn number(s: &str) -> Result<f64, String> {
    s.trim_matches('"')
        .parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number"))
}

fn elements(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|e| !e.is_empty())
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.value;
        match self.op {
            Op::Eq => write!(f, "is {v}"),
            Op::Noteq => write!(f, "is not {v}"),
            Op::Gt => write!(f, "is greater than {v}"),
            Op::Gte => write!(f, "is at least {v}"),
            Op::Lt => write!(f, "is less than {v}"),
            Op::Lte => write!(f, "is at most {v}"),
            Op::Has => write!(f, "includes {v}"),
            Op::Nothave => write!(f, "does not include {v}"),
            Op::Regex => write!(f, "matches /{v}/"),
            Op::ValidElements => write!(f, "only holds elements of {v}"),
            Op::Bitmask => write!(f, "is {v} or more restrictive"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(op: Op, want: &str, actual: &str) -> bool {
        Compare {
            op,
            value: want.into(),
        }
        .holds(actual)
        .unwrap()
    }

    #[test]
    fn eq_booleans_ignore_case_other_values_do_not() {
        assert!(holds(Op::Eq, "false", "False"));
        assert!(holds(Op::Eq, "false", "0"), "Go's ParseBool");
        assert!(holds(Op::Eq, "true", "1"));
        assert!(holds(Op::Eq, "true", "T"));
        assert!(!holds(Op::Eq, "true", "yes"), "not a Go boolean");
        assert!(holds(Op::Eq, "0", "0"), "numbers stay numbers");
        assert!(!holds(Op::Eq, "false", "true"));
        assert!(holds(Op::Eq, "Webhook", "Webhook"));
        assert!(!holds(Op::Eq, "Webhook", "webhook"));
        assert!(holds(Op::Noteq, "0", "5m"));
    }

    #[test]
    fn numbers() {
        assert!(holds(Op::Gte, "30", "30"));
        assert!(!holds(Op::Gte, "30", "7"));
        assert!(holds(Op::Lte, "10", "3"));
        let err = Compare {
            op: Op::Gte,
            value: "30".into(),
        }
        .holds("thirty");
        assert!(err.unwrap_err().contains("not a number"));
    }

    #[test]
    fn has_matches_whole_list_elements_not_substrings() {
        assert!(holds(
            Op::Has,
            "NodeRestriction",
            "NamespaceLifecycle,NodeRestriction"
        ));
        assert!(!holds(Op::Has, "Node", "NodeRestriction"));
        assert!(holds(Op::Nothave, "AlwaysAdmit", "NodeRestriction"));
        assert!(!holds(Op::Nothave, "AlwaysAllow", "Node,AlwaysAllow"));
    }

    #[test]
    fn valid_elements() {
        let allowed = "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384";
        assert!(holds(Op::ValidElements, allowed, "TLS_AES_256_GCM_SHA384"));
        assert!(!holds(
            Op::ValidElements,
            allowed,
            "TLS_AES_256_GCM_SHA384,TLS_RSA_WITH_RC4_128_SHA"
        ));
    }

    #[test]
    fn bitmask_as_kube_bench() {
        assert!(holds(Op::Bitmask, "644", "600"));
        assert!(holds(Op::Bitmask, "600", "600"));
        assert!(!holds(Op::Bitmask, "600", "700"));
        assert!(!holds(Op::Bitmask, "600", "644"));
    }

    #[test]
    fn regex() {
        assert!(holds(Op::Regex, "^[0-9]+s$", "300s"));
        assert!(!holds(Op::Regex, "^[0-9]+s$", "5m"));
    }
}
