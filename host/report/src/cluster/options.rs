//! Calico's CIS report options, read from a `GlobalReport` (its `spec.cis`) or
//! from a file holding just those fields.

use kubecis_model::cluster::Health;
use serde::Deserialize;
use std::path::Path;

/// What Calico calls `spec.cis`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportOptions {
    /// Lowest share of passing tests (percent) for a HIGH node.
    #[serde(default = "high")]
    pub high_threshold: u32,
    /// Lowest share of passing tests (percent) for a MED node; below is LOW.
    #[serde(default = "med")]
    pub med_threshold: u32,
    #[serde(default = "yes")]
    pub include_unscored_tests: bool,
    /// How many tests the top-failed list shows.
    #[serde(default = "five")]
    pub num_failed_tests: usize,
    #[serde(default, alias = "resultsFilter")]
    pub results_filters: Vec<ResultsFilter>,
}

fn high() -> u32 {
    100
}
fn med() -> u32 {
    50
}
fn yes() -> bool {
    true
}
fn five() -> usize {
    5
}

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions {
            high_threshold: high(),
            med_threshold: med(),
            include_unscored_tests: true,
            num_failed_tests: five(),
            results_filters: Vec::new(),
        }
    }
}

/// Include or exclude tests (item or section ids) for the nodes of a Kubernetes version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultsFilter {
    pub benchmark_selection: Option<BenchmarkSelection>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BenchmarkSelection {
    pub kubernetes_version: Option<String>,
}

