//! `kubecis serve --config FILE`: where to listen, where to keep data, who
//! may do what, and the scans — its own, and those imported as Rancher or
//! Calico wrote them ([`import`]). Refused at start, with the file, the
//! line and what was expected, when anything is unknown or wrong.

pub mod alerting;
mod import;

use crate::local::LocalNode;
use crate::schedule::{Schedule, parse_zone};
use alerting::{AlertRule, Notifier, NotifierFile, RuleFile};
use kubecis_engine::bundle::Library;
use kubecis_engine::skipconfig::SkipConfig;
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

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    listen: SocketAddr,
    data_dir: PathBuf,
    tokens: Vec<TokenFile>,
    #[serde(default)]
    scans: Vec<ScanFile>,
    /// Files of scans written for Rancher or Calico, read as they are.
    #[serde(default)]
    import: Vec<PathBuf>,
    /// Nodes the server scans itself, without agents.
    #[serde(default)]
    local_nodes: Vec<LocalNode>,
    /// Jobs that may run at once (Calico's default is 5).
    #[serde(default = "default_active")]
    max_active_jobs: usize,
    /// An agent not heard from for this long is not expected in a new job.
    #[serde(default = "default_agent_timeout", with = "humantime_serde")]
    agent_timeout: Duration,
    /// A request not answered within this gets 408 (agents' polls end sooner).
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    request_timeout: Duration,
    /// Where alerts go.
    #[serde(default)]
    notifiers: Vec<NotifierFile>,
    /// The `cluster_name` label of metrics and alerts.
    #[serde(default = "default_cluster_name")]
    cluster_name: String,
    /// This server's address as users reach it, for links in alerts.
    external_url: Option<String>,
    /// Bundle packages the scans may name, and the keys they must be signed with.
    #[serde(default)]
    bundles: Packages,
}

/// Bundle packages (`kubecis bundle pack`) and the operator's trust store,
/// as `scan --bundle --trust-key --trust-dir` take them; paths relative to
/// the config file. Agents load the same packages with the same flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Packages {
    #[serde(default)]
    pub packages: Vec<PathBuf>,
    #[serde(default)]
    pub trust_keys: Vec<PathBuf>,
    pub trust_dir: Option<PathBuf>,
    /// Run packages that are not signed (recorded in every report).
    #[serde(default)]
    pub allow_unsigned: bool,
    /// Run a package older than one accepted before from the same signer.
    #[serde(default)]
    pub allow_downgrade: bool,
    /// Bundles whose broad or sensitive grants the operator reviewed and allows.
    #[serde(default)]
    pub allow_grants: Vec<String>,
}

fn default_cluster_name() -> String {
    "local".into()
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(90)
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
    /// Cron: five fields or `@hourly`-style names, in UTC unless `timeZone` says.
    schedule: Option<Schedule>,
    /// An IANA time zone the schedule is read in.
    time_zone: Option<String>,
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
    /// Items accepted as they are until a date (a waivers file).
    waivers: Option<PathBuf>,
    /// Rancher's four alerts to these notifiers (unless `alerts` says otherwise).
    #[serde(default)]
    notifiers: Vec<String>,
    /// Alert rules of this scan.
    alerts: Option<Vec<RuleFile>>,
    /// Where the scan was written (set for imported scans).
    #[serde(skip)]
    origin: Option<String>,
    /// Rancher's `scanAlertRule` of an imported ClusterScan.
    #[serde(skip)]
    alert_switches: Option<AlertSwitches>,
    #[serde(skip)]
    warn_is_failure: bool,
}

impl ScanFile {
    /// A scan with the defaults a native entry gets.
    fn named(name: String, origin: String) -> ScanFile {
        ScanFile {
            name,
            benchmark: auto(),
            profile: None,
            skip: Vec::new(),
            schedule: None,
            time_zone: None,
            retention: default_retention(),
            deadline: default_deadline(),
            start_delay: Duration::ZERO,
            tries: default_tries(),
            cis: None,
            notifiers: Vec::new(),
            waivers: None,
            alerts: None,
            origin: Some(origin),
            alert_switches: None,
            warn_is_failure: false,
        }
    }
}

