//! The `flag` check: judges a component's command-line flags, falling back to
//! its config file, then its environment, then Kubernetes' own default.

use kubecis_sdk::compare::Compare;
use kubecis_sdk::flags::Flags;
use kubecis_sdk::node::{self, Error, Process};
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
    #[serde(default = "yes")]
    set: bool,
    compare: Option<Compare>,
    default: Option<String>,
}

fn yes() -> bool {
    true
}

/// Where a value was found.
struct Found {
    value: String,
    source: String,
}

/// One process's view: its flags, its config file, its environment.
struct Evidence<'a> {
    process: &'a Process,
    flags: Flags,
    config: Option<&'a str>,
    env: Option<Vec<(String, String)>>,
}

impl Evidence<'_> {
    /// The test's value: command line first, then config file, then environment.
    fn lookup(&self, test: &Test) -> Result<Option<Found>, String> {
        // An empty value leaves a Kubernetes flag at its default: it counts as unset.
        if let Some(flag) = &test.flag
            && let Some(value) = self.flags.get(flag).filter(|v| !v.is_empty())
        {
            let name = flag.trim_start_matches('-');
            return Ok(Some(Found {
                source: format!("--{name}={value} on the command line"),
                value: value.into_owned(),
            }));
        }
        if let (Some(key), Some(path)) = (&test.key, self.config) {
            match node::config_value(path, key) {
                Ok(json) if !json_text(&json).is_empty() => {
                    let value = json_text(&json);
                    return Ok(Some(Found {
                        source: format!("{key}: {value} in {path}"),
                        value,
                    }));
                }
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(format!("reading {key} from {path}: {}", Why(&e))),
            }
        }
        if let (Some(var), Some(env)) = (&test.env, &self.env)
            && let Some((_, value)) = env.iter().find(|(k, v)| k == var && !v.is_empty())
        {
            return Ok(Some(Found {
                value: value.clone(),
                source: format!("{var}={value} in the environment"),
            }));
        }
        Ok(None)
    }

    /// Whether the test passes, and what was seen.
    fn judge(&self, test: &Test) -> Result<(bool, String), String> {
        let found = self.lookup(test)?;
        let name = describe(test);
        Ok(match (test.set, &test.compare, found) {
            (false, _, None) => (true, format!("{name} is not set")),
            (false, _, Some(f)) => (false, f.source),
            (true, None, Some(f)) => (true, f.source),
            (true, None, None) => (false, format!("{name} is not set")),
            (true, Some(cmp), Some(f)) => (cmp.holds(&f.value)?, f.source),
            (true, Some(cmp), None) => match &test.default {
                Some(d) => (
                    cmp.holds(d)?,
                    format!("{name} is not set (Kubernetes defaults to {d})"),
                ),
                None => (false, format!("{name} is not set")),
            },
        })
    }
}

/// A config value as text: strings unquoted, lists comma-joined.
fn json_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::String(s)) => s,
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
            let evidence = Evidence {
                process,
                flags: Flags::parse(&process.args),
                config: settings.config.as_deref(),
                env,
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
            let found: Vec<String> = results.into_iter().map(|(_, s)| s).collect();
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
