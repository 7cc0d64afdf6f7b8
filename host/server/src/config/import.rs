//! Scans written for Rancher or Calico, read as they are: the
//! `scheduled_cluster_scan` block of an RKE `cluster.yml`, cis-operator's
//! `ClusterScan` and `ClusterScanProfile` (cis.cattle.io/v1), Calico's
//! `GlobalReport` (projectcalico.org/v3, `reportType: cis-benchmark`) and
//! the `security-scan-cfg` ConfigMap of skip lists. A file may hold several
//! YAML documents (`---`). Inside the blocks kubecis reads, an unknown field
//! is refused with its line; the rest of a `cluster.yml` (nodes, services)
//! and an object's metadata and status belong to their own tools.

use super::{AlertSwitches, ScanFile};
use crate::schedule::Schedule;
use kubecis_engine::skipconfig::SkipConfig;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the imported files add to the server's own config.
#[derive(Default)]
pub(super) struct Imported {
    pub scans: Vec<ScanFile>,
    pub skip: Option<(PathBuf, SkipConfig)>,
}

#[derive(Debug)]
pub(super) struct ImportError {
    pub file: String,
    pub message: String,
}

/// The most an imported file may hold.
const MAX_FILE: u64 = 4 << 20;

/// What every document is asked first: what it is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(rename = "scheduled_cluster_scan")]
    scheduled_cluster_scan: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
}

/// A Kubernetes object: kubecis reads its name and spec; the rest of its
/// metadata (labels, uid, …) and its status are the cluster's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object<S> {
    metadata: Metadata,
    spec: S,
}

// ---- Rancher (RKE, Rancher 2.4): cluster.yml ----

#[derive(Deserialize)]
struct ClusterYml {
    cluster_name: Option<String>,
    scheduled_cluster_scan: ScheduledClusterScan,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduledClusterScan {
    #[serde(default)]
    enabled: bool,
    #[serde(alias = "scanConfig")]
    scan_config: Option<LegacyScanConfig>,
    #[serde(alias = "scheduleConfig")]
    schedule_config: Option<LegacyScheduleConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyScanConfig {
    #[serde(alias = "cisScanConfig")]
    cis_scan_config: Option<CisScanConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CisScanConfig {
    #[serde(default, alias = "overrideBenchmarkVersion")]
    override_benchmark_version: String,
    /// `permissive` (Rancher's default) or `hardened`.
    #[serde(default = "permissive")]
    profile: LegacyProfile,
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default, alias = "overrideSkip")]
    override_skip: Vec<String>,
    /// Report options of Rancher's old runner: kubecis always keeps the whole report.
    #[serde(default, alias = "failuresOnly")]
    #[allow(dead_code)]
    failures_only: bool,
    #[serde(default, alias = "debugMaster")]
    #[allow(dead_code)]
    debug_master: bool,
    #[serde(default, alias = "debugWorker")]
    #[allow(dead_code)]
    debug_worker: bool,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum LegacyProfile {
    Permissive,
    Hardened,
}

fn permissive() -> LegacyProfile {
    LegacyProfile::Permissive
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyScheduleConfig {
    #[serde(alias = "cronSchedule")]
    cron_schedule: Option<Schedule>,
    retention: Option<usize>,
}

/// The benchmark a `cluster.yml` scan without `override_benchmark_version`
/// runs: the RKE benchmark of the seed's Rancher, the one whose profiles
/// are named `permissive` and `hardened`.
const LEGACY_DEFAULT_BENCHMARK: &str = "rke-cis-1.4";

// ---- Rancher cis-operator: cis.cattle.io/v1 ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterScanSpec {
    #[serde(default)]
    scan_profile_name: String,
    scheduled_scan_config: Option<ScheduledScanConfig>,
    /// `pass` (default) or `fail`: whether a `warn` fails the scan.
    #[serde(default)]
    score_warning: ScoreWarning,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ScoreWarning {
    #[default]
    Pass,
    Fail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScheduledScanConfig {
    cron_schedule: Option<Schedule>,
    retention_count: Option<usize>,
    scan_alert_rule: Option<ScanAlertRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScanAlertRule {
    #[serde(default)]
    alert_on_complete: bool,
    #[serde(default)]
    alert_on_failure: bool,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterScanProfileSpec {
    benchmark_version: String,
    #[serde(default)]
    skip_tests: Vec<String>,
}

// ---- Calico: projectcalico.org/v3 ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GlobalReportSpec {
    report_type: String,
    schedule: Option<Schedule>,
    #[serde(default)]
    suspend: bool,
    /// Where Calico runs the report job: kubecis composes on the server.
    #[allow(dead_code)]
    job_node_selector: Option<IgnoredAny>,
    cis: Option<serde_json::Value>,
}

/// One document, located.
struct Document<'a> {
    text: &'a str,
    /// The line the document starts on (1-based).
    line: usize,
}

impl Document<'_> {
    /// Parses the document; error lines count from the top of the file.
    fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        // Blank lines in front keep the parser's line numbers the file's.
        let padded = format!("{}{}", "\n".repeat(self.line - 1), self.text);
        kubecis_engine::yaml::from_str(&padded).map_err(|e| e.0)
    }
}

/// Splits a YAML stream at its document markers (`---` or `...` at the
/// start of a line), dropping documents that hold only comments.
fn documents(text: &str) -> Vec<Document<'_>> {
    let mut out = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 1, 0);
    let mut push = |from: usize, to: usize, line: usize| {
        let doc = &text[from..to];
        let content = doc
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if content {
            out.push(Document { text: doc, line });
        }
    };
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        let marker = bare == "---" || bare.starts_with("--- ") || bare == "...";
        if marker {
            push(start, offset, start_line);
            // What follows `--- ` on the marker's line belongs to the next document.
            start = if bare.starts_with("--- ") {
                offset + 4
            } else {
                offset + line.len()
            };
            start_line = if bare.starts_with("--- ") {
                index + 1
            } else {
                index + 2
            };
        }
        offset += line.len();
    }
    push(start, text.len(), start_line);
    out
}

