//! `kubecis serve --config FILE`: where to listen, where to keep data, who
//! may do what, and the scans. Refused at start, with the file and what was
//! expected, when anything is unknown or wrong.

use crate::schedule::Schedule;
use kubecis_report::cluster::ReportOptions;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read scans, jobs and reports.
    Viewer,
    /// Register, take work and upload node reports.
    Agent,
    /// Everything a viewer may, and run scans and delete reports.
    Admin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    listen: SocketAddr,
    data_dir: PathBuf,
    tokens: Vec<TokenFile>,
    #[serde(default)]
    scans: Vec<ScanFile>,
    /// Jobs that may run at once (Calico's default is 5).
    #[serde(default = "default_active")]
    max_active_jobs: usize,
    /// An agent not heard from for this long is not expected in a new job.
    #[serde(default = "default_agent_timeout", with = "humantime_serde")]
    agent_timeout: Duration,
}

fn default_active() -> usize {
    5
}

fn default_agent_timeout() -> Duration {
    Duration::from_secs(120)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenFile {
    name: String,
    role: Role,
    /// A file holding the token (a mounted Secret); the token is never in the config.
    token_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScanFile {
    name: String,
    #[serde(default = "auto")]
    benchmark: String,
    profile: Option<String>,
    #[serde(default)]
    skip: Vec<String>,
    /// Cron: five fields or `@hourly`-style names, in UTC.
    schedule: Option<String>,
    /// Reports kept (Rancher's default: 3).
    #[serde(default = "default_retention")]
    retention: usize,
    /// How long a job waits for its nodes before it completes without them.
    #[serde(default = "default_deadline", with = "humantime_serde")]
    deadline: Duration,
    /// Delay from the scheduled time to the job's start.
    #[serde(default, with = "humantime_serde")]
    start_delay: Duration,
    /// Tries of a job whose nodes all failed before it is failed (Calico: 6).
    #[serde(default = "default_tries")]
    tries: u32,
    /// Calico's `spec.cis` options for the composed report.
    #[serde(default)]
    cis: Option<serde_json::Value>,
}

fn auto() -> String {
    "auto".into()
}
fn default_retention() -> usize {
    3
}
fn default_deadline() -> Duration {
    Duration::from_secs(600)
}
fn default_tries() -> u32 {
    6
}

/// The server's configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tokens: Vec<Token>,
    pub scans: Vec<ScanConfig>,
    pub max_active_jobs: usize,
    pub agent_timeout: Duration,
}

#[derive(Clone)]
pub struct Token {
    pub name: String,
    pub role: Role,
    pub secret: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}, {:?})", self.name, self.role)
    }
}

/// One scan: what agents run, when, and how many reports are kept.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub name: String,
    pub benchmark: String,
    pub profile: Option<String>,
    pub skip: Vec<String>,
    pub schedule: Option<Schedule>,
    pub retention: usize,
    pub deadline: Duration,
    pub start_delay: Duration,
    pub tries: u32,
    pub options: ReportOptions,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl Config {
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let fail = |message: String| ConfigError {
            file: file.clone(),
            message,
        };
        let bytes = kubecis_engine::node::read::regular_file(path, 4 << 20)
            .map_err(|e| fail(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".into()))?;
        let raw: File = kubecis_engine::yaml::from_str(&text).map_err(|e| fail(e.0))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::validate(raw, base).map_err(fail)
    }

    fn validate(raw: File, base: &Path) -> Result<Config, String> {
        if raw.tokens.is_empty() {
            return Err("tokens: at least one token (an admin's) is needed".into());
        }
        let mut tokens = Vec::new();
        let mut names = BTreeSet::new();
        for t in raw.tokens {
            if !names.insert(t.name.clone()) {
                return Err(format!("tokens: {} appears twice", t.name));
            }
            let path = base.join(&t.token_file);
            let bytes = kubecis_engine::node::read::regular_file(&path, 4096)
                .map_err(|e| format!("tokens: {}: token file {}: {e}", t.name, path.display()))?;
            let secret = String::from_utf8(bytes)
                .map_err(|_| format!("tokens: {}: token file is not text", t.name))?
                .trim()
                .to_owned();
            if secret.len() < 16 {
                return Err(format!(
                    "tokens: {}: the token in {} is shorter than 16 characters",
                    t.name,
                    path.display()
                ));
            }
            tokens.push(Token {
                name: t.name,
                role: t.role,
                secret,
            });
        }
        let mut scans = Vec::new();
        let mut scan_names = BTreeSet::new();
        for s in raw.scans {
            if !scan_names.insert(s.name.clone()) {
                return Err(format!("scans: {} appears twice", s.name));
            }
            let valid_name = !s.name.is_empty()
                && s.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !valid_name {
                return Err(format!(
                    "scans: {:?}: a scan's name is letters, digits, '-', '_' and '.'",
                    s.name
                ));
            }
            let schedule = s
                .schedule
                .as_deref()
                .map(Schedule::parse)
                .transpose()
                .map_err(|e| format!("scans: {}: schedule {e}", s.name))?;
            if s.retention == 0 {
                return Err(format!(
                    "scans: {}: retention must keep at least 1 report",
                    s.name
                ));
            }
            if s.tries == 0 {
                return Err(format!("scans: {}: tries must be at least 1", s.name));
            }
            let options = match s.cis {
                None => ReportOptions::default(),
                Some(cis) => ReportOptions::parse(&cis.to_string())
                    .map_err(|e| format!("scans: {}: cis: {e}", s.name))?,
            };
            scans.push(ScanConfig {
                name: s.name,
                benchmark: s.benchmark,
                profile: s.profile,
                skip: s.skip,
                schedule,
                retention: s.retention,
                deadline: s.deadline,
                start_delay: s.start_delay,
                tries: s.tries,
                options,
            });
        }
        Ok(Config {
            listen: raw.listen,
            data_dir: base.join(raw.data_dir),
            tokens,
            scans,
            max_active_jobs: raw.max_active_jobs.max(1),
            agent_timeout: raw.agent_timeout,
        })
    }

    pub fn scan(&self, name: &str) -> Option<&ScanConfig> {
        self.scans.iter().find(|s| s.name == name)
    }
}
