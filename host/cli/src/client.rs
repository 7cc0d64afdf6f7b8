//! Talking to `kubecis serve`: the agent and the `reports`, `scans` and
//! `jobs` commands. A bearer token from a file; errors name the server's
//! answer.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the server is and how to prove who we are.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// The server, e.g. http://kubecis.kubecis-system:8080.
    #[arg(long, value_name = "URL", env = "KUBECIS_SERVER")]
    pub server: String,
    /// A file holding the bearer token.
    #[arg(long, value_name = "FILE", env = "KUBECIS_TOKEN_FILE")]
    pub token_file: PathBuf,
}

pub struct Client {
    base: String,
    token: String,
    http: ureq::Agent,
}

/// A server's answer: its status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Client {
    pub fn new(args: &ServerArgs, timeout: Duration) -> Result<Client> {
        let base = args.server.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            bail!("--server {base:?}: expected an http:// URL");
        }
        Ok(Client {
            base,
            token: read_token(&args.token_file)?,
            http: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .build()
                .into(),
        })
    }

    fn finish(
        &self,
        what: &str,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer> {
        let mut response = answer.with_context(|| format!("{what} at {}", self.base))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .with_context(|| format!("{what}: reading the answer"))?;
        Ok(Answer { status, body })
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub fn get(&self, path: &str) -> Result<Answer> {
        let url = format!("{}{path}", self.base);
        let answer = self
            .http
            .get(&url)
            .header("Authorization", self.auth())
            .call();
        self.finish(&format!("GET {path}"), answer)
    }

    pub fn delete(&self, path: &str) -> Result<Answer> {
        let url = format!("{}{path}", self.base);
        let answer = self
            .http
            .delete(&url)
            .header("Authorization", self.auth())
            .call();
        self.finish(&format!("DELETE {path}"), answer)
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Result<Answer> {
        let url = format!("{}{path}", self.base);
        let answer = self
            .http
            .post(&url)
            .header("Authorization", self.auth())
            .content_type("application/json")
            .send(body);
        self.finish(&format!("POST {path}"), answer)
    }

    pub fn put(&self, path: &str, body: &[u8]) -> Result<Answer> {
        let url = format!("{}{path}", self.base);
        let answer = self
            .http
            .put(&url)
            .header("Authorization", self.auth())
            .content_type("application/json")
            .send(body);
        self.finish(&format!("PUT {path}"), answer)
    }
}

impl Answer {
    /// The body of a 2xx answer; otherwise an error with the server's words.
    pub fn ok(self, what: &str) -> Result<String> {
        if (200..300).contains(&self.status) {
            return Ok(self.body);
        }
        let said = serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(self.body);
        bail!(
            "{what}: the server answered {}: {}",
            self.status,
            kubecis_report::output::printable(&said)
        )
    }
}

fn read_token(path: &Path) -> Result<String> {
    let bytes = kubecis_engine::node::read::regular_file(path, 4096)
        .with_context(|| format!("token file {}", path.display()))?;
    let token = String::from_utf8(bytes)
        .with_context(|| format!("token file {}: not text", path.display()))?
        .trim()
        .to_owned();
    if token.is_empty() {
        bail!("token file {}: empty", path.display());
    }
    Ok(token)
}
