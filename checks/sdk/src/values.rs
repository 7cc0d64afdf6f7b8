//! Values read the way Kubernetes components read them.
//!
//! A flag's text is not its meaning: `--profiling=0` is false, `--audit-log-maxbackup=010` is 8
//! (Go reads integer flags with base prefixes), `--streaming-connection-idle-timeout=0h0m0s` is
//! no timeout at all, and `--feature-gates=A=true,A=False` turns gate A off. This module parses
//! values as Go's `strconv` and `time` packages, pflag and the Kubernetes feature-gate flag do,
//! and as the kubelet's YAML decoding reads a config file, so that a check compares meanings.

use serde::Deserialize;
use std::fmt;

/// How Kubernetes reads a value: the kind a test compares it as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Compared as text (kube-bench's behaviour; booleans are still read as Go reads them).
    #[default]
    Text,
    /// A Go boolean (`strconv.ParseBool` on the command line, a YAML boolean in a config file).
    Bool,
    /// A Go integer (`strconv.ParseInt` with base prefixes, as pflag and Go's flag package read it).
    Int,
    /// A Go duration (`time.ParseDuration`: `300ms`, `1h30m`, `0`).
    Duration,
}

/// A value of some [`Kind`], parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Int(i64),
    /// Nanoseconds, as Go's `time.Duration`.
    Duration(i64),
}

impl Value {
    /// Go's zero value of the kind: what a config file holds when a field is serialized unset.
    pub fn is_zero(&self) -> bool {
        match self {
            Value::Text(s) => s.is_empty(),
            Value::Bool(b) => !b,
            Value::Int(n) => *n == 0,
            Value::Duration(d) => *d == 0,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Duration(d) => f.write_str(&format_duration(*d)),
        }
    }
}

impl Kind {
    /// Read a command-line (or environment) value as the component's flag parser does.
    pub fn parse_flag(self, text: &str) -> Result<Value, String> {
        match self {
            Kind::Text => Ok(Value::Text(text.to_owned())),
            Kind::Bool => parse_bool(text).map(Value::Bool).ok_or_else(|| {
                format!("{text:?} is not a boolean (Go reads true, false, 1, 0, t, f, …)")
            }),
            Kind::Int => parse_int(text).map(Value::Int),
            Kind::Duration => parse_duration(text).map(Value::Duration),
        }
    }

    /// Read a config-file value (its JSON text, strings unquoted) as the component's YAML
    /// decoding does: booleans are YAML 1.1 booleans (`true`, `off`, `yes`, …), not Go's
    /// `strconv` spellings.
    pub fn parse_config(self, text: &str) -> Result<Value, String> {
        match self {
            Kind::Bool => yaml_bool(text)
                .map(Value::Bool)
                .ok_or_else(|| format!("{text:?} is not a boolean")),
            other => other.parse_flag(text),
        }
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean as the kubelet's YAML decoding (YAML 1.1, go-yaml v2) reads an unquoted scalar.
/// A YAML 1.2 parser leaves `off` or `yes` as strings; the kubelet sees booleans.
pub fn yaml_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, which pflag and Go's flag package use for integer
/// flags: an optional sign, then `0x`/`0o`/`0b` or a bare leading `0` (octal) selects the
/// base, and `_` may separate digits.
pub fn parse_int(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not an integer");
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(bad());
    }
    let bytes = body.as_bytes();
    let (base, digits) = if bytes[0] == b'0' && bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'x' => (16, &body[2..]),
            b'o' => (8, &body[2..]),
            b'b' => (2, &body[2..]),
            _ => (8, &body[1..]),
        }
    } else if bytes[0] == b'0' {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let mut magnitude: u128 = 0;
    let mut underscores = false;
    for c in digits.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let d = c.to_digit(base).ok_or_else(bad)?;
        magnitude = magnitude * u128::from(base) + u128::from(d);
        if magnitude > 1 << 64 {
            return Err(format!("{s:?} is out of range for a 64-bit integer"));
        }
    }
    if underscores && !underscores_ok(s) {
        return Err(bad());
    }
    let value = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    i64::try_from(value).map_err(|_| format!("{s:?} is out of range for a 64-bit integer"))
}