/// Rancher's alert switches of a scan (`scanAlertRule`): which runs notify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertSwitches {
    pub on_complete: bool,
    pub on_failure: bool,
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
    pub request_timeout: Duration,
    /// Nodes scanned by the server itself (roots relative to the config's folder).
    pub local_nodes: Vec<LocalNode>,
    /// Skip lists per benchmark (Rancher's `security-scan-cfg`), for every
    /// scan, and the file they came from.
    pub skip_config: Option<(PathBuf, SkipConfig)>,
    pub notifiers: Vec<Notifier>,
    pub cluster_name: String,
    /// Base of the links in alerts (`external_url`, else the listen address).
    pub external_url: String,
    /// Bundle packages, with paths resolved against the config's folder.
    pub bundles: Packages,
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
    /// Where it was written: the config file, or an imported file and its kind.
    pub origin: String,
    /// When the scan sends alerts, and to which notifiers.
    pub alerts: Vec<AlertRule>,
    /// Rancher's `scoreWarning: fail`: a `warn` counts as a failure.
    pub warn_is_failure: bool,
    /// The scan's waivers file, checked at start, sent with each job.
    pub waivers: Option<kubecis_model::agent::WaiversFile>,
    /// What a run may be started with: the scan's own profile first, then
    /// the benchmark's other profiles, each with the items it skips and by
    /// whom. Empty for `auto`, where each node's version decides.
    pub run_choices: Vec<RunChoice>,
}

/// A profile a run may use, and what it skips.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunChoice {
    pub profile: Option<String>,
    pub skipped: Vec<SkippedItem>,
}

/// An item a scan skips, and by whose word.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedItem {
    pub id: String,
    pub title: String,
    pub by: String,
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
        let mut raw: File = kubecis_engine::yaml::from_str(&text).map_err(|e| fail(e.0))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for scan in &mut raw.scans {
            scan.origin = Some(file.clone());
        }
        let imported = import::read_all(&raw.import, base).map_err(|e| ConfigError {
            file: e.file,
            message: e.message,
        })?;
        raw.scans.extend(imported.scans);
        Config::validate(raw, base, imported.skip).map_err(fail)
    }

    fn validate(
        raw: File,
        base: &Path,
        skip_config: Option<(PathBuf, SkipConfig)>,
    ) -> Result<Config, String> {
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
        let default_notifiers = alerting::default_notifiers(&raw.notifiers);
        let notifiers = alerting::notifiers(raw.notifiers, base)?;
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
            let schedule = match (s.schedule, &s.time_zone) {
                (Some(schedule), Some(zone)) => Some(
                    parse_zone(zone)
                        .and_then(|z| schedule.in_zone(z))
                        .map_err(|e| format!("scans: {}: timeZone {e}", s.name))?,
                ),
                (None, Some(_)) => {
                    return Err(format!(
                        "scans: {}: timeZone is given without a schedule",
                        s.name
                    ));
                }
                (schedule, None) => schedule,
            };
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
            let alerts = alerting::rules(
                &s.name,
                s.alerts,
                s.notifiers,
                s.alert_switches,
                &notifiers,
                &default_notifiers,
            )?;
            let waivers = match &s.waivers {
                None => None,
                Some(file) => {
                    let path = base.join(file);
                    let shown = path.display().to_string();
                    let text = kubecis_engine::node::read::regular_file(&path, 4 << 20)
                        .map_err(|e| format!("scans: {}: waivers {shown}: {e}", s.name))
                        .and_then(|b| {
                            String::from_utf8(b).map_err(|_| {
                                format!("scans: {}: waivers {shown} is not UTF-8 text", s.name)
                            })
                        })?;
                    kubecis_engine::waivers::Waivers::parse(&text, &shown)
                        .map_err(|e| format!("scans: {}: {e}", s.name))?;
                    Some(kubecis_model::agent::WaiversFile { from: shown, text })
                }
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
                origin: s.origin.unwrap_or_default(),
                alerts,
                warn_is_failure: s.warn_is_failure,
                run_choices: Vec::new(),
                waivers,
            });
        }
        let mut local_nodes = raw.local_nodes;
        let mut local_names = BTreeSet::new();
        for node in &mut local_nodes {
            if let Some(name) = &node.name
                && !local_names.insert(name.clone())
            {
                return Err(format!("localNodes: {name} appears twice"));
            }
            node.root = node.root.as_ref().map(|r| base.join(r));
            node.proc = node.proc.as_ref().map(|p| base.join(p));
        }
        Ok(Config {
            listen: raw.listen,
            data_dir: base.join(raw.data_dir),
            tokens,
            scans,
            max_active_jobs: raw.max_active_jobs.max(1),
            agent_timeout: raw.agent_timeout,
            request_timeout: raw.request_timeout.max(Duration::from_secs(1)),
            local_nodes,
            skip_config,
            external_url: match raw.external_url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => format!("http://{}", raw.listen),
            },
            notifiers,
            cluster_name: raw.cluster_name,
            bundles: Packages {
                packages: raw.bundles.packages.iter().map(|p| base.join(p)).collect(),
                trust_keys: raw
                    .bundles
                    .trust_keys
                    .iter()
                    .map(|p| base.join(p))
                    .collect(),
                trust_dir: raw.bundles.trust_dir.as_ref().map(|d| base.join(d)),
                ..raw.bundles
            },
        })
    }

    /// Checks every scan's benchmark, profile and skip list against the
    /// bundles the agents run, so a typo stops `serve` at start rather than
    /// failing every job. A benchmark named as Rancher names a profile
    /// (`rke-cis-1.4-permissive`) becomes that bundle and profile.
    pub fn check_benchmarks(&mut self, library: &Library) -> Result<(), ConfigError> {
        let bundles = library.bundles().map_err(|e| ConfigError {
            file: "bundles".into(),
            message: e.to_string(),
        })?;
        if let Some((file, skip)) = &self.skip_config {
            skip.check_names(library, file).map_err(|e| ConfigError {
                file: e.file,
                message: format!("security-scan-cfg: {}", e.message),
            })?;
        }
        let known = || library.names().collect::<Vec<_>>().join(", ");
        for scan in &mut self.scans {
            let fail = |message: String| ConfigError {
                file: scan.origin.clone(),
                message: format!("scans: {}: {message}", scan.name),
            };
            if scan.benchmark.eq_ignore_ascii_case("auto") {
                if let Some(profile) = &scan.profile {
                    return Err(fail(format!(
                        "profile {profile} needs a benchmark; benchmark auto has no profiles"
                    )));
                }
                continue;
            }
            let named = bundles
                .iter()
                .find(|b| b.benchmark.eq_ignore_ascii_case(&scan.benchmark));
            let bundle = match named {
                Some(b) => *b,
                None => {
                    let of_profile = bundles.iter().find(|b| {
                        b.profiles
                            .iter()
                            .any(|p| p.name.eq_ignore_ascii_case(&scan.benchmark))
                    });
                    match (of_profile, &scan.profile) {
                        (Some(b), None) => {
                            scan.profile = Some(scan.benchmark.clone());
                            scan.benchmark = b.benchmark.clone();
                            *b
                        }
                        _ => {
                            return Err(fail(format!(
                                "benchmark {} is not one kubecis has; known: auto, {}",
                                scan.benchmark,
                                known()
                            )));
                        }
                    }
                }
            };
            if let Some(profile) = &scan.profile {
                bundle.profile(profile).map_err(|e| fail(e.to_string()))?;
            }
            let ids: BTreeSet<String> = bundle
                .items()
                .flat_map(|(s, g, i)| [&s.id, &g.id, &i.id])
                .map(|id| id.to_ascii_lowercase())
                .collect();
            if let Some(id) = scan
                .skip
                .iter()
                .find(|id| !ids.contains(&id.to_ascii_lowercase()))
            {
                return Err(fail(format!(
                    "skip: {id} is not an item, group or section of {}",
                    bundle.benchmark
                )));
            }
            let skip_config = self.skip_config.as_ref().map(|(_, c)| c);
            let own = scan.profile.clone();
            let others = bundle
                .profiles
                .iter()
                .map(|p| Some(p.name.clone()))
                .filter(|p| {
                    !p.as_deref()
                        .zip(own.as_deref())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
                });
            scan.run_choices = std::iter::once(own.clone())
                .chain(others)
                .map(|profile| RunChoice {
                    skipped: skip_preview(bundle, profile.as_deref(), &scan.skip, skip_config),
                    profile,
                })
                .collect();
        }
        Ok(())
    }

    pub fn scan(&self, name: &str) -> Option<&ScanConfig> {
        self.scans.iter().find(|s| s.name == name)
    }
}

