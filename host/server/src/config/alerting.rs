//! Notifiers and alert rules in the server's config: where alerts go
//! (a webhook, a Slack-compatible incoming webhook, Alertmanager) and when a
//! scan sends one (completed, has failures, new failures since the last
//! report), for manual and scheduled runs, at a level, at most so often.

use super::AlertSwitches;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct NotifierFile {
    name: String,
    /// A generic webhook: the alert's JSON body, POSTed.
    webhook: Option<Endpoint>,
    /// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).
    slack: Option<Endpoint>,
    /// Prometheus Alertmanager: its base URL; alerts go to `/api/v2/alerts`.
    alertmanager: Option<Endpoint>,
    /// Scans that name no notifier send Rancher's alerts here.
    #[serde(default)]
    default: bool,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    timeout: Duration,
    /// Tries after the first failed one, with backoff (1 s doubling to 60 s).
    #[serde(default = "default_retries")]
    retries: u32,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_retries() -> u32 {
    4
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Endpoint {
    /// The URL itself: for Alertmanager only (a webhook's URL is its secret).
    url: Option<String>,
    /// A file holding the URL (a mounted Secret).
    url_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifierKind {
    Webhook,
    Slack,
    Alertmanager,
}

/// A URL that came from a secret: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(pub String);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretUrl(…)")
    }
}

#[derive(Debug, Clone)]
pub struct Notifier {
    pub name: String,
    pub kind: NotifierKind,
    pub url: SecretUrl,
    pub timeout: Duration,
    pub retries: u32,
}

/// What a rule fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Event {
    /// The job ended (completed or failed).
    Completed,
    /// At least one item fails (a `warn` too under `scoreWarning: fail`),
    /// or the job failed, or every node's every judged item is in error.
    Failures,
    /// Items failing on nodes where the scan's previous report had them not failing.
    Drift,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Completed => "completed",
            Event::Failures => "failures",
            Event::Drift => "drift",
        }
    }
}

/// What started a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Manual,
    Scheduled,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Critical,
    Warning,
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RuleFile {
    name: Option<String>,
    on: Event,
    #[serde(default = "both_runs")]
    runs: Vec<Trigger>,
    level: Option<Level>,
    notifiers: Vec<String>,
    /// No second alert of this rule to a notifier within this time (recorded as suppressed).
    #[serde(default, with = "humantime_serde")]
    min_interval: Duration,
}

fn both_runs() -> Vec<Trigger> {
    vec![Trigger::Manual, Trigger::Scheduled]
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRule {
    pub name: String,
    pub on: Event,
    pub runs: Vec<Trigger>,
    pub level: Level,
    pub notifiers: Vec<String>,
    #[serde(with = "humantime_serde")]
    pub min_interval: Duration,
}

fn default_level(on: Event) -> Level {
    match on {
        Event::Completed => Level::Info,
        Event::Failures | Event::Drift => Level::Warning,
    }
}

pub(super) fn notifiers(files: Vec<NotifierFile>, base: &Path) -> Result<Vec<Notifier>, String> {
    let mut out: Vec<Notifier> = Vec::new();
    for n in files {
        let at = format!("notifiers: {}", n.name);
        if out.iter().any(|o| o.name == n.name) {
            return Err(format!("{at} appears twice"));
        }
        let (kind, endpoint) = match (n.webhook, n.slack, n.alertmanager) {
            (Some(e), None, None) => (NotifierKind::Webhook, e),
            (None, Some(e), None) => (NotifierKind::Slack, e),
            (None, None, Some(e)) => (NotifierKind::Alertmanager, e),
            _ => {
                return Err(format!(
                    "{at}: expected exactly one of webhook, slack or alertmanager"
                ));
            }
        };
        let url = match (endpoint.url, endpoint.url_file) {
            (Some(url), None) if kind == NotifierKind::Alertmanager => url,
            (Some(_), None) => {
                return Err(format!(
                    "{at}: a webhook's URL is a secret: give urlFile (a file holding it), not url"
                ));
            }
            (None, Some(file)) => {
                let path = base.join(file);
                let bytes = kubecis_engine::node::read::regular_file(&path, 4096)
                    .map_err(|e| format!("{at}: urlFile {}: {e}", path.display()))?;
                String::from_utf8(bytes)
                    .map_err(|_| format!("{at}: urlFile {} is not text", path.display()))?
                    .trim()
                    .to_owned()
            }
            _ => return Err(format!("{at}: expected exactly one of url or urlFile")),
        };
        // The URL is not echoed: it may carry a token.
        check_url(&url).map_err(|what| format!("{at}: the URL {what}"))?;
        if n.timeout.is_zero() || n.timeout > Duration::from_secs(60) {
            return Err(format!("{at}: timeout must be from 1ms to 60s"));
        }
        if n.retries > 20 {
            return Err(format!("{at}: retries must be at most 20"));
        }
        out.push(Notifier {
            name: n.name,
            kind,
            url: SecretUrl(url),
            timeout: n.timeout,
            retries: n.retries,
        });
    }
    Ok(out)
}

/// Names of the notifiers marked `default: true`, in order.
pub(super) fn default_notifiers(files: &[NotifierFile]) -> Vec<String> {
    files
        .iter()
        .filter(|n| n.default)
        .map(|n| n.name.clone())
        .collect()
}

/// `http://` or `https://`, a host, no spaces or control characters.
fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("holds spaces or control characters");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.ends_with('@') {
        return Err("names no host");
    }
    Ok(())
}

