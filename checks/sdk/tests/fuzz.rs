//! Property tests ("fuzz targets") of the judgement logic: no input panics,
//! and flags read back as Kubernetes would read them.

use kubecis_sdk::compare::{Compare, Op};
use kubecis_sdk::flags::Flags;
use kubecis_sdk::perm;
use proptest::prelude::*;

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
}