/// What a run of this benchmark and profile skips, item by item, with who
/// asked: the profile (with its reason), the scan's skip list (items,
/// groups or sections), Rancher's `security-scan-cfg`.
fn skip_preview(
    bundle: &kubecis_engine::bundle::Bundle,
    profile: Option<&str>,
    skip: &[String],
    skip_config: Option<&SkipConfig>,
) -> Vec<SkippedItem> {
    let profile = bundle.profile_for(profile).ok().flatten();
    let listed = skip_config.and_then(|c| c.skip.get(&bundle.benchmark));
    let mut out = Vec::new();
    for (section, group, item) in bundle.items() {
        let named = |id: &str| {
            [&section.id, &group.id, &item.id]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(id))
        };
        let by = if let Some(why) = profile.and_then(|p| p.skip.get(&item.id)) {
            format!("profile {}: {why}", profile.map_or("", |p| p.name.as_str()))
        } else if let Some(id) = skip.iter().find(|id| named(id)) {
            format!("the scan's skip list ({id})")
        } else if listed.is_some_and(|l| l.iter().any(|id| named(id))) {
            "skip config security-scan-cfg".to_owned()
        } else {
            continue;
        };
        out.push(SkippedItem {
            id: item.id.clone(),
            title: item.title.clone(),
            by,
        });
    }
    out
}
