//! Command-line flags read the way Kubernetes components (spf13/pflag) read them.
//!
//! Where kube-bench differs, kubecis follows Kubernetes:
//! - `--flag value` (space separated) carries `value`, not `"true"`;
//! - names match exactly, never as a prefix or a substring;
//! - a repeated flag takes its last value.

/// Flags Kubernetes declares as lists (pflag string slices and maps): a
/// repeated occurrence adds to the earlier ones instead of replacing them.
const LIST_FLAGS: &[&str] = &[
    "admission-control",
    "api-audiences",
    "authorization-mode",
    "cors-allowed-origins",
    "disable-admission-plugins",
    "enable-admission-plugins",
    "etcd-servers",
    "feature-gates",
    "service-account-key-file",
    "tls-cipher-suites",
];

/// The flags of one command line, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    entries: Vec<(String, Option<String>)>,
}

impl Flags {
    /// Parse the arguments after argv\[0\].
    ///
    /// A flag without `=` takes the next argument as its value unless that
    /// argument is itself a flag. pflag does this for every non-boolean flag;
    /// for booleans the other reading would leave a positional argument, which
    /// Kubernetes components refuse, so it cannot occur on a running component.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Flags {
        let mut entries = Vec::new();
        let mut rest = args.iter().map(AsRef::as_ref).peekable();
        while let Some(arg) = rest.next() {
            if arg == "--" {
                break; // everything after is positional
            }
            let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                continue; // positional argument
            };
            if body.is_empty() {
                continue;
            }
            match body.split_once('=') {
                Some((name, value)) => entries.push((name.to_owned(), Some(value.to_owned()))),
                None => {
                    let value = rest
                        .next_if(|next| !next.starts_with('-'))
                        .map(str::to_owned);
                    entries.push((body.to_owned(), value));
                }
            }
        }
        Flags { entries }
    }

    /// The value of `name` (with or without leading dashes): the last
    /// occurrence wins, except for list flags, whose occurrences join with
    /// commas; a bare flag reads as `"true"`.
    pub fn get(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        let name = name.trim_start_matches('-');
        let mut values = self
            .entries
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or("true"));
        if LIST_FLAGS.contains(&name) {
            let all: Vec<&str> = values.filter(|v| !v.is_empty()).collect();
            let any = self.entries.iter().any(|(n, _)| n == name);
            return any.then(|| all.join(",").into());
        }
        values.next_back().map(std::borrow::Cow::Borrowed)
    }

    /// Whether `name` occurs at all.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Flags {
        Flags::parse(&line.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn equals_form() {
        assert_eq!(
            parse("--anonymous-auth=false")
                .get("--anonymous-auth")
                .as_deref(),
            Some("false")
        );
    }

    #[test]
    fn value_with_equals_sign_keeps_the_rest() {
        let f = parse("--feature-gates=A=true,B=false");
        assert_eq!(f.get("feature-gates").as_deref(), Some("A=true,B=false"));
    }

    #[test]
    fn space_form_carries_the_value_unlike_kube_bench() {
        // kube-bench reads `--authorization-mode AlwaysAllow` as "true".
        let f = parse("--authorization-mode AlwaysAllow --profiling=false");
        assert_eq!(f.get("authorization-mode").as_deref(), Some("AlwaysAllow"));
        assert_eq!(f.get("profiling").as_deref(), Some("false"));
    }

    #[test]
    fn bare_flag_is_true() {
        let f = parse("--client-cert-auth --auto-tls");
        assert_eq!(f.get("client-cert-auth").as_deref(), Some("true"));
        assert_eq!(f.get("auto-tls").as_deref(), Some("true"));
    }

    #[test]
    fn bare_flag_at_the_end_is_true() {
        assert_eq!(
            parse("--a=1 --peer-auto-tls")
                .get("peer-auto-tls")
                .as_deref(),
            Some("true")
        );
    }

    #[test]
    fn last_repeated_flag_wins_unlike_kube_bench() {
        let f = parse("--profiling=false --v=2 --profiling=true");
        assert_eq!(f.get("profiling").as_deref(), Some("true"));
    }

    #[test]
    fn repeated_list_flags_add_up_as_in_pflag() {
        let f = parse(
            "--authorization-mode=Node --enable-admission-plugins=NodeRestriction --authorization-mode=RBAC --enable-admission-plugins=AlwaysAdmit",
        );
        assert_eq!(f.get("authorization-mode").as_deref(), Some("Node,RBAC"));
        assert_eq!(
            f.get("enable-admission-plugins").as_deref(),
            Some("NodeRestriction,AlwaysAdmit")
        );
        let g = parse("--feature-gates=A=false --feature-gates=B=true");
        assert_eq!(g.get("feature-gates").as_deref(), Some("A=false,B=true"));
    }

    #[test]
    fn exact_names_only_unlike_kube_bench() {
        // kube-bench finds `--audit-log-maxage` inside `--audit-log-maxage-extra=30`.
        let f = parse("--audit-log-maxage-extra=30 --kubelet-https=true");
        assert_eq!(f.get("audit-log-maxage").as_deref(), None);
        assert_eq!(f.get("kubelet-http").as_deref(), None);
        assert!(!f.contains("audit-log"));
    }

    #[test]
    fn single_dash_and_shorthand() {
        let f = parse("-v 4 -h");
        assert_eq!(f.get("v").as_deref(), Some("4"));
        assert_eq!(f.get("h").as_deref(), Some("true"));
    }

    #[test]
    fn double_dash_ends_flags() {
        let f = parse("--a=1 -- --b=2");
        assert_eq!(f.get("a").as_deref(), Some("1"));
        assert_eq!(f.get("b").as_deref(), None);
    }

    #[test]
    fn positional_arguments_are_skipped() {
        // `hyperkube kubelet --x=1`: "kubelet" is the subcommand.
        let f = parse("kubelet --x=1");
        assert_eq!(f.get("x").as_deref(), Some("1"));
        assert_eq!(f.get("kubelet").as_deref(), None);
    }

    #[test]
    fn empty_value_is_kept() {
        assert_eq!(
            parse("--token-auth-file=")
                .get("token-auth-file")
                .as_deref(),
            Some("")
        );
    }
}