/// Go's rule for `_` in a number: only between digits, or between a base prefix and a digit.
fn underscores_ok(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.to_ascii_lowercase().is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

fn unit(name: &str) -> Option<u64> {
    Some(match name {
        "ns" => NANOSECOND,
        "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`, in nanoseconds: a sequence of decimal numbers, each with an
/// optional fraction and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), with an optional sign;
/// `0` alone needs no unit.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || format!("{s:?} is not a duration (Go durations look like 300ms, 5m0s, 1h30m)");
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let limit: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        // The integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for d in rest[..int_len].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u64::from(d - b'0')))
                .filter(|w| *w <= limit)
                .ok_or_else(invalid)?;
        }
        rest = &rest[int_len..];
        // The fraction: digits beyond what a u64 holds are dropped, as Go does.
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut fraction_len = 0;
        if let Some(after) = rest.strip_prefix('.') {
            fraction_len = after.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for d in after[..fraction_len].bytes() {
                if overflow {
                    continue;
                }
                match fraction
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(d - b'0')))
                    .filter(|f| *f <= limit)
                {
                    Some(f) => {
                        fraction = f;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            rest = &after[fraction_len..];
        }
        if int_len == 0 && fraction_len == 0 {
            return Err(invalid()); // ".s" or "-.s"
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!(
                "{s:?} is not a duration: a number lacks its unit (ns, us, ms, s, m, h)"
            ));
        }
        let name = &rest[..unit_len];
        rest = &rest[unit_len..];
        let per =
            unit(name).ok_or_else(|| format!("{s:?} is not a duration: unknown unit {name:?}"))?;
        if whole > limit / per {
            return Err(invalid());
        }
        let mut v = whole * per;
        if fraction > 0 {
            // As Go does: a float64 is precise enough for fractions of the largest unit.
            v += (fraction as f64 * (per as f64 / scale)) as u64;
            if v > limit {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(v)
            .filter(|t| *t <= limit)
            .ok_or_else(invalid)?;
    }
    if negative {
        // -(1<<63) is the smallest Duration.
        return Ok((-(total as i128)) as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// A duration as Go's `time.Duration.String` writes it: `4h0m0s`, `5m0s`, `300ms`, `0s`.
pub fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    if u < SECOND {
        let (unit, name) = if u < MICROSECOND {
            (NANOSECOND, "ns")
        } else if u < MILLISECOND {
            (MICROSECOND, "µs")
        } else {
            (MILLISECOND, "ms")
        };
        return format!("{sign}{}{name}", fraction(u, unit));
    }
    let hours = u / HOUR;
    let minutes = (u % HOUR) / MINUTE;
    let seconds = fraction(u % MINUTE, SECOND);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

/// `v / unit` with the fraction's trailing zeros dropped: 1500ms in seconds is `1.5`.
fn fraction(v: u64, unit: u64) -> String {
    let whole = v / unit;
    let rest = v % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// One entry of a feature-gate list, as the component's `--feature-gates` flag reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate<'a> {
    pub name: &'a str,
    /// The value as written (`False`, `0`).
    pub text: &'a str,
    pub enabled: bool,
}

/// The entries of a `--feature-gates` value (`A=true,B=false`), in order, as Kubernetes'
/// map-of-booleans flag reads them: empty entries are skipped, names and values are
/// trimmed, values are Go booleans. A malformed entry is an error, as it is for the component.
pub fn feature_gates(list: &str) -> Result<Vec<Gate<'_>>, String> {
    let mut gates = Vec::new();
    for entry in list.split(',') {
        if entry.is_empty() {
            continue;
        }
        let Some((name, text)) = entry.split_once('=') else {
            return Err(format!(
                "feature gate entry {entry:?} has no value (expected Name=true or Name=false)"
            ));
        };
        let (name, text) = (name.trim(), text.trim());
        let enabled = parse_bool(text).ok_or_else(|| {
            format!("feature gate {name} is set to {text:?}, which is not a boolean")
        })?;
        gates.push(Gate {
            name,
            text,
            enabled,
        });
    }
    Ok(gates)
}

/// The last entry for `name` in a `--feature-gates` value: later entries (and later
/// occurrences of the flag) win, gate by gate.
pub fn feature_gate<'a>(list: &'a str, name: &str) -> Result<Option<Gate<'a>>, String> {
    Ok(feature_gates(list)?
        .into_iter()
        .rev()
        .find(|g| g.name == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "on", "tRUE", " true", "2", "off"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn config_booleans_are_yaml_1_1() {
        assert_eq!(Kind::Bool.parse_config("off"), Ok(Value::Bool(false)));
        assert_eq!(Kind::Bool.parse_config("Yes"), Ok(Value::Bool(true)));
        assert_eq!(Kind::Bool.parse_config("false"), Ok(Value::Bool(false)));
        // A number is no boolean to the kubelet's decoder, though it is to ParseBool.
        assert!(Kind::Bool.parse_config("0").is_err());
        assert!(Kind::Bool.parse_flag("off").is_err());
        assert_eq!(Kind::Bool.parse_flag("0"), Ok(Value::Bool(false)));
    }

    #[test]
    fn go_integers_take_base_prefixes() {
        assert_eq!(parse_int("4096"), Ok(4096));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert_eq!(parse_int("+7"), Ok(7));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("-0"), Ok(0));
        assert_eq!(parse_int("010"), Ok(8), "a leading 0 is octal");
        assert_eq!(parse_int("0x1f"), Ok(31));
        assert_eq!(parse_int("0X1F"), Ok(31));
        assert_eq!(parse_int("0o17"), Ok(15));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("0x_1f"), Ok(31));
        assert_eq!(parse_int("0_7"), Ok(7));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        for bad in [
            "", "-", "+", "08", "0x", "0b2", "1.5", "1e3", "inf", "NaN", "_1", "1_", "1__0", " 1",
            "1 ", "30s", "0x1g",
        ] {
            assert!(parse_int(bad).is_err(), "{bad:?} parsed");
        }
        assert!(
            parse_int("9223372036854775808")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_int("99999999999999999999999999999999999999999").is_err());
    }

    #[test]
    fn go_durations() {
        const S: i64 = 1_000_000_000;
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("0m"), Ok(0));
        assert_eq!(parse_duration("0h0m0s"), Ok(0));
        assert_eq!(parse_duration("0.000s"), Ok(0));
        assert_eq!(parse_duration("5m"), Ok(300 * S));
        assert_eq!(parse_duration("5m0s"), Ok(300 * S));
        assert_eq!(parse_duration("1h30m"), Ok(5400 * S));
        assert_eq!(parse_duration("4h"), Ok(4 * 3600 * S));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5400 * S));
        assert_eq!(parse_duration(".5s"), Ok(S / 2));
        assert_eq!(parse_duration("1.s"), Ok(S));
        assert_eq!(parse_duration("-1m"), Ok(-60 * S));
        assert_eq!(parse_duration("+2s"), Ok(2 * S));
        assert_eq!(parse_duration("1µs"), Ok(1000));
        assert_eq!(parse_duration("1μs"), Ok(1000));
        assert_eq!(parse_duration("1us1ns"), Ok(1001));
        assert_eq!(parse_duration("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert_eq!(parse_duration("-2562047h47m16.854775808s"), Ok(i64::MIN));
        for bad in [
            "",
            "-",
            "s",
            ".s",
            "5",
            "300",
            "1h 30m",
            "5 m",
            "5M",
            "5min",
            "1d",
            "0x10s",
            "inf",
            "1e3s",
            "2562047h47m16.854775808s",
            "9999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_duration("300").unwrap_err().contains("unit"));
        assert!(parse_duration("5min").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        for (text, printed) in [
            ("0", "0s"),
            ("4h", "4h0m0s"),
            ("5m", "5m0s"),
            ("90s", "1m30s"),
            ("1.5s", "1.5s"),
            ("300ms", "300ms"),
            ("1500us", "1.5ms"),
            ("7ns", "7ns"),
            ("-1m", "-1m0s"),
        ] {
            assert_eq!(
                format_duration(parse_duration(text).unwrap()),
                printed,
                "{text}"
            );
        }
    }

    #[test]
    fn feature_gates_last_entry_wins_per_gate() {
        let list = "RotateKubeletServerCertificate=true, Other=false ,RotateKubeletServerCertificate=False";
        let gate = feature_gate(list, "RotateKubeletServerCertificate")
            .unwrap()
            .unwrap();
        assert!(!gate.enabled);
        assert_eq!(gate.text, "False");
        assert!(!feature_gate(list, "Other").unwrap().unwrap().enabled);
        assert_eq!(feature_gate(list, "Missing").unwrap(), None);
        assert_eq!(feature_gate("", "A").unwrap(), None);
        assert!(feature_gate(",,A=1,", "A").unwrap().unwrap().enabled);
        assert!(!feature_gate("A=0", "A").unwrap().unwrap().enabled);
        assert!(!feature_gate("A=f", "A").unwrap().unwrap().enabled);
    }

    #[test]
    fn malformed_feature_gates_are_errors() {
        assert!(feature_gate("A", "A").unwrap_err().contains("no value"));
        assert!(
            feature_gate("A=off", "A")
                .unwrap_err()
                .contains("not a boolean")
        );
        // An unrelated malformed entry makes the whole flag invalid, as for the component.
        assert!(feature_gate("B=maybe,A=true", "A").is_err());
    }

    #[test]
    fn zero_values() {
        assert!(Value::Duration(0).is_zero());
        assert!(!Value::Duration(1).is_zero());
        assert!(Value::Int(0).is_zero());
        assert!(Value::Bool(false).is_zero());
        assert!(Value::Text(String::new()).is_zero());
    }
}
