//! The HTTP API: JSON, bearer tokens with roles, bounded bodies, errors as
//! JSON naming what was wrong. Nothing is stored from a refused request.

use crate::config::Role;
use crate::config::alerting;
use crate::jobs::{JobError, Service};
use crate::store::{self, StoreError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use kubecis_model::agent::Registration;
use kubecis_report::cluster::ClusterReport;
use kubecis_report::cluster::render::{self, CsvKind};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Most bytes of a request body (a node report of a full scan is ~100 KiB).
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Longest an agent's poll for work is held open.
const MAX_POLL: Duration = Duration::from_secs(60);

pub fn router(service: Arc<Service>) -> Router {
    let limit = service.config.request_timeout;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/api/v1/openapi.yaml", get(openapi))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/agents/register", post(register))
        .route("/api/v1/agents/{node}/work", get(work))
        .route("/api/v1/jobs", get(jobs))
        .route("/api/v1/jobs/{job}/reports/{node}", put(upload))
        .route("/api/v1/scans", get(scans))
        .route("/api/v1/scans/{scan}/run", post(run))
        .route("/api/v1/scans/{scan}/status", get(status))
        .route(
            "/api/v1/scans/{scan}/alerts",
            get(scan_alerts)
                .put(set_scan_alerts)
                .delete(reset_scan_alerts),
        )
        .route("/api/v1/reports", get(reports))
        .route("/api/v1/reports/{job}", get(report).delete(delete_report))
        .route("/api/v1/reports/{job}/nodes/{node}", get(node_report))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/notifiers", get(notifiers))
        .route("/metrics", get(metrics))
        .merge(crate::web::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(limit, time_limit))
        .with_state(service)
}

/// The API's description, kept true by a test that compares it with the routes.
const OPENAPI: &str = include_str!("../openapi.yaml");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI).into_response()
}

/// A request not answered within the limit (a client that sends its body
/// slowly, a stuck disk) gets 408 and holds nothing longer.
async fn time_limit(
    State(limit): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request was not done within {}s", limit.as_secs_f32()),
        )
        .into_response(),
    }
}

/// A refused request: its status and what was wrong.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> ApiError {
        let status = match &e {
            JobError::UnknownScan(_) | JobError::UnknownJob(_) => StatusCode::NOT_FOUND,
            JobError::TooManyActive(_) => StatusCode::TOO_MANY_REQUESTS,
            JobError::UnknownProfile { .. } => StatusCode::BAD_REQUEST,
            JobError::NotExpected { .. } => StatusCode::CONFLICT,
            JobError::BadReport(_) => StatusCode::UNPROCESSABLE_ENTITY,
            JobError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

type Api<T> = Result<T, ApiError>;

/// The caller's role, if its bearer token is known and the role is allowed.
fn authorize(service: &Service, headers: &HeaderMap, allowed: &[Role]) -> Api<Role> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required (Authorization: Bearer <token>)".into(),
            )
        })?;
    let token = token_by_secret(service, given)
        .ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "the token is not known".into()))?;
    if !allowed.contains(&token.role) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "token {} has the role {}; this needs the role {}",
                token.name,
                token.role.as_str(),
                allowed
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    Ok(token.role)
}

/// Compares without an early exit, so timing tells nothing of the secret.
/// The configured token with this secret (compared in constant time).
pub(crate) fn token_by_secret<'a>(
    service: &'a Service,
    given: &str,
) -> Option<&'a crate::config::Token> {
    service
        .config
        .tokens
        .iter()
        .find(|t| constant_time_eq(t.secret.as_bytes(), given.trim().as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) const READ: &[Role] = &[Role::Viewer, Role::Admin];
const AGENT: &[Role] = &[Role::Agent, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Api<T> + Send + 'static,
) -> Api<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

async fn ready(State(s): State<Arc<Service>>) -> Api<&'static str> {
    blocking(move || {
        s.store.agents()?;
        Ok("ready")
    })
    .await
}

async fn register(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Api<StatusCode> {
    authorize(&s, &headers, AGENT)?;
    let reg: Registration = serde_json::from_slice(&body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("not a registration: {e}")))?;
    if reg.node.is_empty() || reg.node.len() > 253 || reg.node.chars().any(char::is_control) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "node: expected a node name of 1 to 253 printable characters".into(),
        ));
    }
    blocking(move || {
        s.seen(&reg)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Deserialize)]
struct Wait {
    wait: Option<u64>,
}

