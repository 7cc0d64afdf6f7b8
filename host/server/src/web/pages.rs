//! The dashboard's pages: the overview, a scan (job status, reports, run
//! now with the items it will skip, alerts), a report (summary, filtered
//! and paged items with their nodes and evidence) and one node's results.

use super::{Csrf, Web, WebError, admin, blocking, live_page, page, user};
use crate::api::{cluster_download, node_download, scan_status};
use crate::jobs::Service;
use crate::store::{self, JobRow};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kubecis_model::cluster::{ClusterItem, ClusterReport, ClusterState};
use kubecis_model::report::{Report, State as NodeState};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Items per page of a report.
const PAGE: usize = 50;
/// Nodes named per item before "and N more".
const NODES_SHOWN: usize = 50;

/// A state as text and a symbol, so it never rests on colour alone.
fn badge(state: &str) -> Markup {
    let symbol = match state {
        "pass" => "✓",
        "fail" => "✗",
        "warn" => "!",
        "mixed" => "±",
        "error" => "⚠",
        "skip" => "–",
        _ => "·",
    };
    html! { span class={"badge s-" (state)} { span aria-hidden="true" { (symbol) } " " (state) } }
}

fn time(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

fn totals_line(totals: &serde_json::Value) -> Markup {
    let count = |s: &str| totals.get(s).and_then(|v| v.as_u64()).unwrap_or(0);
    html! {
        span.totals {
            @for s in ["pass", "fail", "warn", "mixed", "error"] {
                @if count(s) > 0 || s == "pass" || s == "fail" {
                    (badge(s)) " " (count(s)) " "
                }
            }
        }
    }
}

/// Pass, fail and warn over a scan's reports, oldest to newest, as an SVG.
fn trend(rows: &[store::ReportRow]) -> Markup {
    let points: Vec<[u64; 3]> = rows
        .iter()
        .rev()
        .map(|r| {
            let c = |s: &str| r.totals.get(s).and_then(|v| v.as_u64()).unwrap_or(0);
            [c("pass"), c("fail"), c("warn")]
        })
        .collect();
    if points.len() < 2 {
        return html! { span.muted { "a trend needs two reports" } };
    }
    let max = points.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h) = (160.0, 40.0);
    let step = w / (points.len() - 1) as f64;
    let line = |k: usize| -> String {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", i as f64 * step, h - p[k] as f64 / max * h))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let last = points.last().copied().unwrap_or_default();
    let label = format!(
        "Over {} reports: pass {} → {}, fail {} → {}, warn {} → {}",
        points.len(),
        points[0][0],
        last[0],
        points[0][1],
        last[1],
        points[0][2],
        last[2]
    );
    html! {
        svg.trend viewBox="0 0 160 40" width="160" height="40" role="img" aria-label=(label) {
            title { (label) }
            polyline.t-pass points=(line(0)) {}
            polyline.t-fail points=(line(1)) {}
            polyline.t-warn points=(line(2)) {}
        }
    }
}

pub async fn overview(State(s): State<Arc<Service>>, headers: HeaderMap) -> Web<Response> {
    let who = user(&s, &headers)?;
    let (markup, live) = blocking(move || {
        let live = !s.store.jobs(None, Some(store::ACTIVE), 1)?.is_empty();
        let now = s.now();
        let stats: BTreeMap<String, store::ScanStats> = s
            .store
            .scan_stats()?
            .into_iter()
            .map(|st| (st.scan.clone(), st))
            .collect();
        let agents = s.store.agents()?;
        let alive_since = now - s.config.agent_timeout.as_secs() as i64;
        let connected = agents.iter().filter(|a| a.last_seen >= alive_since).count();
        let mut rows = Vec::new();
        for scan in &s.config.scans {
            let reports = s.store.reports(Some(&scan.name), 50, 0)?;
            let last_job = s.store.jobs(Some(&scan.name), None, 1)?.into_iter().next();
            rows.push((scan, reports, last_job));
        }
        let body = html! {
            h1 { "Scans" }
            @if rows.is_empty() {
                p.empty { "No scans are configured. Add one to the server's config file (scans:) and restart it." }
            } @else {
                div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Scan" } th scope="col" { "Benchmark" } th scope="col" { "Schedule" }
                        th scope="col" { "Last job" } th scope="col" { "Newest report" } th scope="col" { "Nodes" }
                        th scope="col" { "Trend" }
                    } }
                    tbody {
                        @for (scan, reports, last_job) in &rows {
                            tr {
                                th scope="row" { a href={"/ui/scans/" (scan.name)} { (scan.name) } }
                                td { (scan.benchmark) @if let Some(p) = &scan.profile { br; span.muted { (p) } } }
                                td {
                                    @match &scan.schedule {
                                        Some(sch) => {
                                            code { (sch.as_str()) } " " span.muted { (sch.zone().name()) }
                                            br; span.muted { "next: " (time(sch.next_after(s.clock.now()).map(|t| t.timestamp()))) }
                                        }
                                        None => span.muted { "on demand" },
                                    }
                                }
                                td {
                                    @match last_job {
                                        Some(j) => { (badge(&j.state)) " " a href={"/ui/scans/" (scan.name)} { "job " (j.id) } br; span.muted { (time(j.finished.or(Some(j.created)))) } }
                                        None => span.muted { "never run" },
                                    }
                                }
                                td {
                                    @match reports.first() {
                                        Some(r) => { a href={"/ui/reports/" (r.job)} { "report " (r.job) } br; (totals_line(&r.totals)) }
                                        None => span.muted { "no reports yet" },
                                    }
                                }
                                td {
                                    @if let Some(summary) = stats.get(&scan.name).and_then(|st| st.last_summary.as_ref()) {
                                        @for h in ["HIGH", "MED", "LOW"] {
                                            span class={"health h-" (h)} { (h) " " (summary["health"][h].as_u64().unwrap_or(0)) } " "
                                        }
                                    } @else { span.muted { "—" } }
                                }
                                td { (trend(reports)) }
                            }
                        }
                    }
                }
                }
            }
            h2 { "Agents" }
            p { (connected) " of " (agents.len()) " agents connected (heard from within " (s.config.agent_timeout.as_secs()) " s)." }
            @if agents.is_empty() {
                p.empty { "No agent has registered yet. Start kubecis agent on each node (a DaemonSet) with the server's address and an agent token." }
            } @else {
                details {
                    summary { "Every agent" }
                    div.table-wrap {
                    table {
                        thead { tr { th scope="col" { "Node" } th scope="col" { "Last seen" } th scope="col" { "Kubernetes" } th scope="col" { "Distribution" } } }
                        tbody {
                            @for a in &agents {
                                tr {
                                    th scope="row" { (a.name) @if a.last_seen < alive_since { " " span.badge.s-error { "silent" } } }
                                    td { (time(Some(a.last_seen))) }
                                    td { (a.info["kubernetesVersion"].as_str().unwrap_or("—")) }
                                    td { (a.info["distribution"].as_str().unwrap_or("—")) }
                                }
                            }
                        }
                    }
                    }
                }
            }
        };
        Ok((body, live))
    })
    .await?;
    Ok(live_page("Overview", Some(&who), markup, live).into_response())
}

