//! A deliberately hostile check, built only to prove the sandbox holds:
//! each `behaviour` attacks one limit of the host.

use kubecis_sdk::{Check, Outcome, Status, Why, node, outcome};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(tag = "behaviour", rename_all = "kebab-case")]
enum Settings {
    /// Never returns: the epoch deadline must stop it.
    Spin,
    /// Allocates until memory runs out: the memory cap must stop it.
    Hog,
    /// Returns an outcome far larger than the host accepts.
    Flood { bytes: usize },
    /// Reads a path it was not granted and claims a pass if the host answers.
    Snoop { path: String },
    /// Traps outright.
    Crash,
    /// Sleeps through WASI's clock: the host must not block with it.
    Sleep { ms: u64 },
    /// Reads a value of a granted file and claims a pass with what it got.
    Value { path: String, key: String },
    /// Reads the whole environment of a component's first process.
    Environ { component: String },
    /// Asks for the same value again and again, to take more than its budget.
    Drain {
        path: String,
        key: String,
        times: usize,
    },
    /// Reports what argv the host hands over for a component.
    Argv { component: String },
}

struct Hostile;

impl Check for Hostile {
    type Settings = Settings;

    fn judge(settings: Settings) -> Outcome {
        match settings {
            Settings::Spin => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Settings::Hog => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            Settings::Flood { bytes } => outcome(Status::Pass, "", "x".repeat(bytes), ""),
            Settings::Snoop { path } => match node::config_value(&path, "") {
                Ok(v) => outcome(Status::Pass, "", v, "read what it was not granted"),
                Err(e) => match node::stat(&path) {
                    Ok(_) => outcome(Status::Pass, "", "stat succeeded", ""),
                    Err(e2) => outcome(Status::Error, "", "", format!("{}; {}", Why(&e), Why(&e2))),
                },
            },
            Settings::Crash => unreachable!("crash on purpose"),
            Settings::Sleep { ms } => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                outcome(Status::Pass, "", "slept", "")
            }
            Settings::Value { path, key } => match node::config_value(&path, &key) {
                Ok(v) => outcome(Status::Pass, "", v, "the host answered"),
                Err(e) => outcome(Status::Error, "", "", Why(&e).to_string()),
            },
            Settings::Environ { component } => {
                let found = node::processes(&component)
                    .ok()
                    .and_then(|p| p.first().map(|p| p.pid));
                let Some(pid) = found else {
                    return outcome(Status::Error, "", "", format!("no {component} process"));
                };
                match node::environment(pid) {
                    Ok(env) => {
                        let text: Vec<String> =
                            env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        outcome(Status::Pass, "", text.join(" "), "the host answered")
                    }
                    Err(e) => outcome(Status::Error, "", "", Why(&e).to_string()),
                }
            }
            Settings::Drain { path, key, times } => {
                let mut got = 0;
                for _ in 0..times {
                    match node::config_value(&path, &key) {
                        Ok(v) => got += v.len(),
                        Err(e) => {
                            return outcome(
                                Status::Error,
                                "",
                                format!("{got} bytes"),
                                Why(&e).to_string(),
                            );
                        }
                    }
                }
                outcome(
                    Status::Pass,
                    "",
                    format!("{got} bytes"),
                    "took everything it asked for",
                )
            }
            Settings::Argv { component } => match node::processes(&component) {
                Ok(list) => {
                    let text: Vec<String> = list
                        .iter()
                        .map(|p| format!("{} {}", p.binary, p.args.join(" ")))
                        .collect();
                    outcome(Status::Pass, "", text.join("; "), "the host answered")
                }
                Err(e) => outcome(Status::Error, "", "", Why(&e).to_string()),
            },
        }
    }
}

kubecis_sdk::check!(Hostile);
