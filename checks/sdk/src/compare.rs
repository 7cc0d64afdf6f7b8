//! The comparisons of CIS benchmark test items (kube-bench's `compare.op`).

use crate::values::{self, Value};
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

    /// Whether a parsed value satisfies the comparison. The benchmark's value is read as the
    /// same kind (a boolean, an integer, a duration); a text value compares as [`holds`] does.
    /// `Err` when the benchmark's value is not of that kind or the operator does not apply to it.
    ///
    /// [`holds`]: Compare::holds
    pub fn holds_value(&self, actual: &Value) -> Result<bool, String> {
        use std::cmp::Ordering;
        let want = self.value.trim();
        let ordering = match actual {
            Value::Text(text) => return self.holds(text),
            Value::Bool(a) => {
                let w = values::parse_bool(want).ok_or_else(|| {
                    format!("the item compares with {want:?}, which is not a boolean")
                })?;
                return match self.op {
                    Op::Eq => Ok(*a == w),
                    Op::Noteq => Ok(*a != w),
                    op => Err(format!("{} does not apply to a boolean", op.name())),
                };
            }
            Value::Int(a) => {
                a.cmp(&values::parse_int(want).map_err(|e| format!("the item compares with {e}"))?)
            }
            Value::Duration(a) => a.cmp(
                &values::parse_duration(want).map_err(|e| format!("the item compares with {e}"))?,
            ),
        };
        match self.op {
            Op::Eq => Ok(ordering == Ordering::Equal),
            Op::Noteq => Ok(ordering != Ordering::Equal),
            Op::Gt => Ok(ordering == Ordering::Greater),
            Op::Gte => Ok(ordering != Ordering::Less),
            Op::Lt => Ok(ordering == Ordering::Less),
            Op::Lte => Ok(ordering != Ordering::Greater),
            op => Err(format!(
                "{} does not apply to a number or a duration",
                op.name()
            )),
        }
    }
}

impl Op {
    /// The operator as bundles write it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Noteq => "noteq",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Has => "has",
            Op::Nothave => "nothave",
            Op::Regex => "regex",
            Op::ValidElements => "valid_elements",
            Op::Bitmask => "bitmask",
        }
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
    match (want_bool, values::parse_bool(actual)) {
        (Some(w), Some(a)) => w == a,
        _ => actual == want || actual.trim_matches('"') == want.trim_matches('"'),
    }
}

/// A number as Go reads an integer flag (`010` is 8, `0x1f` is 31), else a finite decimal.
fn number(s: &str) -> Result<f64, String> {
    let s = s.trim_matches('"');
    if let Ok(n) = values::parse_int(s) {
        return Ok(n as f64);
    }
    s.parse::<f64>()
        .ok()
        .filter(|n| {
            n.is_finite()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        })
        .ok_or_else(|| format!("{s:?} is not a number"))
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
    fn untyped_numbers_read_as_go_integers_and_never_infinity() {
        assert!(!holds(Op::Gte, "10", "010"), "010 is octal 8 to Go");
        assert!(holds(Op::Gte, "30", "0x1e"));
        assert!(holds(Op::Gte, "30", "30.5"));
        for bad in ["inf", "infinity", "NaN", "-inf"] {
            let r = Compare {
                op: Op::Gte,
                value: "30".into(),
            }
            .holds(bad);
            assert!(r.is_err(), "{bad} compared: {r:?}");
        }
    }

    fn holds_value(op: Op, want: &str, actual: Value) -> Result<bool, String> {
        Compare {
            op,
            value: want.into(),
        }
        .holds_value(&actual)
    }

    #[test]
    fn typed_booleans() {
        assert_eq!(holds_value(Op::Eq, "true", Value::Bool(true)), Ok(true));
        assert_eq!(
            holds_value(Op::Noteq, "false", Value::Bool(false)),
            Ok(false)
        );
        assert_eq!(holds_value(Op::Eq, "True", Value::Bool(true)), Ok(true));
        assert!(holds_value(Op::Gte, "true", Value::Bool(true)).is_err());
        assert!(holds_value(Op::Eq, "yes", Value::Bool(true)).is_err());
    }

    #[test]
    fn typed_integers() {
        assert_eq!(holds_value(Op::Gt, "0", Value::Int(4096)), Ok(true));
        assert_eq!(holds_value(Op::Gt, "0", Value::Int(-1)), Ok(false));
        assert_eq!(holds_value(Op::Gt, "0", Value::Int(0)), Ok(false));
        assert_eq!(holds_value(Op::Eq, "0", Value::Int(0)), Ok(true));
        assert_eq!(holds_value(Op::Gte, "10", Value::Int(8)), Ok(false));
        assert_eq!(holds_value(Op::Lte, "10", Value::Int(10)), Ok(true));
        assert_eq!(holds_value(Op::Lt, "10", Value::Int(10)), Ok(false));
        assert!(holds_value(Op::Has, "1", Value::Int(1)).is_err());
        assert!(holds_value(Op::Eq, "zero", Value::Int(0)).is_err());
    }

    #[test]
    fn typed_durations() {
        let d = |s: &str| Value::Duration(values::parse_duration(s).unwrap());
        assert_eq!(holds_value(Op::Noteq, "0", d("0s")), Ok(false));
        assert_eq!(holds_value(Op::Noteq, "0", d("0h0m0s")), Ok(false));
        assert_eq!(holds_value(Op::Noteq, "0", d("5m0s")), Ok(true));
        assert_eq!(holds_value(Op::Gte, "5m", d("300s")), Ok(true));
        assert_eq!(holds_value(Op::Lt, "1h", d("1h30m")), Ok(false));
        assert!(
            holds_value(Op::Eq, "5", d("5s")).is_err(),
            "a unitless compare value"
        );
        assert!(holds_value(Op::Regex, "s$", d("5s")).is_err());
    }

    #[test]
    fn regex() {
        assert!(holds(Op::Regex, "^[0-9]+s$", "300s"));
        assert!(!holds(Op::Regex, "^[0-9]+s$", "5m"));
    }
}
