//! The `encryption` check: secrets are encrypted at rest by a strong
//! provider. The API server's `--encryption-provider-config` names an
//! EncryptionConfiguration; for the resources that cover secrets, the first
//! provider is the one that writes, so it must be one of `providers`
//! (`identity` first stores them in plain text whatever follows).

use kubecis_sdk::flags::Flags;
use kubecis_sdk::node::{self, Error};
use kubecis_sdk::{Check, Outcome, Status, Why, outcome};
use serde::Deserialize;
use serde_json::Value;

const FLAG: &str = "encryption-provider-config";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Providers that may come first for secrets (`aescbc`, `kms`, `secretbox`).
    providers: Vec<String>,
}

/// Whether a `resources` entry covers Secrets: `secrets`, `secrets.` (the
/// core group spelled out), `*.` (every core resource) or `*.*`.
fn covers_secrets(names: &Value) -> bool {
    names.as_array().is_some_and(|names| {
        names
            .iter()
            .filter_map(Value::as_str)
            .any(|n| matches!(n, "secrets" | "secrets." | "*." | "*.*"))
    })
}

/// The name of a provider entry: its one key (`{"aescbc": {...}}`).
fn provider_name(entry: &Value) -> Option<&str> {
    entry.as_object()?.keys().next().map(String::as_str)
}

struct Encryption;

impl Check for Encryption {
    type Settings = Settings;

    fn judge(settings: Settings) -> Outcome {
        let expected = format!(
            "secrets encrypted at rest, the first provider one of {}",
            settings.providers.join(", ")
        );
        let fail = |actual: String, reason: &str| outcome(Status::Fail, &expected, actual, reason);
        let error = |reason: String| outcome(Status::Error, &expected, "", reason);
        let servers = match node::processes("apiserver") {
            Ok(p) => p,
            Err(e) => return error(format!("listing apiserver processes: {}", Why(&e))),
        };
        let Some(server) = servers.first() else {
            return outcome(
                Status::NotApplicable,
                &expected,
                "",
                "no apiserver process is running on this node",
            );
        };
        let flags = Flags::parse(&server.args);
        let Some(path) = flags
            .get(FLAG)
            .filter(|p| !p.is_empty())
            .map(|p| p.into_owned())
        else {
            return fail(
                format!("--{FLAG} is not set"),
                "the API server stores secrets in etcd unencrypted",
            );
        };
        let resources = match node::config_value(&path, "resources") {
            Ok(json) => serde_json::from_str::<Value>(&json).unwrap_or(Value::Null),
            Err(Error::NotFound(_)) => {
                return error(format!(
                    "--{FLAG}={path}, but {path} is not on this node (or has no resources)"
                ));
            }
            Err(e) => return error(format!("{path}: {}", Why(&e))),
        };
        let Some(entries) = resources.as_array() else {
            return error(format!("{path}: resources is not a list"));
        };
        let Some(entry) = entries.iter().find(|e| covers_secrets(&e["resources"])) else {
            return fail(
                format!("no resources entry of {path} covers secrets"),
                "secrets are stored unencrypted",
            );
        };
        let names: Vec<&str> = entry["providers"]
            .as_array()
            .map(|ps| ps.iter().filter_map(provider_name).collect())
            .unwrap_or_default();
        let actual = format!("providers for secrets in {path}: {}", names.join(", "));
        match names.first() {
            Some(first) if settings.providers.iter().any(|p| p == first) => {
                outcome(Status::Pass, &expected, actual, "")
            }
            Some(&"identity") => fail(
                actual,
                "identity comes first: new secrets are written unencrypted",
            ),
            Some(first) => fail(actual, &format!("{first} comes first")),
            None => fail(actual, "no provider is listed for secrets"),
        }
    }
}

kubecis_sdk::check!(Encryption);