/// An agent's long poll: its next work, or 204 after `wait` seconds.
async fn work(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(node): Path<String>,
    Query(q): Query<Wait>,
) -> Api<Response> {
    authorize(&s, &headers, AGENT)?;
    // A poll ends well before the request time limit would cut it.
    let wait = Duration::from_secs(q.wait.unwrap_or(30))
        .min(MAX_POLL)
        .min(s.config.request_timeout / 2);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = s.work_ready.notified();
        let (svc, n) = (s.clone(), node.clone());
        let found = blocking(move || Ok(svc.work_for(&n)?)).await?;
        if let Some(w) = found {
            return Ok(axum::Json(w).into_response());
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        // Woken by a new job, or look again every second (a clock moved on).
        let _ = tokio::time::timeout(left.min(Duration::from_secs(1)), notified).await;
    }
}

async fn upload(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path((job, node)): Path<(i64, String)>,
    body: Bytes,
) -> Api<StatusCode> {
    authorize(&s, &headers, AGENT)?;
    blocking(move || {
        s.upload(job, &node, &body)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn agents(State(s): State<Arc<Service>>, headers: HeaderMap) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || Ok(axum::Json(s.store.agents()?).into_response())).await
}

#[derive(Deserialize)]
struct JobQuery {
    scan: Option<String>,
    state: Option<String>,
}

async fn jobs(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Query(q): Query<JobQuery>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || {
        let rows = s.store.jobs(q.scan.as_deref(), q.state.as_deref(), 500)?;
        Ok(axum::Json(rows).into_response())
    })
    .await
}

async fn scans(State(s): State<Arc<Service>>, headers: HeaderMap) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    let list: Vec<_> = s
        .config
        .scans
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "benchmark": c.benchmark,
                "profile": c.profile,
                "skip": c.skip,
                "schedule": c.schedule.as_ref().map(|s| s.as_str()),
                "timeZone": c.schedule.as_ref().map(|s| s.zone().name()),
                "nextRun": c.schedule.as_ref().and_then(|sch| sch.next_after(s.clock.now())).map(|t| t.timestamp()),
                "retention": c.retention,
                "deadlineSeconds": c.deadline.as_secs(),
                "tries": c.tries,
                "definedIn": c.origin,
                "alerts": s.alert_rules(c),
                "runChoices": c.run_choices,
            })
        })
        .collect();
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize)]
struct RunQuery {
    profile: Option<String>,
}

async fn run(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(scan): Path<String>,
    Query(q): Query<RunQuery>,
) -> Api<Response> {
    authorize(&s, &headers, ADMIN)?;
    blocking(move || {
        let config = s
            .config
            .scan(&scan)
            .ok_or_else(|| JobError::UnknownScan(scan.clone()))?;
        let job = s.start_with(config, "manual", q.profile.as_deref())?;
        Ok((StatusCode::ACCEPTED, axum::Json(json!({ "job": job }))).into_response())
    })
    .await
}

/// A scan's job status (see [`scan_status`]).
async fn status(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(scan): Path<String>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || Ok(axum::Json(scan_status(&s, &scan)?).into_response())).await
}

/// Calico's job status of a scan: the last scheduled job, the active ones,
/// the last failed (3) and successful (2) ones.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanStatus {
    pub scan: String,
    pub last_scheduled: Option<store::JobRow>,
    pub active: Vec<store::JobRow>,
    pub last_failed: Vec<store::JobRow>,
    pub last_successful: Vec<store::JobRow>,
}

pub(crate) fn scan_status(s: &Service, scan: &str) -> Api<ScanStatus> {
    if s.config.scan(scan).is_none() {
        return Err(JobError::UnknownScan(scan.to_owned()).into());
    }
    let all = s.store.jobs(Some(scan), None, 500)?;
    let pick = |state: &str, n: usize| -> Vec<_> {
        all.iter()
            .filter(|j| j.state == state)
            .take(n)
            .cloned()
            .collect()
    };
    Ok(ScanStatus {
        scan: scan.to_owned(),
        last_scheduled: all.iter().find(|j| j.trigger == "scheduled").cloned(),
        active: pick(store::ACTIVE, usize::MAX),
        last_failed: pick(store::FAILED, 3),
        last_successful: pick(store::COMPLETED, 2),
    })
}

#[derive(Deserialize)]
struct Page {
    scan: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A store's listing of one page: (scan, limit, offset).
type Lister<T> = fn(&store::Store, Option<&str>, i64, i64) -> Result<Vec<T>, StoreError>;

/// Lists a store table a page at a time (50 rows by default, at most 500).
async fn paged<T: serde::Serialize + 'static>(
    s: Arc<Service>,
    headers: HeaderMap,
    p: Page,
    list: Lister<T>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || {
        let limit = p.limit.unwrap_or(50).clamp(1, 500);
        let rows = list(
            &s.store,
            p.scan.as_deref(),
            limit,
            p.offset.unwrap_or(0).max(0),
        )?;
        Ok(axum::Json(rows).into_response())
    })
    .await
}

