//! The `flag` check: judges a component's command-line flags, falling back to
//! its config file, then its environment, then Kubernetes' own default.

use kubecis_sdk::compare::Compare;
use kubecis_sdk::flags::Flags;
use kubecis_sdk::node::{self, Error, Process};
use kubecis_sdk::values::{self, Kind, Value};
use kubecis_sdk::{Check, Outcome, Status, Why, outcome};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    component: String,
    /// The file `key` lookups read.
    config: Option<String>,
    #[serde(default)]
    combine: Combine,
    tests: Vec<Test>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Combine {
    #[default]
    And,
    Or,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Test {
    flag: Option<String>,
    key: Option<String>,
    env: Option<String>,
    /// A feature gate: its entry in the `flag` list (`--feature-gates=Gate=false`), else its
    /// entry in the `key` map of the config file (`featureGates: {Gate: false}`). The value is a
    /// boolean.
    gate: Option<String>,
    /// The gate's stage: `AllAlpha` or `AllBeta` sets an alpha or beta gate that is not named.
    stage: Option<Stage>,
    /// How Kubernetes reads the value; `text` compares the text as found.
    #[serde(rename = "type", default)]
    kind: Kind,
    #[serde(default = "yes")]
    set: bool,
    compare: Option<Compare>,
    default: Option<String>,
    /// The Kubernetes version (`1.22`) from which the setting no longer has an effect (the
    /// insecure port it configured is gone): there, an absent setting passes.
    removed_in: Option<String>,
    /// A zero value in the config file counts as unset: the component's defaulting cannot tell
    /// a serialized zero from an absent field and replaces both by `default`.
    #[serde(default)]
    config_zero_is_default: bool,
}

impl Test {
    /// The kind the value is parsed as: a feature gate is a boolean.
    fn kind(&self) -> Kind {
        if self.gate.is_some() {
            Kind::Bool
        } else {
            self.kind
        }
    }

    /// Settings that cannot mean anything.
    fn problem(&self) -> Option<String> {
        let name = describe(self);
        if self.flag.is_none() && self.key.is_none() && self.env.is_none() {
            return Some("a test names no flag, key or environment variable".into());
        }
        if self.gate.is_some() {
            if !matches!(self.kind, Kind::Text | Kind::Bool) {
                return Some(format!("{name}: a feature gate is a boolean"));
            }
            if self.env.is_some() {
                return Some(format!(
                    "{name}: feature gates are not read from the environment"
                ));
            }
        }
        if self.stage.is_some() && self.gate.is_none() {
            return Some(format!("{name}: a stage without a gate"));
        }
        if self.config_zero_is_default && self.key.is_none() {
            return Some(format!(
                "{name}: config_zero_is_default without a config key"
            ));
        }
        if let Some(v) = &self.removed_in
            && minor_version(v).is_none()
        {
            return Some(format!(
                "{name}: removed_in {v:?} is not a Kubernetes version such as 1.22"
            ));
        }
        None
    }
}

/// A feature gate's maturity, as Kubernetes declares it.
#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Stage {
    Alpha,
    Beta,
    Ga,
}

impl Stage {
    /// The gate that sets every gate of this stage that is not named itself.
    fn catch_all(self) -> Option<&'static str> {
        match self {
            Stage::Alpha => Some("AllAlpha"),
            Stage::Beta => Some("AllBeta"),
            Stage::Ga => None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Where a value was found.
struct Found {
    value: Value,
    source: String,
}

/// What a lookup saw: a value, or nothing (and perhaps a zero the component replaces).
struct Lookup {
    found: Option<Found>,
    /// A config-file zero that counts as unset, in words.
    zeroed: Option<String>,
}

/// One process's view: its flags, its config file, its environment, and the node's
/// Kubernetes version when a test depends on it.
struct Evidence<'a> {
    process: &'a Process,
    flags: Flags,
    config: Option<&'a str>,
    /// The kubelet's `--config-dir` files, in the order the kubelet applies them.
    drop_ins: Vec<String>,
    env: Option<Vec<(String, String)>>,
    kubernetes: Option<&'a str>,
}

/// The `.conf` files of the kubelet's `--config-dir`, in lexical order: the
/// kubelet merges each over its `--config` file, the last one winning key by key.
fn drop_ins(flags: &Flags) -> Result<Vec<String>, String> {
    let Some(dir) = flags.get("config-dir").filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut names = match node::list_dir(&dir) {
        Ok(names) => names,
        Err(Error::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "listing the kubelet's --config-dir {dir}: {}",
                Why(&e)
            ));
        }
    };
    names.retain(|n| n.ends_with(".conf"));
    names.sort();
    let dir = dir.trim_end_matches('/');
    Ok(names.into_iter().map(|n| format!("{dir}/{n}")).collect())
}

