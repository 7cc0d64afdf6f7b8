//! `static-pod-limits`: every container of every static pod sets the
//! resource limits the organisation requires (by default a memory limit).
//! A control-plane pod without one can take the node's memory when it
//! leaks or is flooded, and the kubelet then evicts or OOM-kills at random.
//!
//! Settings: `dirs` (the static pod directories, granted as `content`),
//! `limits` (the resources each container must limit, default `memory`).

use kubecis_sdk::node::{self, Error};
use kubecis_sdk::{Check, Outcome, Status, Why, outcome};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    dirs: Vec<String>,
    #[serde(default = "memory")]
    limits: Vec<String>,
}

fn memory() -> Vec<String> {
    vec!["memory".into()]
}

/// The file names the kubelet reads as static pods (it skips dot files).
fn is_manifest(name: &str) -> bool {
    !name.starts_with('.')
        && [".yaml", ".yml", ".json", ".manifest"]
            .iter()
            .any(|s| name.ends_with(s))
}

struct StaticPodLimits;

impl Check for StaticPodLimits {
    type Settings = Settings;

    fn judge(settings: Settings) -> Outcome {
        let expected = format!(
            "every static pod container sets resources.limits {}",
            settings.limits.join(", ")
        );
        let mut judged = 0;
        let mut missing = Vec::new();
        for dir in &settings.dirs {
            let names = match node::list_dir(dir) {
                Ok(names) => names,
                Err(Error::NotFound(_)) => continue,
                Err(e) => {
                    return outcome(Status::Error, expected, "", format!("{dir}: {}", Why(&e)));
                }
            };
            for name in names.iter().filter(|n| is_manifest(n)) {
                let path = format!("{}/{name}", dir.trim_end_matches('/'));
                let containers = match node::config_value(&path, "spec.containers") {
                    Ok(json) => serde_json::from_str::<Value>(&json).unwrap_or(Value::Null),
                    Err(e) => {
                        return outcome(
                            Status::Error,
                            expected,
                            "",
                            format!("{path}: {}", Why(&e)),
                        );
                    }
                };
                let Some(containers) = containers.as_array() else {
                    return outcome(
                        Status::Error,
                        expected,
                        "",
                        format!("{path}: spec.containers is not a list"),
                    );
                };
                for container in containers {
                    judged += 1;
                    let name = container["name"].as_str().unwrap_or("(unnamed)");
                    let limits = &container["resources"]["limits"];
                    let absent: Vec<&str> = settings
                        .limits
                        .iter()
                        .filter(|r| limits.get(r.as_str()).is_none_or(Value::is_null))
                        .map(String::as_str)
                        .collect();
                    if !absent.is_empty() {
                        missing.push(format!("{path} container {name}: no {}", absent.join(", ")));
                    }
                }
            }
        }
        match (judged, missing.is_empty()) {
            (0, _) => outcome(
                Status::NotApplicable,
                expected,
                "no static pod",
                format!("no static pod manifest in {}", settings.dirs.join(", ")),
            ),
            (n, true) => outcome(
                Status::Pass,
                expected,
                format!("{n} containers set them"),
                "",
            ),
            (n, false) => outcome(
                Status::Fail,
                expected,
                missing.join("; "),
                format!("{} of {n} containers set no limit", missing.len()),
            ),
        }
    }
}

kubecis_sdk::check!(StaticPodLimits);