fn job_line(j: &JobRow) -> Markup {
    html! {
        li {
            (badge(&j.state)) " job " (j.id) " (" (j.trigger) "), started " (time(Some(j.created)))
            @if let Some(f) = j.finished { ", ended " (time(Some(f))) }
            @if !j.reason.is_empty() { br; span.reason { (j.reason) } }
            @if j.state == store::COMPLETED { " · " a href={"/ui/reports/" (j.id)} { "report" } }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ScanQuery {
    started: Option<i64>,
}

pub async fn scan(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ScanQuery>,
) -> Web<Response> {
    let who = user(&s, &headers)?;
    let is_admin = who.role == crate::config::Role::Admin;
    let csrf = who.csrf.clone();
    let title = name.clone();
    let (markup, live) = blocking(move || {
        let scan = s
            .config
            .scan(&name)
            .ok_or_else(|| crate::api::ApiError(StatusCode::NOT_FOUND, format!("no scan named {name:?}")))?;
        let status = scan_status(&s, &name)?;
        let live = !status.active.is_empty();
        let reports = s.store.reports(Some(&name), 100, 0)?;
        let rules = s.alert_rules(scan);
        let history = s.store.alerts(Some(&name), 20, 0)?;
        let rules_from_api = s.store.alert_rules(&name)?.is_some();
        let notifiers: Vec<String> = s.config.notifiers.iter().map(|n| n.name.clone()).collect();
        Ok((html! {
            p.crumbs { a href="/ui/" { "Overview" } " › " (scan.name) }
            h1 { "Scan " (scan.name) }
            @if let Some(job) = q.started {
                p.notice role="status" { "Job " (job) " started; this page follows it." }
            }
            dl.facts {
                dt { "Benchmark" } dd { (scan.benchmark) @if let Some(p) = &scan.profile { ", profile " (p) } }
                dt { "Schedule" } dd { @match &scan.schedule { Some(sch) => { code { (sch.as_str()) } " (" (sch.zone().name()) ")" } None => "on demand" } }
                dt { "Reports kept" } dd { (scan.retention) }
                dt { "Defined in" } dd { (scan.origin) }
            }
            section {
                h2 { "Run now" }
                @if scan.run_choices.is_empty() {
                    p.muted { "The benchmark is chosen on each node from its Kubernetes version, so the skipped items are known per node once it runs (each node's report says which it skipped and why). The scan's own skip list: " @if scan.skip.is_empty() { "none" } @else { (scan.skip.join(", ")) } "." }
                }
                @for (i, choice) in scan.run_choices.iter().enumerate() {
                    @let label = match &choice.profile { Some(p) => format!("profile {p}"), None => "no profile".to_owned() };
                    details.choice open[i == 0 && choice.skipped.len() <= 10] {
                        summary {
                            (label) @if i == 0 { " (the scan's own)" } ": "
                            @if choice.skipped.is_empty() { "no item will be skipped" }
                            @else { (choice.skipped.len()) @if choice.skipped.len() == 1 { " item" } @else { " items" } " will be skipped" }
                        }
                        @if !choice.skipped.is_empty() {
                            div.table-wrap { table {
                                thead { tr { th scope="col" { "Item" } th scope="col" { "Title" } th scope="col" { "Skipped by" } } }
                                tbody { @for k in &choice.skipped { tr { th scope="row" { (k.id) } td { (k.title) } td { (k.by) } } } }
                            } }
                        }
                    }
                }
                @if is_admin {
                    form.run method="post" action={"/ui/scans/" (scan.name) "/run"} {
                        input type="hidden" name="csrf" value=(csrf);
                        @if scan.run_choices.len() > 1 {
                            label { "Profile "
                                select name="profile" {
                                    @for (i, choice) in scan.run_choices.iter().enumerate() {
                                        @let value = choice.profile.clone().unwrap_or_default();
                                        option value=(value) selected[i == 0] {
                                            (choice.profile.as_deref().unwrap_or("no profile")) " (" (choice.skipped.len()) " skipped)"
                                        }
                                    }
                                }
                            }
                            " "
                        }
                        button.primary type="submit" { "Run " (scan.name) " now" }
                    }
                } @else {
                    p.muted { "Viewers cannot start scans." }
                }
            }
            section {
                h2 { "Job status" }
                h3 { "Last scheduled" }
                @match &status.last_scheduled { Some(j) => ul.jobs { (job_line(j)) }, None => p.muted { "no scheduled job yet" } }
                h3 { "Active" }
                @if status.active.is_empty() { p.muted { "none" } } @else { ul.jobs { @for j in &status.active { (job_line(j)) } } }
                h3 { "Last failed" }
                @if status.last_failed.is_empty() { p.muted { "none" } } @else { ul.jobs { @for j in &status.last_failed { (job_line(j)) } } }
                h3 { "Last successful" }
                @if status.last_successful.is_empty() { p.muted { "none" } } @else { ul.jobs { @for j in &status.last_successful { (job_line(j)) } } }
            }
            section {
                h2 { "Reports" }
                @if reports.is_empty() {
                    p.empty { "No reports yet. Run the scan, or wait for its schedule." }
                } @else {
                    div.table-wrap { table {
                        thead { tr { th scope="col" { "Report" } th scope="col" { "Run" } th scope="col" { "Finished" } th scope="col" { "Totals" } th scope="col" { "Missing nodes" } th scope="col" { "Download" } @if is_admin { th scope="col" { "Delete" } } } }
                        tbody {
                            @for r in &reports {
                                tr {
                                    th scope="row" { a href={"/ui/reports/" (r.job)} { "report " (r.job) } }
                                    td { (r.trigger) }
                                    td { (time(r.finished)) }
                                    td { (totals_line(&r.totals)) }
                                    td { @if r.missing.is_empty() { "none" } @else { (r.missing.join(", ")) } }
                                    td { (downloads(r.job)) }
                                    @if is_admin {
                                        td {
                                            form method="post" action={"/ui/reports/" (r.job) "/delete"} data-confirm={"Delete report " (r.job) " of " (scan.name) "? This cannot be undone."} {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button.danger type="submit" aria-label={"Delete report " (r.job)} { "Delete" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            section #alerts {
                h2 { "Alerts" }
                @if rules.is_empty() {
                    p.muted { "No alert rule." @if is_admin && notifiers.is_empty() { " The configuration names no notifier to send alerts to (see the README)." } }
                } @else {
                    p.muted { @if rules_from_api { "Rules set here or through the API (they replace the configuration's)." } @else { "Rules of the configuration." } }
                    ul.rules { @for (i, r) in rules.iter().enumerate() {
                        li { strong { (r.name) } ": on " (r.on.as_str()) ", " (r.runs.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" and ")) " runs, level " (r.level.as_str()) ", to " (r.notifiers.join(", "))
                            @if !r.min_interval.is_zero() { ", at most every " (humantime::format_duration(r.min_interval)) }
                            @if is_admin {
                                " "
                                form.inline method="post" action={"/ui/scans/" (urlencode(&scan.name)) "/alerts"} data-confirm={"Remove alert rule " (r.name) "?"} {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="index" value=(i);
                                    button.danger type="submit" aria-label={"Remove alert rule " (r.name)} { "Remove" }
                                }
                            }
                        }
                    } }
                }
                @if is_admin && !notifiers.is_empty() {
                    form.rule method="post" action={"/ui/scans/" (urlencode(&scan.name)) "/alerts"} {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="action" value="add";
                        fieldset {
                            legend { "Add an alert rule" }
                            label { "When " select name="on" {
                                option value="failures" { "items fail" }
                                option value="drift" { "items newly fail (drift)" }
                                option value="completed" { "a job ends" }
                            } }
                            " "
                            label { "Level " select name="level" {
                                option value="" { "the event's default" }
                                option value="critical" { "critical" }
                                option value="warning" { "warning" }
                                option value="info" { "info" }
                            } }
                            fieldset.choices { legend { "Runs" }
                                label { input type="checkbox" name="runs" value="scheduled" checked; " scheduled" }
                                label { input type="checkbox" name="runs" value="manual" checked; " manual" }
                            }
                            fieldset.choices { legend { "Notifiers" }
                                @for n in &notifiers { label { input type="checkbox" name="notifiers" value=(n); " " (n) } }
                            }
                            label { "At most every " input type="text" name="minInterval" placeholder="e.g. 6h" size="8"; }
                            " "
                            label { "Name " input type="text" name="name" placeholder="optional" size="16"; }
                            " "
                            button type="submit" { "Add rule" }
                        }
                    }
                    @if rules_from_api {
                        form method="post" action={"/ui/scans/" (urlencode(&scan.name)) "/alerts"} data-confirm="Drop the rules set here and use the configuration's again?" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="action" value="reset";
                            button type="submit" { "Back to the configuration's rules" }
                        }
                    }
                }
                h3 { "History" }
                @if history.is_empty() { p.muted { "no alert sent yet" } } @else {
                    div.table-wrap { table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Rule" } th scope="col" { "Level" } th scope="col" { "Notifier" } th scope="col" { "State" } th scope="col" { "Job" } } }
                        tbody { @for a in &history { tr {
                            td { (time(Some(a.created))) } td { (a.rule) } td { (a.level) } td { (a.notifier) }
                            td { (a.state) @if !a.error.is_empty() { " (" (a.error) ")" } }
                            td { a href={"/ui/reports/" (a.job)} { (a.job) } }
                        } } }
                    } }
                }
            }
        }, live))
    })
    .await?;
    Ok(live_page(&format!("Scan {title}"), Some(&who), markup, live).into_response())
}

fn downloads(job: i64) -> Markup {
    html! {
        span.downloads {
            a href={"/ui/reports/" (job) "/download?format=csv&csv=rancher"} download { "CSV" } " "
            @for (kind, label) in [("all-tests", "all tests"), ("failed-tests", "failed tests"), ("node-summary", "nodes"), ("total-summary", "totals")] {
                a href={"/ui/reports/" (job) "/download?format=csv&csv=" (kind)} download { (label) } " "
            }
            a href={"/ui/reports/" (job) "/download?format=text"} download { "text" } " "
            a href={"/ui/reports/" (job) "/download?format=json"} download { "JSON" }
        }
    }
}

/// Edits a scan's alert rules from its page: adds one, removes one, or
/// drops those set here for the configuration's. Checked and kept as the
/// API keeps them; a mistake is a 400 page naming it, and changes nothing.
pub async fn alerts(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Web<Response> {
    let form = FormFields(form_urlencoded::parse(&body).into_owned().collect());
    admin(&s, &headers, &form.one("csrf"))?;
    let target = name.clone();
    blocking(move || {
        let scan = s
            .config
            .scan(&name)
            .ok_or_else(|| crate::jobs::JobError::UnknownScan(name.clone()))?;
        let mut rules = serde_json::to_value(s.alert_rules(scan)).unwrap_or_default();
        let list = rules.as_array_mut().expect("rules serialise as a list");
        let bad = |why: String| WebError(StatusCode::BAD_REQUEST, why);
        match form.one("action").as_str() {
            "add" => {
                let mut rule = serde_json::json!({
                    "on": form.one("on"),
                    "runs": form.all("runs"),
                    "notifiers": form.all("notifiers"),
                });
                for key in ["name", "level", "minInterval"] {
                    let value = form.one(key);
                    if !value.is_empty() {
                        rule[key] = value.into();
                    }
                }
                list.push(rule);
            }
            "remove" => {
                let index: usize = form
                    .one("index")
                    .parse()
                    .map_err(|_| bad("which rule to remove is missing".into()))?;
                if index >= list.len() {
                    return Err(bad(format!(
                        "there is no rule {index} (the page may be stale)"
                    )));
                }
                list.remove(index);
            }
            "reset" => {
                s.store.set_alert_rules(&name, None, s.now())?;
                return Ok(());
            }
            other => return Err(bad(format!("unknown action {other:?}"))),
        }
        crate::api::store_alert_rules(&s, &name, &rules.to_string())?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/ui/scans/{}#alerts", urlencode(&target))).into_response())
}

/// A form's fields, repeated names kept (checkboxes).
struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// The first value of a field, trimmed; empty when absent.
    fn one(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every value of a field.
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[derive(Deserialize)]
pub struct RunForm {
    csrf: String,
    #[serde(default)]
    profile: String,
}

pub async fn run(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<RunForm>,
) -> Web<Response> {
    admin(&s, &headers, &form.csrf)?;
    let target = name.clone();
    let job = blocking(move || {
        let scan = s
            .config
            .scan(&name)
            .ok_or_else(|| crate::jobs::JobError::UnknownScan(name.clone()))?;
        Ok(s.start_with(scan, "manual", Some(&form.profile))?)
    })
    .await?;
    Ok(Redirect::to(&format!("/ui/scans/{}?started={job}", urlencode(&target))).into_response())
}

pub async fn delete(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(job): Path<i64>,
    Form(form): Form<Csrf>,
) -> Web<Response> {
    admin(&s, &headers, &form.csrf)?;
    let scan = blocking(move || {
        let scan = s.store.job(job)?.map(|j| j.scan);
        if !s.store.delete_job(job)? {
            return Err(WebError(
                StatusCode::NOT_FOUND,
                format!("no finished report {job} (it may be running or already deleted)"),
            ));
        }
        Ok(scan)
    })
    .await?;
    let to = match scan {
        Some(scan) => format!("/ui/scans/{}", urlencode(&scan)),
        None => "/ui/".into(),
    };
    Ok(Redirect::to(&to).into_response())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    format: Option<String>,
    csv: Option<String>,
}

/// A file to save: the API's rendering with a file name.
fn attachment(d: crate::api::Download, name: String) -> Response {
    let mut response = d.into_response();
    let disposition = format!("attachment; filename=\"{name}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

fn extension(format: &str) -> &'static str {
    match format {
        "csv" => "csv",
        "text" => "txt",
        "junit" => "xml",
        _ => "json",
    }
}

pub async fn report_file(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(job): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Web<Response> {
    user(&s, &headers)?;
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    let suffix = q
        .csv
        .clone()
        .filter(|_| format == "csv")
        .unwrap_or_default();
    let d = blocking(move || {
        Ok(cluster_download(
            &s,
            job,
            q.format.as_deref(),
            q.csv.as_deref(),
        )?)
    })
    .await?;
    let name = format!(
        "kubecis-report-{job}{}{}.{}",
        if suffix.is_empty() { "" } else { "-" },
        suffix,
        extension(&format)
    );
    Ok(attachment(d, name))
}

pub async fn node_file(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path((job, node)): Path<(i64, String)>,
    Query(q): Query<DownloadQuery>,
) -> Web<Response> {
    user(&s, &headers)?;
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    let safe: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let d = blocking(move || Ok(node_download(&s, job, &node, q.format.as_deref())?)).await?;
    Ok(attachment(
        d,
        format!("kubecis-{job}-{safe}.{}", extension(&format)),
    ))
}

/// A composed report, parsed once and kept for the next pages of it.
fn cached_report(s: &Service, job: i64) -> Web<Arc<ClusterReport>> {
    // A deleted report is gone from the dashboard at once.
    if s.store.job(job)?.is_none() {
        return Err(WebError(StatusCode::NOT_FOUND, format!("no job {job}")));
    }
    if let Some(r) = s.report_cache.get(job) {
        return Ok(r);
    }
    let text = s.store.report(job)?.ok_or_else(|| {
        WebError(
            StatusCode::NOT_FOUND,
            format!("no report of job {job} (it may be running, failed or deleted)"),
        )
    })?;
    let report: ClusterReport = serde_json::from_str(&text)
        .map_err(|e| WebError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(s.report_cache.put(job, report))
}

#[derive(Deserialize, Default)]
pub struct ReportFilter {
    #[serde(default)]
    state: String,
    #[serde(default)]
    section: String,
    #[serde(default, rename = "type")]
    node_type: String,
    #[serde(default)]
    node: String,
    #[serde(default)]
    q: String,
    page: Option<usize>,
}

impl ReportFilter {
    fn keeps(&self, item: &ClusterItem) -> bool {
        let section = item.id.split('.').next().unwrap_or("");
        (self.state.is_empty() || item.state.as_str() == self.state)
            && (self.section.is_empty() || section == self.section)
            && (self.node_type.is_empty() || item.node_type.as_str() == self.node_type)
            && (self.node.is_empty() || item.nodes.iter().any(|n| n == &self.node))
            && (self.q.is_empty() || {
                let q = self.q.to_lowercase();
                item.id.to_lowercase().contains(&q) || item.title.to_lowercase().contains(&q)
            })
    }

    fn query(&self, page: usize) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("state", &self.state),
            ("section", &self.section),
            ("type", &self.node_type),
            ("node", &self.node),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        parts.push(format!("page={page}"));
        parts.join("&")
    }
}

fn node_list(nodes: &[String], job: i64) -> Markup {
    html! {
        @for n in nodes.iter().take(NODES_SHOWN) {
            a href={"/ui/reports/" (job) "/nodes/" (urlencode(n))} { (n) } " "
        }
        @if nodes.len() > NODES_SHOWN { span.muted { "and " (nodes.len() - NODES_SHOWN) " more" } }
    }
}

pub async fn report(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(job): Path<i64>,
    Query(f): Query<ReportFilter>,
) -> Web<Response> {
    let who = user(&s, &headers)?;
    let markup = blocking(move || {
        let row = s.store.job(job)?;
        let report = cached_report(&s, job)?;
        let Some(group) = report.groups.first() else {
            return Ok(html! { h1 { "Report " (job) } p.empty { "This report has no nodes." } });
        };
        let scan = row.as_ref().map(|r| r.scan.clone()).unwrap_or_default();
        let items: Vec<&ClusterItem> = group.items.iter().filter(|i| f.keeps(i)).collect();
        let pages = items.len().div_ceil(PAGE).max(1);
        let page_no = f.page.unwrap_or(1).clamp(1, pages);
        let shown = items.iter().skip((page_no - 1) * PAGE).take(PAGE);
        let sections: Vec<String> = {
            let mut v: Vec<String> = group.items.iter().map(|i| i.id.split('.').next().unwrap_or("").to_owned()).collect();
            v.dedup();
            v
        };
        let mut health: BTreeMap<String, usize> = BTreeMap::new();
        for n in &group.nodes {
            *health.entry(n.health.to_string()).or_default() += 1;
        }
        Ok(html! {
            p.crumbs { a href="/ui/" { "Overview" } " › " a href={"/ui/scans/" (urlencode(&scan))} { (scan) } " › report " (job) }
            h1 { "Report " (job) ": " (group.benchmark_title) }
            p.muted { (group.benchmark) @if let Some(p) = &group.profile { ", profile " (p) } ", " (group.nodes.len()) " nodes"
                @if let Some(r) = &row { ", " (r.trigger) " run finished " (time(r.finished)) } }
            @if let Some(r) = &row { @if !r.reason.is_empty() { p.notice role="status" { (r.reason) } } }
            section.summary {
                h2 { "Summary" }
                p { (totals_line(&serde_json::to_value(&group.totals).unwrap_or_default())) }
                p { "Node health: " @for h in ["HIGH", "MED", "LOW"] { span class={"health h-" (h)} { (h) " " (health.get(h).copied().unwrap_or(0)) } " " } }
                @if !group.top_failed.is_empty() {
                    h3 { "Top failed tests" }
                    ol { @for t in &group.top_failed {
                        li { a href={"/ui/reports/" (job) "?q=" (urlencode(&t.id))} { (t.id) } " " (t.title) " — failing on " (t.failed_nodes) " node(s)" }
                    } }
                }
                p { "Download: " (downloads(job)) }
            }
            section {
                h2 #items { "Items" }
                form.filters method="get" action={"/ui/reports/" (job)} role="search" {
                    label { "State " select name="state" {
                        option value="" selected[f.state.is_empty()] { "any" }
                        @for st in ["pass", "fail", "warn", "mixed", "skip", "notApplicable", "error"] {
                            option value=(st) selected[f.state == st] { (st) }
                        }
                    } }
                    label { "Section " select name="section" {
                        option value="" selected[f.section.is_empty()] { "any" }
                        @for sec in &sections { option value=(sec) selected[&f.section == sec] { (sec) } }
                    } }
                    label { "Node type " select name="type" {
                        option value="" selected[f.node_type.is_empty()] { "any" }
                        @for t in ["master", "etcd", "controlplane", "node", "policies"] { option value=(t) selected[f.node_type == t] { (t) } }
                    } }
                    label { "Node " input type="text" name="node" value=(f.node) list="nodes" size="14"; }
                    datalist #nodes { @for n in group.nodes.iter().take(500) { option value=(n.name) {} } }
                    label { "Search " input type="search" name="q" value=(f.q) placeholder="id or title" size="16"; }
                    button type="submit" { "Filter" }
                    " " a href={"/ui/reports/" (job)} { "clear" }
                }
                p role="status" { (items.len()) " of " (group.items.len()) " items" @if pages > 1 { ", page " (page_no) " of " (pages) } }
                @if items.is_empty() {
                    p.empty { "No item matches these filters." }
                }
                @for item in shown {
                    details.item id={"item-" (item.id)} {
                        summary {
                            (badge(item.state.as_str())) " " strong { (item.id) } " " (item.title)
                            span.muted { " · " (item.node_type.as_str()) @if !item.scored { " · not scored" }
                                " · " (item.passed_nodes.len()) " pass, " (item.failed_nodes.len()) " fail of " (item.nodes.len()) }
                        }
                        @if !item.failed_nodes.is_empty() { p { "Failing on: " (node_list(&item.failed_nodes, job)) } }
                        @if item.state == ClusterState::Mixed || item.failed_nodes.is_empty() { p { "Nodes: " (node_list(&item.nodes, job)) } }
                        @if !item.missing_nodes.is_empty() { p { "No result from: " (item.missing_nodes.join(", ")) } }
                        h4 { "Evidence" }
                        div.table-wrap { table.evidence {
                            thead { tr { th scope="col" { "Node" } th scope="col" { "State" } th scope="col" { "Found" } th scope="col" { "Reason" } } }
                            tbody { @for r in item.results.iter().take(NODES_SHOWN) { tr {
                                th scope="row" { a href={"/ui/reports/" (job) "/nodes/" (urlencode(&r.node)) "#r-" (item.id)} { (r.node) } }
                                td { (badge(r.state.as_str())) } td { code { (r.actual) } } td { (r.reason) }
                            } } }
                        } }
                        @if item.results.len() > NODES_SHOWN { p.muted { "and " (item.results.len() - NODES_SHOWN) " more nodes: open a node for its evidence" } }
                        h4 { "Remediation" }
                        pre.remediation { (item.remediation) }
                    }
                }
                @if pages > 1 {
                    nav.pager aria-label="Pages" {
                        @if page_no > 1 { a href={"/ui/reports/" (job) "?" (f.query(page_no - 1)) "#items"} rel="prev" { "‹ previous" } " " }
                        span { "page " (page_no) " of " (pages) }
                        @if page_no < pages { " " a href={"/ui/reports/" (job) "?" (f.query(page_no + 1)) "#items"} rel="next" { "next ›" } }
                    }
                }
            }
            section {
                h2 { "Nodes" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Node" } th scope="col" { "Health" } th scope="col" { "Passing" } th scope="col" { "Failing" } th scope="col" { "Kubernetes" } } }
                    tbody { @for n in group.nodes.iter().take(PAGE * 4) { tr {
                        th scope="row" { a href={"/ui/reports/" (job) "/nodes/" (urlencode(&n.name))} { (n.name) } }
                        td { span class={"health h-" (n.health)} { (n.health) } }
                        td { (n.tests_passing) } td { (n.tests_failing) }
                        td { (n.kubernetes_version.as_deref().unwrap_or("—")) }
                    } } }
                } }
                @if group.nodes.len() > PAGE * 4 { p.muted { "and " (group.nodes.len() - PAGE * 4) " more: filter items by node to find one" } }
            }
        })
    })
    .await?;
    Ok(page(&format!("Report {job}"), Some(&who), markup).into_response())
}

#[derive(Deserialize, Default)]
pub struct NodeFilter {
    #[serde(default)]
    state: String,
}

pub async fn node(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path((job, name)): Path<(i64, String)>,
    Query(f): Query<NodeFilter>,
) -> Web<Response> {
    let who = user(&s, &headers)?;
    let title = name.clone();
    let markup = blocking(move || {
        let text = s.store.node_report(job, &name)?.ok_or_else(|| {
            WebError(StatusCode::NOT_FOUND, format!("no report of node {name} in job {job}"))
        })?;
        let report: Report = serde_json::from_str(&text)
            .map_err(|e| WebError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        // The node's health as its scan's report counts it: this one node
        // composed alone, not the whole cluster report read for it.
        let options = s
            .store
            .job(job)?
            .and_then(|j| s.config.scan(&j.scan).map(|c| c.options.clone()))
            .unwrap_or_default();
        let mut composer = kubecis_report::cluster::Composer::new(options);
        let health = kubecis_report::cluster::add_node_report(text.as_bytes(), &name, &mut composer)
            .ok()
            .and_then(|()| composer.finish().groups.first()?.nodes.first().map(|n| n.health.to_string()));
        let count = |st: NodeState| report.totals.get(&st).copied().unwrap_or(0);
        Ok(html! {
            p.crumbs { a href="/ui/" { "Overview" } " › " a href={"/ui/reports/" (job)} { "report " (job) } " › " (name) }
            h1 { "Node " (name) }
            dl.facts {
                dt { "Health" } dd { @match &health { Some(h) => span class={"health h-" (h)} { (h) }, None => "—" } }
                dt { "Kubernetes" } dd { (report.node.kubernetes_version.as_deref().unwrap_or("unknown")) }
                dt { "Distribution" } dd { (report.node.distribution) }
                dt { "Checked as" } dd { (report.node.node_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")) }
                dt { "Benchmark" } dd { (report.benchmark) " (" (report.benchmark_from) ")" }
            }
            p { @for st in NodeState::ALL { (badge(st.as_str())) " " (count(st)) " " } }
            p { "Download: "
                @for (fmt, label) in [("json", "JSON"), ("kube-bench", "kube-bench JSON"), ("junit", "JUnit"), ("csv", "CSV"), ("text", "text")] {
                    a href={"/ui/reports/" (job) "/nodes/" (urlencode(&name)) "/download?format=" (fmt)} download { (label) } " "
                }
            }
            form.filters method="get" {
                label { "State " select name="state" {
                    option value="" selected[f.state.is_empty()] { "any" }
                    @for st in NodeState::ALL { option value=(st.as_str()) selected[f.state == st.as_str()] { (st.as_str()) } }
                } }
                button type="submit" { "Filter" }
            }
            div.table-wrap { table.evidence {
                thead { tr { th scope="col" { "Item" } th scope="col" { "State" } th scope="col" { "Expected" } th scope="col" { "Found" } th scope="col" { "Reason" } } }
                tbody { @for r in report.results.iter().filter(|r| f.state.is_empty() || r.state.as_str() == f.state) {
                    tr id={"r-" (r.id)} {
                        th scope="row" { (r.id) " " span.muted { (r.title) } }
                        td { (badge(r.state.as_str())) }
                        td { code { (r.expected) } }
                        td { code { (r.actual) } }
                        td { (r.reason) }
                    }
                } }
            } }
        })
    })
    .await?;
    Ok(page(&format!("Node {title}"), Some(&who), markup).into_response())
}