/// `1.22.4`, `v1.22` or `1.22.0+k3s1` as (1, 22).
fn minor_version(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.trim_start_matches('v').split(['.', '+', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

impl Evidence<'_> {
    /// The flag's value on the command line; an empty value leaves a Kubernetes flag at its
    /// default, so it counts as unset.
    fn flag_value(&self, test: &Test) -> Option<(String, String)> {
        let flag = test.flag.as_deref()?;
        let value = self.flags.get(flag).filter(|v| !v.is_empty())?;
        Some((flag.trim_start_matches('-').to_owned(), value.into_owned()))
    }

    /// A config value by key, as text, and the file that set it: the last
    /// drop-in that has the key, else the config file. `None` when the key is
    /// absent, empty or null everywhere.
    fn config_text(&self, key: &str) -> Result<Option<(String, String)>, String> {
        let Some(config) = self.config else {
            return Ok(None);
        };
        for path in self
            .drop_ins
            .iter()
            .rev()
            .map(String::as_str)
            .chain([config])
        {
            match node::config_value(path, key) {
                Ok(json) => {
                    let text = json_text(&json);
                    if !text.is_empty() {
                        return Ok(Some((text, path.to_owned())));
                    }
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(format!("reading {key} from {path}: {}", Why(&e))),
            }
        }
        Ok(None)
    }

    /// A feature gate's value, as the component resolves it: the gate named on the command line,
    /// else in the config file's map (the kubelet merges the two gate by gate), else the
    /// catch-all of its stage (`AllBeta=false`), command line first. Nothing found: the default.
    fn lookup_gate(&self, test: &Test, gate: &str) -> Result<Lookup, String> {
        let line = match self.flag_value(test) {
            Some((name, value)) => {
                let on_line = format!("--{name}={value} on the command line");
                values::feature_gates(&value).map_err(|e| format!("{on_line}: {e}"))?;
                Some((name, value))
            }
            None => None,
        };
        let catch_all = test.stage.and_then(Stage::catch_all);
        for name in std::iter::once(gate).chain(catch_all) {
            let why = if name == gate {
                String::new()
            } else {
                format!(", which sets {gate} since it is not named itself")
            };
            if let Some((flag, list)) = &line
                && let Some(g) = values::feature_gate(list, name)?
            {
                return Ok(Lookup {
                    found: Some(Found {
                        value: Value::Bool(g.enabled),
                        source: format!("{name}={} in --{flag} on the command line{why}", g.text),
                    }),
                    zeroed: None,
                });
            }
            if let Some(map) = &test.key {
                let key = format!("{map}.{name}");
                if let Some((text, path)) = self.config_text(&key)? {
                    let seen = format!("{key}: {text} in {path}");
                    let enabled = Kind::Bool
                        .parse_config(&text)
                        .map_err(|e| format!("{seen}: {e}"))?;
                    return Ok(Lookup {
                        found: Some(Found {
                            value: enabled,
                            source: format!("{seen}{why}"),
                        }),
                        zeroed: None,
                    });
                }
            }
        }
        Ok(Lookup {
            found: None,
            zeroed: None,
        })
    }

    /// The test's value: command line first, then config file, then environment.
    fn lookup(&self, test: &Test) -> Result<Lookup, String> {
        if let Some(gate) = &test.gate {
            return self.lookup_gate(test, gate);
        }
        let kind = test.kind();
        if let Some((name, value)) = self.flag_value(test) {
            let on_line = format!("--{name}={value} on the command line");
            let parsed = kind
                .parse_flag(&value)
                .map_err(|e| format!("{on_line}: {e}"))?;
            return Ok(Lookup {
                found: Some(Found {
                    value: parsed,
                    source: on_line,
                }),
                zeroed: None,
            });
        }
        let mut zeroed = None;
        if let Some(key) = &test.key
            && let Some((text, path)) = self.config_text(key)?
        {
            let seen = format!("{key}: {text} in {path}");
            let parsed = kind
                .parse_config(&text)
                .map_err(|e| format!("{seen}: {e}"))?;
            if test.config_zero_is_default && parsed.is_zero() {
                zeroed = Some(seen);
            } else {
                return Ok(Lookup {
                    found: Some(Found {
                        value: parsed,
                        source: seen,
                    }),
                    zeroed: None,
                });
            }
        }
        if let (Some(var), Some(env)) = (&test.env, &self.env)
            && let Some((_, value)) = env.iter().find(|(k, v)| k == var && !v.is_empty())
        {
            let seen = format!("{var}={value} in the environment");
            let parsed = kind.parse_flag(value).map_err(|e| format!("{seen}: {e}"))?;
            return Ok(Lookup {
                found: Some(Found {
                    value: parsed,
                    source: seen,
                }),
                zeroed: None,
            });
        }
        Ok(Lookup {
            found: None,
            zeroed,
        })
    }

    /// Whether the test passes, and what was seen.
    fn judge(&self, test: &Test) -> Result<(bool, String), String> {
        let Lookup { found, zeroed } = self.lookup(test)?;
        let name = describe(test);
        if let (None, true, Some(removed), Some(runs)) =
            (&found, test.set, &test.removed_in, self.kubernetes)
            && minor_version(runs) >= minor_version(removed)
        {
            return Ok((
                true,
                format!(
                    "{name} is not set, and has no effect from Kubernetes {removed} on (this node runs {runs})"
                ),
            ));
        }
        let unset = match &zeroed {
            Some(z) => format!("{z}, a zero value that counts as unset"),
            None => format!("{name} is not set"),
        };
        Ok(match (test.set, &test.compare, found) {
            (false, _, None) => (true, unset),
            (false, _, Some(f)) => (false, f.source),
            (true, None, Some(f)) => (true, f.source),
            (true, None, None) => (false, unset),
            (true, Some(cmp), Some(f)) => (cmp.holds_value(&f.value)?, f.source),
            (true, Some(cmp), None) => match &test.default {
                Some(d) => {
                    let value = test
                        .kind()
                        .parse_flag(d)
                        .map_err(|e| format!("the item's default for {name}: {e}"))?;
                    let why = match zeroed {
                        Some(z) => {
                            format!("{z}, a zero value Kubernetes replaces by its default {d}")
                        }
                        None => format!("{name} is not set (Kubernetes defaults to {d})"),
                    };
                    (cmp.holds_value(&value)?, why)
                }
                None => (false, unset),
            },
        })
    }
}

/// A config value as text: strings unquoted, lists comma-joined, null empty (a decoder
/// leaves a field it reads as null unset).
fn json_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) => String::new(),
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Ok(other) => other.to_string(),
        Err(_) => json.to_owned(),
    }
}