/// Rules given through the API (the config's `alerts` format, as JSON),
/// checked as the config's are.
pub fn rules_from_json(
    scan: &str,
    json: &str,
    known: &[Notifier],
) -> Result<Vec<AlertRule>, String> {
    // The path names the rule and field a mistake is in (`[0].minInterval`).
    let files: Vec<RuleFile> = serde_path_to_error::deserialize(
        &mut serde_json::Deserializer::from_str(json),
    )
    .map_err(|e| match e.path().to_string().as_str() {
        "." => format!("alert rules: {}", e.inner()),
        path => format!("alert rules: {path}: {}", e.inner()),
    })?;
    rules(scan, Some(files), Vec::new(), None, known, &[])
}

/// A scan's rules: its own `alerts`, else Rancher's four (completed, has
/// failures; manual, scheduled) to its `notifiers` or the default ones,
/// as far as an imported ClusterScan's `scanAlertRule` switches them on.
pub(super) fn rules(
    scan: &str,
    explicit: Option<Vec<RuleFile>>,
    notifiers: Vec<String>,
    switches: Option<AlertSwitches>,
    known: &[Notifier],
    defaults: &[String],
) -> Result<Vec<AlertRule>, String> {
    let at = format!("scans: {scan}");
    let check = |names: &[String]| -> Result<(), String> {
        match names.iter().find(|n| !known.iter().any(|k| &k.name == *n)) {
            Some(n) => Err(format!(
                "{at}: notifier {n} is not one of notifiers ({})",
                known
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => Ok(()),
        }
    };
    let mut out = Vec::new();
    match explicit {
        Some(files) => {
            if !notifiers.is_empty() {
                return Err(format!(
                    "{at}: give notifiers in each of alerts, or notifiers alone (Rancher's four alerts), not both"
                ));
            }
            let mut names = BTreeSet::new();
            for r in files {
                if r.notifiers.is_empty() {
                    return Err(format!("{at}: alerts: a rule needs at least one notifier"));
                }
                if r.runs.is_empty() {
                    return Err(format!(
                        "{at}: alerts: runs names no run (manual, scheduled)"
                    ));
                }
                check(&r.notifiers)?;
                let name = r.name.unwrap_or_else(|| r.on.as_str().to_owned());
                if !names.insert(name.clone()) {
                    return Err(format!(
                        "{at}: alerts: two rules are named {name}; name them"
                    ));
                }
                out.push(AlertRule {
                    name,
                    on: r.on,
                    runs: r.runs,
                    level: r.level.unwrap_or(default_level(r.on)),
                    notifiers: r.notifiers,
                    min_interval: r.min_interval,
                });
            }
        }
        None => {
            let notifiers = if notifiers.is_empty() {
                defaults.to_vec()
            } else {
                check(&notifiers)?;
                notifiers
            };
            if notifiers.is_empty() {
                return Ok(out);
            }
            let switches = switches.unwrap_or(AlertSwitches {
                on_complete: true,
                on_failure: true,
            });
            for run in [Trigger::Manual, Trigger::Scheduled] {
                for (on, wanted) in [
                    (Event::Completed, switches.on_complete),
                    (Event::Failures, switches.on_failure),
                ] {
                    if wanted {
                        out.push(AlertRule {
                            name: format!("{}-{}", run.as_str(), on.as_str()),
                            on,
                            runs: vec![run],
                            level: default_level(on),
                            notifiers: notifiers.clone(),
                            min_interval: Duration::ZERO,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_without_being_echoed() {
        assert!(check_url("https://hooks.example.com/services/T/B/x").is_ok());
        assert!(check_url("http://127.0.0.1:9093").is_ok());
        assert_eq!(
            check_url("ftp://x"),
            Err("must start with http:// or https://")
        );
        assert_eq!(check_url("http://"), Err("names no host"));
        assert_eq!(
            check_url("http://a b"),
            Err("holds spaces or control characters")
        );
    }
}