async fn reports(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Query(p): Query<Page>,
) -> Api<Response> {
    paged(s, headers, p, store::Store::reports).await
}

#[derive(Deserialize)]
struct ReportQuery {
    format: Option<String>,
    csv: Option<String>,
}

async fn report(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(job): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    let d =
        blocking(move || cluster_download(&s, job, q.format.as_deref(), q.csv.as_deref())).await?;
    Ok(d.into_response())
}

/// A report as served: its content type and body.
pub(crate) struct Download {
    pub content_type: &'static str,
    pub body: String,
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let mut headers = vec![(header::CONTENT_TYPE, self.content_type)];
        if self.content_type.starts_with("text/csv") {
            headers.push((header::CONTENT_DISPOSITION, "attachment"));
        }
        let mut response = self.body.into_response();
        for (k, v) in headers {
            response
                .headers_mut()
                .insert(k, axum::http::HeaderValue::from_static(v));
        }
        response
    }
}

/// A job's cluster report as JSON (as stored), text or one of the CSVs.
pub(crate) fn cluster_download(
    s: &Service,
    job: i64,
    format: Option<&str>,
    csv: Option<&str>,
) -> Api<Download> {
    let text = s
        .store
        .report(job)?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no report of job {job}")))?;
    let format = format.unwrap_or("json");
    if format == "json" {
        return Ok(Download {
            content_type: "application/json",
            body: text,
        });
    }
    let report: ClusterReport = serde_json::from_str(&text)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match format {
        "text" => Ok(Download {
            content_type: "text/plain; charset=utf-8",
            body: render::render_text(&report),
        }),
        "csv" => {
            let kind = match csv.unwrap_or("rancher") {
                "rancher" => CsvKind::Rancher,
                "all-tests" => CsvKind::AllTests,
                "failed-tests" => CsvKind::FailedTests,
                "node-summary" => CsvKind::NodeSummary,
                "total-summary" => CsvKind::TotalSummary,
                other => {
                    return Err(ApiError(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "csv={other:?}: expected rancher, all-tests, failed-tests, node-summary or total-summary"
                        ),
                    ));
                }
            };
            let group = report.groups.first().ok_or_else(|| {
                ApiError(
                    StatusCode::NOT_FOUND,
                    format!("job {job}'s report has no nodes"),
                )
            })?;
            Ok(Download {
                content_type: "text/csv; charset=utf-8",
                body: render::render_csv(group, kind),
            })
        }
        "junit" | "kube-bench" => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "format={format}: a node's format; ask for GET /api/v1/reports/{job}/nodes/{{node}}?format={format}"
            ),
        )),
        other => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("format={other:?}: expected json, text or csv"),
        )),
    }
}

/// One node's report of a job, in any node report format: kubecis JSON,
/// kube-bench's JSON, JUnit XML, CSV or text.
async fn node_report(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path((job, node)): Path<(i64, String)>,
    Query(q): Query<ReportQuery>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    let d = blocking(move || node_download(&s, job, &node, q.format.as_deref())).await?;
    Ok(d.into_response())
}

/// One node's report of a job as JSON (as uploaded), kube-bench's JSON,
/// JUnit XML, CSV or text.
pub(crate) fn node_download(
    s: &Service,
    job: i64,
    node: &str,
    format: Option<&str>,
) -> Api<Download> {
    use kubecis_report::output::{Format, TextStyle, render};
    let format = match format.unwrap_or("json") {
        "json" => Format::Json,
        "kube-bench" => Format::KubeBench,
        "junit" => Format::Junit,
        "csv" => Format::Csv,
        "text" => Format::Text,
        other => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("format={other:?}: expected json, kube-bench, junit, csv or text"),
            ));
        }
    };
    let text = s.store.node_report(job, node)?.ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("no report of node {node:?} in job {job}"),
        )
    })?;
    if format == Format::Json {
        return Ok(Download {
            content_type: "application/json",
            body: text,
        });
    }
    let report: kubecis_model::report::Report = serde_json::from_str(&text)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let content_type = match format {
        Format::KubeBench => "application/json",
        Format::Junit => "application/xml",
        Format::Csv => "text/csv; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    Ok(Download {
        content_type,
        body: render(&report, format, TextStyle::default()),
    })
}