fn describe(test: &Test) -> String {
    if let Some(gate) = &test.gate {
        return format!("feature gate {gate}");
    }
    let mut names = Vec::new();
    if let Some(f) = &test.flag {
        names.push(format!("--{}", f.trim_start_matches('-')));
    }
    if let Some(k) = &test.key {
        names.push(k.clone());
    }
    if let Some(e) = &test.env {
        names.push(format!("${e}"));
    }
    names.join(" / ")
}

fn expectation(settings: &Settings) -> String {
    let parts: Vec<String> = settings
        .tests
        .iter()
        .map(|t| {
            let name = describe(t);
            match (t.set, &t.compare) {
                (false, _) => format!("{name} is not set"),
                (true, None) => format!("{name} is set"),
                (true, Some(c)) => format!("{name} {c}"),
            }
        })
        .collect();
    let joiner = match settings.combine {
        Combine::And => " and ",
        Combine::Or => " or ",
    };
    parts.join(joiner)
}

struct FlagCheck;

impl Check for FlagCheck {
    type Settings = Settings;

    fn judge(settings: Settings) -> Outcome {
        let expected = expectation(&settings);
        let fail = |reason: String| outcome(Status::Error, &expected, "", reason);
        if settings.tests.is_empty() {
            return fail("the item's settings name no tests".into());
        }
        if let Some(problem) = settings.tests.iter().find_map(Test::problem) {
            return fail(format!("invalid settings: {problem}"));
        }
        let processes = match node::processes(&settings.component) {
            Ok(p) => p,
            Err(e) => {
                return fail(format!(
                    "listing {} processes: {}",
                    settings.component,
                    Why(&e)
                ));
            }
        };
        if processes.is_empty() {
            return outcome(
                Status::NotApplicable,
                &expected,
                "",
                format!("no {} process is running on this node", settings.component),
            );
        }
        let wants_env = settings.tests.iter().any(|t| t.env.is_some());
        // Asked only when a test depends on it (the host knows it without a grant).
        let kubernetes = if settings.tests.iter().any(|t| t.removed_in.is_some()) {
            node::info().kubernetes_version
        } else {
            None
        };
        let mut all_pass = true;
        let mut seen = Vec::new();
        for process in &processes {
            let env = if wants_env {
                match node::environment(process.pid) {
                    Ok(env) => Some(env),
                    Err(e) => {
                        return fail(format!("environment of pid {}: {}", process.pid, Why(&e)));
                    }
                }
            } else {
                None
            };
            let flags = Flags::parse(&process.args);
            let drop_ins = if settings.component == "kubelet" && settings.config.is_some() {
                match drop_ins(&flags) {
                    Ok(files) => files,
                    Err(e) => return fail(e),
                }
            } else {
                Vec::new()
            };
            let evidence = Evidence {
                process,
                flags,
                config: settings.config.as_deref(),
                drop_ins,
                env,
                kubernetes: kubernetes.as_deref(),
            };
            let mut results = Vec::new();
            for test in &settings.tests {
                match evidence.judge(test) {
                    Ok(r) => results.push(r),
                    Err(e) => return fail(e),
                }
            }
            let pass = match settings.combine {
                Combine::And => results.iter().all(|(p, _)| *p),
                Combine::Or => results.iter().any(|(p, _)| *p),
            };
            all_pass &= pass;
            // Two tests of one flag found the same thing: say it once.
            let mut found: Vec<String> = Vec::new();
            for (_, fact) in results {
                if !found.contains(&fact) {
                    found.push(fact);
                }
            }
            let found = found.join("; ");
            seen.push(if processes.len() > 1 {
                format!("pid {}: {found}", evidence.process.pid)
            } else {
                found
            });
        }
        let status = if all_pass { Status::Pass } else { Status::Fail };
        outcome(status, expected, seen.join(" | "), "")
    }
}

kubecis_sdk::check!(FlagCheck);