/// Reads every imported file (paths relative to the config's folder).
pub(super) fn read_all(files: &[PathBuf], base: &Path) -> Result<Imported, ImportError> {
    let mut imported = Imported::default();
    // Profiles may be in any file; scans are resolved once all are read.
    let mut profiles: BTreeMap<String, ClusterScanProfileSpec> = BTreeMap::new();
    let mut cluster_scans = Vec::new();
    for file in files {
        let path = base.join(file);
        let name = path.display().to_string();
        let fail = |message: String| ImportError {
            file: name.clone(),
            message,
        };
        let bytes = kubecis_engine::node::read::regular_file(&path, MAX_FILE)
            .map_err(|e| fail(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".into()))?;
        for doc in documents(&text) {
            let at = |m: String| fail(format!("document at line {}: {m}", doc.line));
            let head: Head = doc.parse().map_err(at)?;
            match (head.api_version.as_deref(), head.kind.as_deref()) {
                (None, None) if head.scheduled_cluster_scan.is_some() => {
                    let yml: ClusterYml = doc.parse().map_err(at)?;
                    imported.scans.push(from_cluster_yml(yml, &name));
                }
                (Some("cis.cattle.io/v1"), Some("ClusterScan")) => {
                    let scan: Object<ClusterScanSpec> = doc.parse().map_err(at)?;
                    cluster_scans.push((scan, name.clone(), doc.line));
                }
                (Some("cis.cattle.io/v1"), Some("ClusterScanProfile")) => {
                    let profile: Object<ClusterScanProfileSpec> = doc.parse().map_err(at)?;
                    if profiles
                        .insert(profile.metadata.name.clone(), profile.spec)
                        .is_some()
                    {
                        return Err(at(format!(
                            "ClusterScanProfile {} appears twice",
                            profile.metadata.name
                        )));
                    }
                }
                (Some("projectcalico.org/v3"), Some("GlobalReport")) => {
                    let report: Object<GlobalReportSpec> = doc.parse().map_err(at)?;
                    imported
                        .scans
                        .push(from_global_report(report, &name).map_err(at)?);
                }
                (Some("v1"), Some("ConfigMap")) => {
                    let skip = SkipConfig::parse(doc.text).map_err(|e| at(e.0))?;
                    if imported.skip.replace((path.clone(), skip)).is_some() {
                        return Err(at("a second security-scan-cfg ConfigMap".into()));
                    }
                }
                (api, kind) => {
                    return Err(at(format!(
                        "{} is not one kubecis reads; expected a ClusterScan or ClusterScanProfile (cis.cattle.io/v1), a GlobalReport (projectcalico.org/v3), the security-scan-cfg ConfigMap (v1), or a cluster.yml with scheduled_cluster_scan",
                        match (api, kind) {
                            (None, None) => "a document without apiVersion and kind".to_owned(),
                            (api, kind) => format!(
                                "kind {} of apiVersion {}",
                                kind.unwrap_or("(none)"),
                                api.unwrap_or("(none)")
                            ),
                        }
                    )));
                }
            }
        }
    }
    for (scan, file, line) in cluster_scans {
        let resolved =
            from_cluster_scan(scan, &file, &profiles).map_err(|message| ImportError {
                file: file.clone(),
                message: format!("document at line {line}: {message}"),
            })?;
        imported.scans.push(resolved);
    }
    Ok(imported)
}

fn from_cluster_yml(yml: ClusterYml, file: &str) -> ScanFile {
    let name = match &yml.cluster_name {
        Some(cluster) => format!("{}-scheduled-cluster-scan", sanitize(cluster)),
        None => "scheduled-cluster-scan".to_owned(),
    };
    let block = yml.scheduled_cluster_scan;
    let mut scan = ScanFile::named(name, format!("{file} (scheduled_cluster_scan)"));
    let cis = block.scan_config.and_then(|c| c.cis_scan_config);
    let (benchmark, profile, mut skip) = match cis {
        Some(c) => {
            // `override_skip` replaces the skip list when given.
            let skip = if c.override_skip.is_empty() {
                c.skip
            } else {
                c.override_skip
            };
            (c.override_benchmark_version, c.profile, skip)
        }
        None => (String::new(), LegacyProfile::Permissive, Vec::new()),
    };
    let benchmark = if benchmark.is_empty() {
        LEGACY_DEFAULT_BENCHMARK.to_owned()
    } else {
        benchmark
    };
    let suffix = match profile {
        LegacyProfile::Permissive => "permissive",
        LegacyProfile::Hardened => "hardened",
    };
    scan.profile = Some(format!("{benchmark}-{suffix}"));
    scan.benchmark = benchmark;
    skip.retain(|id| !id.trim().is_empty());
    scan.skip = skip;
    if let Some(schedule) = block.schedule_config {
        // A disabled block still defines the scan: it runs when asked.
        scan.schedule = schedule.cron_schedule.filter(|_| block.enabled);
        if let Some(retention) = schedule.retention {
            scan.retention = retention;
        }
    }
    scan
}

fn from_cluster_scan(
    scan: Object<ClusterScanSpec>,
    file: &str,
    profiles: &BTreeMap<String, ClusterScanProfileSpec>,
) -> Result<ScanFile, String> {
    let spec = scan.spec;
    let mut out = ScanFile::named(
        scan.metadata.name.clone(),
        format!("{file} (ClusterScan {})", scan.metadata.name),
    );
    match profiles.get(&spec.scan_profile_name) {
        Some(profile) => {
            out.benchmark = profile.benchmark_version.clone();
            out.skip = profile.skip_tests.clone();
        }
        // Without a profile cis-operator picks one for the cluster.
        None if spec.scan_profile_name.is_empty() => out.benchmark = "auto".into(),
        None => match builtin_profile(&spec.scan_profile_name) {
            Some(benchmark) => out.benchmark = benchmark,
            None => {
                return Err(format!(
                    "scanProfileName {} names no ClusterScanProfile in the imported files, nor one of Rancher's built-in profiles (<benchmark>-profile[-permissive|-hardened])",
                    spec.scan_profile_name
                ));
            }
        },
    }
    // A ClusterScan alerts only as its scanAlertRule says.
    out.alert_switches = Some(AlertSwitches::default());
    if let Some(config) = spec.scheduled_scan_config {
        out.schedule = config.cron_schedule;
        if let Some(retention) = config.retention_count {
            out.retention = retention;
        }
        if let Some(rule) = config.scan_alert_rule {
            out.alert_switches = Some(AlertSwitches {
                on_complete: rule.alert_on_complete,
                on_failure: rule.alert_on_failure,
            });
        }
    }
    out.warn_is_failure = spec.score_warning == ScoreWarning::Fail;
    Ok(out)
}

/// The benchmark version of one of the ClusterScanProfiles cis-operator
/// installs, by its naming: `cis-1.9-profile` is `cis-1.9`,
/// `rke2-cis-1.8-profile-hardened` is `rke2-cis-1.8-hardened`.
fn builtin_profile(name: &str) -> Option<String> {
    if let Some(benchmark) = name.strip_suffix("-profile") {
        return Some(benchmark.to_owned());
    }
    let (benchmark, flavour) = name.rsplit_once("-profile-")?;
    matches!(flavour, "permissive" | "hardened").then(|| format!("{benchmark}-{flavour}"))
}

fn from_global_report(report: Object<GlobalReportSpec>, file: &str) -> Result<ScanFile, String> {
    let spec = report.spec;
    if spec.report_type != "cis-benchmark" {
        return Err(format!(
            "GlobalReport {}: reportType {} is not a CIS report; expected cis-benchmark",
            report.metadata.name, spec.report_type
        ));
    }
    let mut scan = ScanFile::named(
        report.metadata.name.clone(),
        format!("{file} (GlobalReport {})", report.metadata.name),
    );
    // A suspended report is kept, and runs only when asked.
    scan.schedule = spec.schedule.filter(|_| !spec.suspend);
    scan.cis = spec.cis;
    Ok(scan)
}

/// A cluster's name as part of a scan's name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_split_at_their_markers_with_their_lines() {
        let text = "# a comment\n---\na: 1\n---\n# only a comment\n--- \nb: 2\n...\n--- c: 3\n";
        let docs: Vec<(usize, &str)> = documents(text).iter().map(|d| (d.line, d.text)).collect();
        assert_eq!(docs, [(3, "a: 1\n"), (7, "b: 2\n"), (9, "c: 3\n")]);
    }

    #[test]
    fn rancher_built_in_profile_names() {
        assert_eq!(
            builtin_profile("cis-1.9-profile").as_deref(),
            Some("cis-1.9")
        );
        assert_eq!(
            builtin_profile("rke2-cis-1.8-profile-hardened").as_deref(),
            Some("rke2-cis-1.8-hardened")
        );
        assert_eq!(builtin_profile("my-profile-x"), None);
        assert_eq!(builtin_profile("nightly"), None);
    }
}