/// A scan's alert rules and where they come from (`config` or `api`).
async fn scan_alerts(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(scan): Path<String>,
) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || {
        let config = s
            .config
            .scan(&scan)
            .ok_or_else(|| JobError::UnknownScan(scan.clone()))?;
        let from = if s.store.alert_rules(&scan)?.is_some() {
            "api"
        } else {
            "config"
        };
        Ok(
            axum::Json(json!({ "scan": scan, "from": from, "rules": s.alert_rules(config) }))
                .into_response(),
        )
    })
    .await
}

/// Replaces a scan's alert rules (the config's `alerts` format, as JSON);
/// they hold until deleted, across restarts.
async fn set_scan_alerts(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(scan): Path<String>,
    body: Bytes,
) -> Api<Response> {
    authorize(&s, &headers, ADMIN)?;
    blocking(move || {
        if s.config.scan(&scan).is_none() {
            return Err(JobError::UnknownScan(scan).into());
        }
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the body is not UTF-8".into()))?;
        let rules = store_alert_rules(&s, &scan, text)?;
        Ok(axum::Json(json!({ "scan": scan, "from": "api", "rules": rules })).into_response())
    })
    .await
}

/// Checks a scan's rules (the config's `alerts` format, as JSON) as the
/// config is checked and keeps them; the API and the dashboard both set them here.
pub(crate) fn store_alert_rules(
    s: &Service,
    scan: &str,
    json: &str,
) -> Result<Vec<alerting::AlertRule>, ApiError> {
    let rules = alerting::rules_from_json(scan, json, &s.config.notifiers)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e))?;
    // Stored as read back, so what is kept is what was checked.
    let stored = serde_json::to_string(&rules).unwrap_or_default();
    s.store.set_alert_rules(scan, Some(&stored), s.now())?;
    Ok(rules)
}

/// Drops the rules set through the API: the config's apply again.
async fn reset_scan_alerts(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(scan): Path<String>,
) -> Api<StatusCode> {
    authorize(&s, &headers, ADMIN)?;
    blocking(move || {
        if s.config.scan(&scan).is_none() {
            return Err(JobError::UnknownScan(scan).into());
        }
        s.store.set_alert_rules(&scan, None, s.now())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// The alert history, newest first: sent, failed (with why), suppressed by
/// a rule's interval, or still pending.
async fn alerts(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Query(p): Query<Page>,
) -> Api<Response> {
    paged(s, headers, p, store::Store::alerts).await
}

/// The notifiers by name and kind; their URLs are secrets and never leave.
async fn notifiers(State(s): State<Arc<Service>>, headers: HeaderMap) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    let list: Vec<_> = s
        .config
        .notifiers
        .iter()
        .map(|n| {
            json!({
                "name": n.name,
                "kind": n.kind,
                "timeoutSeconds": n.timeout.as_secs_f64(),
                "retries": n.retries,
            })
        })
        .collect();
    Ok(axum::Json(list).into_response())
}

/// Prometheus metrics (OpenMetrics text); a viewer's token, as Prometheus
/// sends it with `authorization: {credentials_file: …}`.
async fn metrics(State(s): State<Arc<Service>>, headers: HeaderMap) -> Api<Response> {
    authorize(&s, &headers, READ)?;
    blocking(move || {
        let text = crate::metrics::render(&s)?;
        Ok((
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response())
    })
    .await
}

async fn delete_report(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(job): Path<i64>,
) -> Api<StatusCode> {
    authorize(&s, &headers, ADMIN)?;
    blocking(move || {
        if s.store.delete_job(job)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("no finished job {job}"),
            ))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::OPENAPI;
    use std::collections::BTreeSet;

    /// `(METHOD, /path)` of every route this file declares.
    fn routes() -> BTreeSet<(String, String)> {
        // Without whitespace each route is one run of text, however
        // rustfmt wrapped it.
        let source: String = include_str!("api.rs")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut out = BTreeSet::new();
        for piece in source.split(".route(\"").skip(1) {
            let (path, rest) = piece.split_once('"').unwrap();
            let handlers = rest.split(".layer(").next().unwrap();
            for method in ["get", "post", "put", "delete"] {
                if handlers.contains(&format!("{method}(")) {
                    out.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn the_openapi_file_describes_every_route_and_no_other() {
        let doc: serde_json::Value = kubecis_engine::yaml::from_str(OPENAPI).unwrap();
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
        let routes = routes();
        assert!(routes.len() >= 14, "{routes:?}");
        assert_eq!(described, routes);
    }
}
