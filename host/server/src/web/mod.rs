//! The dashboard: server-rendered pages under `/ui` (maud templates, every
//! value escaped), a stylesheet and a little script embedded in the binary,
//! so it works air-gapped. People sign in with a viewer's or an admin's
//! token; the session lives in this process (an HttpOnly, SameSite=Strict
//! cookie), and every change is a POST carrying the session's CSRF token.
//! What a viewer may not do, the server refuses, whatever the page shows.

mod pages;
mod session;

use crate::config::Role;
use crate::jobs::Service;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use session::Session;
use std::sync::Arc;

pub use session::Sessions;

/// The last reports a dashboard opened, parsed (a 5,000-node report takes
/// a while to read, and its pages are read one after another).
#[derive(Default)]
pub struct ReportCache(std::sync::Mutex<Vec<(i64, Arc<kubecis_model::cluster::ClusterReport>)>>);

impl ReportCache {
    const KEEP: usize = 2;

    fn get(&self, job: i64) -> Option<Arc<kubecis_model::cluster::ClusterReport>> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().find(|(j, _)| *j == job).map(|(_, r)| r.clone())
    }

    fn put(
        &self,
        job: i64,
        report: kubecis_model::cluster::ClusterReport,
    ) -> Arc<kubecis_model::cluster::ClusterReport> {
        let report = Arc::new(report);
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|(j, _)| *j != job);
        all.insert(0, (job, report.clone()));
        all.truncate(Self::KEEP);
        report
    }
}

/// What every dashboard response carries: nothing from elsewhere may run
/// or be framed, and links leak no address.
async fn harden(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (k, v) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(k, axum::http::HeaderValue::from_static(v));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Web<T> + Send + 'static) -> Web<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

pub fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(pages::overview))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/scans/{scan}", get(pages::scan))
        .route("/ui/scans/{scan}/run", post(pages::run))
        .route("/ui/scans/{scan}/alerts", post(pages::alerts))
        .route("/ui/reports/{job}", get(pages::report))
        .route("/ui/reports/{job}/download", get(pages::report_file))
        .route("/ui/reports/{job}/delete", post(pages::delete))
        .route("/ui/reports/{job}/nodes/{node}", get(pages::node))
        .route(
            "/ui/reports/{job}/nodes/{node}/download",
            get(pages::node_file),
        )
        .route("/ui/assets/style.css", get(|| asset("text/css", STYLE)))
        .route(
            "/ui/assets/app.js",
            get(|| asset("text/javascript", SCRIPT)),
        )
        .layer(axum::middleware::map_response(harden))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A page that could not be shown: its status and why, as a page.
pub struct WebError(pub StatusCode, pub String);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.0 == StatusCode::UNAUTHORIZED {
            return Redirect::to("/ui/login").into_response();
        }
        let title = self.0.canonical_reason().unwrap_or("Error").to_owned();
        let body = html! {
            section.error role="alert" {
                h1 { (title) }
                p { (self.1) }
                p { a href="/ui/" { "Back to the overview" } }
            }
        };
        (self.0, page(&title, None, body)).into_response()
    }
}

impl From<crate::api::ApiError> for WebError {
    fn from(e: crate::api::ApiError) -> WebError {
        WebError(e.0, e.1)
    }
}

impl From<crate::jobs::JobError> for WebError {
    fn from(e: crate::jobs::JobError) -> WebError {
        crate::api::ApiError::from(e).into()
    }
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> WebError {
        WebError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

type Web<T> = Result<T, WebError>;

/// The signed-in user of a request, or a redirect to the sign-in page.
fn user(s: &Service, headers: &HeaderMap) -> Web<Session> {
    session::cookie(headers)
        .and_then(|id| s.sessions.get(&id, std::time::Instant::now()))
        .ok_or_else(|| WebError(StatusCode::UNAUTHORIZED, "sign in".into()))
}

/// The signed-in admin of a POST whose CSRF token matches.
fn admin(s: &Service, headers: &HeaderMap, csrf: &str) -> Web<Session> {
    let user = user(s, headers)?;
    if !session::same(&user.csrf, csrf) {
        return Err(WebError(
            StatusCode::FORBIDDEN,
            "the form is stale or came from another site; reload the page and try again".into(),
        ));
    }
    if user.role != Role::Admin {
        return Err(WebError(
            StatusCode::FORBIDDEN,
            format!(
                "{} is a viewer: viewers cannot run, delete or change anything",
                user.name
            ),
        ));
    }
    Ok(user)
}

/// The page around every page's content.
fn page(title: &str, user: Option<&Session>, content: Markup) -> Html<String> {
    layout(title, user, content, false)
}

/// A page that follows running jobs: it reloads its content until none runs.
fn live_page(title: &str, user: Option<&Session>, content: Markup, live: bool) -> Html<String> {
    layout(title, user, content, live)
}

fn layout(title: &str, user: Option<&Session>, content: Markup, live: bool) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · kubecis" }
                    link rel="stylesheet" href="/ui/assets/style.css";
                    script src="/ui/assets/app.js" defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href="/ui/" { "kubecis" }
                        @if let Some(u) = user {
                            nav aria-label="Account" {
                                span.who { (u.name) " (" (u.role.as_str()) ")" }
                                form method="post" action="/ui/logout" {
                                    input type="hidden" name="csrf" value=(u.csrf);
                                    button type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    main #main data-refresh[live] { (content) }
                }
            }
        }
        .into_string(),
    )
}

async fn login_page() -> Html<String> {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Html<String> {
    page(
        "Sign in",
        None,
        html! {
            section.login {
                h1 { "Sign in" }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/ui/login" {
                    label for="token" { "Token (a viewer's or an admin's)" }
                    input #token type="password" name="token" autocomplete="current-password" required autofocus;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

async fn login(State(s): State<Arc<Service>>, Form(form): Form<Login>) -> Response {
    let Some(token) = crate::api::token_by_secret(&s, &form.token) else {
        return (
            StatusCode::UNAUTHORIZED,
            login_form(Some("That token is not known.")),
        )
            .into_response();
    };
    if token.role == Role::Agent {
        return (
            StatusCode::FORBIDDEN,
            login_form(Some(
                "An agent's token cannot sign in: use a viewer's or an admin's.",
            )),
        )
            .into_response();
    }
    let secure = s.config.external_url.starts_with("https://");
    let id = s
        .sessions
        .start(&token.name, token.role, std::time::Instant::now());
    let mut response = Redirect::to("/ui/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::set_cookie(&id, secure)
            .parse()
            .expect("a valid cookie"),
    );
    response
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

async fn logout(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Form(form): Form<Csrf>,
) -> Response {
    if let Some(id) = session::cookie(&headers)
        && let Some(user) = s.sessions.get(&id, std::time::Instant::now())
        && session::same(&user.csrf, &form.csrf)
    {
        s.sessions.end(&id);
    }
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie().parse().expect("a valid cookie"),
    );
    response
}
