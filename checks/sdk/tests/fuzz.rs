//! Property tests ("fuzz targets") of the judgement logic: no input panics,
//! and flags and values read back as Kubernetes would read them.

use kubecis_sdk::compare::{Compare, Op};
use kubecis_sdk::flags::Flags;
use kubecis_sdk::perm;
use kubecis_sdk::values::{self, Kind, Value};
use proptest::prelude::*;

/// Go's spellings of a boolean.
const TRUE: [&str; 6] = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE: [&str; 6] = ["0", "f", "F", "FALSE", "false", "False"];

const OPS: [Op; 11] = [
    Op::Eq,
    Op::Noteq,
    Op::Gt,
    Op::Gte,
    Op::Lt,
    Op::Lte,
    Op::Has,
    Op::Nothave,
    Op::Regex,
    Op::ValidElements,
    Op::Bitmask,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_command_line_parses(args in proptest::collection::vec(".*", 0..40), name in ".*") {
        let flags = Flags::parse(&args);
        let _ = flags.get(&name);
    }

    #[test]
    // Names start with x: no Kubernetes list flag does, so the last value wins.
    fn the_last_value_of_a_scalar_flag_wins(
        pairs in proptest::collection::vec(("x[a-z0-9]{0,6}(-[a-z0-9]{1,6}){0,2}", "[A-Za-z0-9_.:/,=]{1,12}", any::<bool>()), 1..20)
    ) {
        let mut args = Vec::new();
        for (name, value, spaced) in &pairs {
            if *spaced {
                args.push(format!("--{name}"));
                args.push(value.clone());
            } else {
                args.push(format!("--{name}={value}"));
            }
        }
        let flags = Flags::parse(&args);
        for (name, _, _) in &pairs {
            let last = pairs.iter().rev().find(|(n, _, _)| n == name).unwrap();
            let got = flags.get(name);
            prop_assert_eq!(got.as_deref(), Some(last.1.as_str()));
        }
    }

    #[test]
    fn any_comparison_answers_or_explains(op in 0..OPS.len(), want in ".*", actual in ".*") {
        let _ = Compare { op: OPS[op], value: want }.holds(&actual);
    }

    #[test]
    fn any_mode_text_parses_or_explains(text in ".*") {
        if let Ok(mode) = perm::parse_mode(&text) {
            prop_assert!(mode <= 0o7777);
        }
    }

    #[test]
    fn any_value_text_parses_or_explains(text in ".*", gate in "[A-Za-z]{1,8}") {
        let _ = values::parse_bool(&text);
        let _ = values::parse_int(&text);
        let _ = values::parse_duration(&text);
        let _ = values::feature_gate(&text, &gate);
        for kind in [Kind::Text, Kind::Bool, Kind::Int, Kind::Duration] {
            let _ = kind.parse_flag(&text);
            let _ = kind.parse_config(&text);
        }
    }

    #[test]
    fn any_typed_comparison_answers_or_explains(op in 0..OPS.len(), want in ".*", n in any::<i64>(), b in any::<bool>()) {
        for actual in [Value::Bool(b), Value::Int(n), Value::Duration(n), Value::Text(want.clone())] {
            let _ = Compare { op: OPS[op], value: want.clone() }.holds_value(&actual);
        }
    }

    #[test]
    // Go writes an integer flag in decimal, hex, octal (0o or a bare leading 0) or binary.
    fn integers_read_back_in_every_base(n in any::<i64>(), form in 0..5usize) {
        let sign = if n < 0 { "-" } else { "" };
        let m = n.unsigned_abs();
        let text = match form {
            0 => n.to_string(),
            1 => format!("{sign}0x{m:x}"),
            2 => format!("{sign}0o{m:o}"),
            3 => format!("{sign}0{m:o}"),
            _ => format!("{sign}0b{m:b}"),
        };
        prop_assert_eq!(values::parse_int(&text), Ok(n), "{}", text);
    }

    #[test]
    fn durations_read_back_as_go_prints_them(nanos in any::<i64>()) {
        let text = values::format_duration(nanos);
        prop_assert_eq!(values::parse_duration(&text), Ok(nanos), "{}", text);
    }

    #[test]
    fn durations_add_up_their_parts(h in 0u64..10_000, m in 0u64..1_000, s in 0u64..1_000, ms in 0u64..1_000) {
        let text = format!("{h}h{m}m{s}s{ms}ms");
        let want = ((h * 3600 + m * 60 + s) * 1_000 + ms) * 1_000_000;
        prop_assert_eq!(values::parse_duration(&text), Ok(want as i64), "{}", text);
        // A number without its unit is no duration (only a lone 0 is).
        let unitless = format!("{h}{m}");
        prop_assert!(values::parse_duration(&unitless).is_err(), "{}", unitless);
    }

    #[test]
    // Entries spread over repeated --feature-gates flags: the last entry of a gate wins,
    // whatever Go spelling of true or false it uses.
    fn the_last_entry_of_a_feature_gate_wins(
        entries in proptest::collection::vec((0..3usize, any::<bool>(), 0..6usize, 0..3usize), 1..20)
    ) {
        let names = ["RotateKubeletServerCertificate", "GracefulNodeShutdown", "Other"];
        let mut args = Vec::new();
        let mut current: Vec<String> = Vec::new();
        for (name, on, spelling, split) in &entries {
            let value = if *on { TRUE[*spelling] } else { FALSE[*spelling] };
            current.push(format!("{}={value}", names[*name]));
            if *split == 0 {
                args.push(format!("--feature-gates={}", current.join(",")));
                current.clear();
            }
        }
        if !current.is_empty() {
            args.push(format!("--feature-gates={}", current.join(",")));
        }
        let flags = Flags::parse(&args);
        let list = flags.get("feature-gates").unwrap();
        for (i, name) in names.iter().enumerate() {
            let want = entries.iter().rev().find(|e| e.0 == i).map(|e| e.1);
            let got = values::feature_gate(&list, name).unwrap().map(|g| g.enabled);
            prop_assert_eq!(got, want, "{}", name);
        }
    }
}