/// `1.1` covers `1.1.4`; `1.1.4` covers only itself.
fn covers(pattern: &str, id: &str) -> bool {
    id == pattern
        || id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// A filter's version selects a node when it is the node's version or a prefix of it (`1.13` ⊇ `1.13.5`).
fn version_matches(want: &str, node: Option<&str>) -> bool {
    let want = want.trim_start_matches('v');
    node.map(|v| v.trim_start_matches('v'))
        .is_some_and(|v| v == want || v.strip_prefix(want).is_some_and(|r| r.starts_with('.')))
}

/// Why report options were refused: the file (when read from one) and what
/// was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", file.as_ref().map(|f| format!("report config {f}: ")).unwrap_or_default())]
pub struct OptionsError {
    pub file: Option<String>,
    pub message: String,
}

impl ReportOptions {
    /// Read a GlobalReport (YAML or JSON) or a bare options file.
    pub fn read(path: &Path) -> Result<ReportOptions, OptionsError> {
        let fail = |message: String| OptionsError {
            file: Some(path.display().to_string()),
            message,
        };
        let bytes = kubecis_engine::node::read::regular_file(path, 16 << 20)
            .map_err(|e| fail(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        ReportOptions::parse(&text).map_err(|e| fail(e.message))
    }

    pub fn parse(text: &str) -> Result<ReportOptions, OptionsError> {
        Self::parse_text(text).map_err(|message| OptionsError {
            file: None,
            message,
        })
    }

    fn parse_text(text: &str) -> Result<ReportOptions, String> {
        let doc: serde_json::Value =
            kubecis_engine::yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let cis = if doc.get("kind").and_then(|k| k.as_str()) == Some("GlobalReport") {
            let report_type = doc
                .pointer("/spec/reportType")
                .and_then(|t| t.as_str())
                .unwrap_or("");
            if report_type != "cis-benchmark" {
                return Err(format!(
                    "spec.reportType is {report_type:?}; a CIS report needs cis-benchmark"
                ));
            }
            doc.pointer("/spec/cis")
                .cloned()
                .unwrap_or(serde_json::json!({}))
        } else {
            doc.get("cis").cloned().unwrap_or(doc)
        };
        let options: ReportOptions =
            serde_json::from_value(cis).map_err(|e| format!("spec.cis: {e}"))?;
        for (name, v) in [
            ("highThreshold", options.high_threshold),
            ("medThreshold", options.med_threshold),
        ] {
            if v > 100 {
                return Err(format!(
                    "spec.cis.{name} is {v}; expected a percentage from 0 to 100"
                ));
            }
        }
        if options.med_threshold > options.high_threshold {
            return Err(format!(
                "spec.cis.medThreshold ({}) is above highThreshold ({})",
                options.med_threshold, options.high_threshold
            ));
        }
        Ok(options)
    }

    /// Whether a test is kept in the report for a node of this Kubernetes version.
    pub fn keeps(&self, node_version: Option<&str>, id: &str, scored: bool) -> bool {
        if !scored && !self.include_unscored_tests {
            return false;
        }
        self.results_filters
            .iter()
            .filter(|f| {
                match f
                    .benchmark_selection
                    .as_ref()
                    .and_then(|b| b.kubernetes_version.as_deref())
                {
                    Some(v) => version_matches(v, node_version),
                    None => true,
                }
            })
            .all(|f| {
                (f.include.is_empty() || f.include.iter().any(|p| covers(p, id)))
                    && !f.exclude.iter().any(|p| covers(p, id))
            })
    }

    /// HIGH at or above highThreshold, MED at or above medThreshold, LOW below.
    pub fn health(&self, passing: usize, total: usize) -> Health {
        // Integer comparison: passing/total >= t/100, without rounding.
        let at_least = |t: u32| passing * 100 >= t as usize * total;
        if at_least(self.high_threshold) {
            Health::High
        } else if at_least(self.med_threshold) {
            Health::Med
        } else {
            Health::Low
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Calico's manual, as it is written there.
    pub const MANUAL_EXAMPLE: &str = "\
apiVersion: projectcalico.org/v3
kind: GlobalReport
metadata:
  name: daily-cis-results
  labels:
    deployment: production
spec:
  reportType: cis-benchmark
  schedule: 0 0 * * *
  cis:
    highThreshold: 100
    medThreshold: 50
    includeUnscoredTests: true
    numFailedTests: 5
    resultsFilters:
    - benchmarkSelection: { kubernetesVersion: '1.13' }
      exclude: ['1.1.4', '1.2.5']
";

    #[test]
    fn the_manuals_global_report_is_accepted() {
        let o = ReportOptions::parse(MANUAL_EXAMPLE).unwrap();
        assert_eq!(
            (o.high_threshold, o.med_threshold, o.num_failed_tests),
            (100, 50, 5)
        );
        assert!(o.include_unscored_tests);
        assert!(!o.keeps(Some("1.13.5"), "1.1.4", true));
        assert!(!o.keeps(Some("1.13"), "1.2.5", true));
        assert!(o.keeps(Some("1.13.5"), "1.1.3", true));
        assert!(
            o.keeps(Some("1.14.1"), "1.1.4", true),
            "the filter selects 1.13 only"
        );
        assert!(
            o.keeps(Some("1.130.0"), "1.1.4", true),
            "1.13 is not a prefix of 1.130"
        );
    }

    #[test]
    fn defaults_and_bare_options() {
        assert_eq!(
            ReportOptions::parse("{}").unwrap(),
            ReportOptions::default()
        );
        let o =
            ReportOptions::parse("includeUnscoredTests: false\nresultsFilters: [{include: ['4']}]")
                .unwrap();
        assert!(!o.keeps(None, "4.2.1", false));
        assert!(o.keeps(None, "4.2.1", true));
        assert!(!o.keeps(None, "1.2.1", true));
    }

    #[test]
    fn thresholds_at_their_edges() {
        let o = ReportOptions {
            high_threshold: 90,
            med_threshold: 60,
            ..ReportOptions::default()
        };
        assert_eq!(o.health(9, 10), Health::High);
        assert_eq!(o.health(89, 100), Health::Med);
        assert_eq!(o.health(6, 10), Health::Med);
        assert_eq!(o.health(59, 100), Health::Low);
        let d = ReportOptions::default();
        assert_eq!(d.health(10, 10), Health::High);
        assert_eq!(d.health(99, 100), Health::Med);
        assert_eq!(d.health(1, 2), Health::Med);
        assert_eq!(d.health(49, 100), Health::Low);
    }

    #[test]
    fn bad_options_are_named() {
        assert!(
            ReportOptions::parse("highThreshold: 120")
                .unwrap_err()
                .to_string()
                .contains("from 0 to 100")
        );
        assert!(
            ReportOptions::parse("highThreshold: 40\nmedThreshold: 50")
                .unwrap_err()
                .to_string()
                .contains("above highThreshold")
        );
        assert!(
            ReportOptions::parse("numFailed: 3")
                .unwrap_err()
                .to_string()
                .contains("unknown field `numFailed`")
        );
        let inventory = "kind: GlobalReport\nspec:\n  reportType: inventory\n";
        assert!(
            ReportOptions::parse(inventory)
                .unwrap_err()
                .to_string()
                .contains("cis-benchmark")
        );
    }
}
