//! Sending stored alerts: one thread per notifier takes its pending alerts
//! from the store, sends each in the notifier's form (the generic JSON body,
//! a Slack message, Alertmanager's v2 alerts) with a timeout, and records
//! the outcome; a failed try waits (1 s doubling to 60 s) and is tried
//! again until the notifier's retries are spent. Alerts stored before a
//! restart are sent after it.

use super::{AlertBody, AlertItem};
use crate::config::alerting::{Event, Notifier, NotifierKind};
use crate::store::{PendingAlert, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Wakes the senders when alerts were stored.
#[derive(Default)]
pub struct Doorbell {
    rung: std::sync::Mutex<u64>,
    bell: std::sync::Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        let mut n = self.rung.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        self.bell.notify_all();
    }

    /// Waits until rung after `seen` or `timeout`; the count to wait past next.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let n = self.rung.lock().unwrap_or_else(|p| p.into_inner());
        let (n, _) = self
            .bell
            .wait_timeout_while(n, timeout, |n| *n == seen)
            .unwrap_or_else(|p| p.into_inner());
        *n
    }
}

/// Starts a sender thread per notifier.
pub fn start(
    notifiers: &[crate::config::alerting::Notifier],
    store: Store,
    doorbell: Arc<Doorbell>,
    now: Arc<dyn Fn() -> i64 + Send + Sync>,
) {
    for notifier in notifiers {
        let (notifier, store, doorbell, now) = (
            notifier.clone(),
            store.clone(),
            doorbell.clone(),
            now.clone(),
        );
        let name = format!("notify-{}", notifier.name);
        let _ = std::thread::Builder::new().name(name).spawn(move || {
            let agent = agent(&notifier);
            let mut seen = 0;
            loop {
                let due = store
                    .due_alerts(&notifier.name, now(), 20)
                    .unwrap_or_else(|e| {
                        eprintln!("kubecis serve: notifier {}: {e}", notifier.name);
                        Vec::new()
                    });
                for alert in due {
                    let outcome = send(&agent, &notifier, &alert);
                    let attempts = alert.attempts + 1;
                    let record = match outcome {
                        Ok(()) => store.alert_sent(alert.id, attempts, now()),
                        Err(e) if attempts > notifier.retries as i64 => {
                            store.alert_failed(alert.id, attempts, &e, now())
                        }
                        Err(e) => {
                            let wait = 1i64 << (attempts - 1).clamp(0, 6);
                            store.alert_retry(alert.id, attempts, &e, now() + wait.min(60))
                        }
                    };
                    if let Err(e) = record {
                        eprintln!("kubecis serve: notifier {}: {e}", notifier.name);
                    }
                }
                seen = doorbell.wait(seen, Duration::from_secs(1));
            }
        });
    }
}

fn agent(notifier: &Notifier) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(notifier.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// One try. The error names what went wrong without the URL (it may hold a token).
fn send(agent: &ureq::Agent, notifier: &Notifier, alert: &PendingAlert) -> Result<(), String> {
    let body: AlertBody =
        serde_json::from_str(&alert.body).map_err(|e| format!("stored alert unreadable: {e}"))?;
    let (url, payload) = match notifier.kind {
        NotifierKind::Webhook => (
            notifier.url.0.clone(),
            serde_json::to_value(&body).unwrap_or_default(),
        ),
        NotifierKind::Slack => (notifier.url.0.clone(), slack(&body)),
        NotifierKind::Alertmanager => (
            format!("{}/api/v2/alerts", notifier.url.0.trim_end_matches('/')),
            alertmanager(&body),
        ),
    };
    let response = agent
        .post(&url)
        .header("User-Agent", concat!("kubecis/", env!("CARGO_PKG_VERSION")))
        .send_json(&payload)
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::StatusCode(code) => format!("HTTP {code}"),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failed".into(),
        _ => "the request failed".into(),
    }
}

/// Slack's `mrkdwn` escapes only these three.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn items_text(title: &str, items: &[AlertItem]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        return out;
    }
    out.push_str(&format!("\n*{title}*"));
    for i in items {
        let more = i.node_count.saturating_sub(i.nodes.len());
        let nodes = i.nodes.join(", ");
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n• {} {} — {}{more}",
            slack_escape(&i.id),
            slack_escape(&i.title),
            slack_escape(&nodes)
        ));
    }
    out
}

/// A Slack-compatible incoming-webhook message.
pub fn slack(body: &AlertBody) -> serde_json::Value {
    let count = |s: &str| body.totals.get(s).copied().unwrap_or(0);
    let mut text = format!(
        "[{}] kubecis {} on {}: {}\njob {} ({}), {}: pass {}, fail {}, warn {}, mixed {}, error {}",
        body.level.to_uppercase(),
        slack_escape(&body.scan),
        slack_escape(&body.cluster),
        slack_escape(&body.summary),
        body.job,
        body.trigger.as_str(),
        slack_escape(body.benchmark.as_deref().unwrap_or("no report")),
        count("pass"),
        count("fail"),
        count("warn"),
        count("mixed"),
        count("error"),
    );
    if !body.missing_nodes.is_empty() {
        text.push_str(&format!(
            "\nno report from: {}",
            slack_escape(&body.missing_nodes.join(", "))
        ));
    }
    text.push_str(&items_text("New failures", &body.regressions));
    text.push_str(&items_text("Failing", &body.failed));
    text.push_str(&format!("\n<{}?format=text|the report>", body.report));
    json!({ "text": text })
}

/// Alertmanager's `POST /api/v2/alerts` body: one alert, with labels a
/// route can match (Rancher's `job: rancher-cis-scan` as `job: kubecis`).
pub fn alertmanager(body: &AlertBody) -> serde_json::Value {
    let alertname = match body.event {
        Event::Completed => "CISScanHasCompleted",
        Event::Failures => "CISScanHasFailures",
        Event::Drift => "CISScanHasNewFailures",
    };
    let failed: Vec<String> = body
        .regressions
        .iter()
        .chain(&body.failed)
        .map(|i| format!("{} ({} nodes)", i.id, i.node_count))
        .collect();
    json!([{
        "labels": {
            "alertname": alertname,
            "job": "kubecis",
            "severity": body.level,
            "cluster_name": body.cluster,
            "scan_name": body.scan,
            "scan_profile_name": body.profile.as_deref().or(body.benchmark.as_deref()).unwrap_or(""),
            "rule": body.rule,
            "trigger": body.trigger.as_str(),
        },
        "annotations": {
            "summary": body.summary,
            "description": format!(
                "job {} of scan {} {}; totals {}; {}",
                body.job,
                body.scan,
                body.state,
                serde_json::to_string(&body.totals).unwrap_or_default(),
                if failed.is_empty() { "no failing item".to_owned() } else { format!("failing: {}", failed.join(", ")) }
            ),
            "report": body.report,
        },
        "startsAt": body.time,
        "generatorURL": body.report,
    }])
}
