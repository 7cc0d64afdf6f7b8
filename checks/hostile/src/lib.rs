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
        }
    }
}

kubecis_sdk::check!(Hostile);
