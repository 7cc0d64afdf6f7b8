//! User skip lists in Rancher's format: `{"skip": {"rke-cis-1.4": ["1.1.1"]}}`,
//! as a JSON file or inside the `security-scan-cfg` ConfigMap (key `config.json`).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("skip config {file}: {message}")]
pub struct SkipConfigError {
    pub file: String,
    pub message: String,
}

/// Why a skip list's text was refused, and what was expected.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{0}")]
pub struct InvalidSkipList(pub String);

/// Item ids to skip, per benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipConfig {
    pub skip: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plain {
    skip: BTreeMap<String, Vec<String>>,
}

const CONFIG_MAP_NAME: &str = "security-scan-cfg";
const KEY: &str = "config.json";

impl SkipConfig {
    pub fn read(path: &Path) -> Result<SkipConfig, SkipConfigError> {
        let file = path.display().to_string();
        let fail = |message: String| SkipConfigError {
            file: file.clone(),
            message,
        };
        let bytes =
            crate::node::read::regular_file(path, 16 << 20).map_err(|e| fail(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        SkipConfig::parse(&text).map_err(|e| fail(e.0))
    }

    /// Accepts `{"skip": …}`, the manual's `{"config.json": {"skip": …}}`, and a
    /// ConfigMap (YAML or JSON) named security-scan-cfg whose `data."config.json"`
    /// holds the skip list as JSON text.
    pub fn parse(text: &str) -> Result<SkipConfig, InvalidSkipList> {
        Self::parse_text(text).map_err(InvalidSkipList)
    }

    fn parse_text(text: &str) -> Result<SkipConfig, String> {
        // JSON is read as JSON: YAML's flow syntax would let a trailing comma
        // or a missing quote through, and the file then says something else.
        let doc: serde_json::Value = if text.trim_start().starts_with(['{', '[']) {
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
        } else {
            crate::yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?
        };
        let obj = doc
            .as_object()
            .ok_or("expected an object with a \"skip\" key")?;
        if obj.get("kind").and_then(|k| k.as_str()) == Some("ConfigMap") {
            let name = doc
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or("");
            if name != CONFIG_MAP_NAME {
                return Err(format!(
                    "the ConfigMap must be named {CONFIG_MAP_NAME}, not {name:?}"
                ));
            }
            let inner = doc
                .get("data")
                .and_then(|d| d.get(KEY))
                .ok_or_else(|| format!("the ConfigMap has no data.\"{KEY}\""))?;
            let inner = inner
                .as_str()
                .ok_or_else(|| format!("data.\"{KEY}\" must be JSON text"))?;
            let value: serde_json::Value = serde_json::from_str(inner)
                .map_err(|e| format!("data.\"{KEY}\" is not valid JSON: {e}"))?;
            return SkipConfig::from_value(value, &format!("data.\"{KEY}\""));
        }
        if let Some(inner) = obj.get(KEY) {
            let inner = match inner {
                serde_json::Value::String(s) => serde_json::from_str(s)
                    .map_err(|e| format!("\"{KEY}\" is not valid JSON: {e}"))?,
                other => other.clone(),
            };
            return SkipConfig::from_value(inner, &format!("\"{KEY}\""));
        }
        SkipConfig::from_value(doc, "the file")
    }

    fn from_value(value: serde_json::Value, at: &str) -> Result<SkipConfig, String> {
        let plain: Plain = serde_json::from_value(value).map_err(|e| {
            format!("{at}: {e}; expected {{\"skip\": {{\"<benchmark>\": [\"<id>\", …]}}}}")
        })?;
        Ok(SkipConfig { skip: plain.skip })
    }

    /// Refuse keys that name no benchmark kubecis knows: a typo (`cis-18`) or a
    /// profile name would otherwise skip nothing without a word.
    pub fn check_names(
        &self,
        library: &crate::bundle::Library,
        path: &Path,
    ) -> Result<(), SkipConfigError> {
        for key in self.skip.keys() {
            if library.names().any(|b| b.eq_ignore_ascii_case(key)) {
                continue;
            }
            let bundles = library.bundles().unwrap_or_default();
            let profile_of = bundles
                .iter()
                .find(|b| b.profiles.iter().any(|p| p.name.eq_ignore_ascii_case(key)));
            let hint = match profile_of {
                Some(b) => format!(
                    "it is a profile of {0}; skip lists are keyed by benchmark: {{\"skip\": {{\"{0}\": [...]}}}}",
                    b.benchmark
                ),
                None => format!(
                    "known benchmarks: {}",
                    library.names().collect::<Vec<_>>().join(", ")
                ),
            };
            return Err(SkipConfigError {
                file: path.display().to_string(),
                message: format!("skip.{key:?} names no benchmark; {hint}"),
            });
        }
        Ok(())
    }

    /// The ids to skip for a benchmark (names compare case-insensitively).
    pub fn for_benchmark(&self, benchmark: &str) -> Vec<String> {
        self.skip
            .iter()
            .filter(|(b, _)| b.eq_ignore_ascii_case(benchmark))
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        SkipConfig::parse(text)
            .unwrap()
            .for_benchmark("rke-cis-1.4")
    }

    #[test]
    fn plain_json() {
        assert_eq!(
            ids(r#"{"skip": {"rke-cis-1.4": ["1.1.1", "1.2.2"]}}"#),
            ["1.1.1", "1.2.2"]
        );
    }

    #[test]
    fn the_manuals_nested_form() {
        assert_eq!(
            ids(r#"{"config.json": {"skip": {"rke-cis-1.4": ["1.1.1", "1.2.2"]}}}"#),
            ["1.1.1", "1.2.2"]
        );
    }

    #[test]
    fn config_map() {
        let cm = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: security-scan-cfg
  namespace: security-scan
data:
  config.json: |
    {"skip": {"RKE-CIS-1.4": ["1.4.12"]}}
"#;
        assert_eq!(ids(cm), ["1.4.12"]);
    }

    #[test]
    fn other_benchmarks_are_kept_apart() {
        let c = SkipConfig::parse(r#"{"skip": {"cis-1.8": ["1.2.1"], "rke-cis-1.4": ["2.1.6"]}}"#)
            .unwrap();
        assert_eq!(c.for_benchmark("cis-1.8"), ["1.2.1"]);
        assert!(c.for_benchmark("cis-1.9").is_empty());
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = SkipConfig::parse(r#"{"skip": ["1.1.1"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected {\"skip\""), "{e}");
        let e = SkipConfig::parse("kind: ConfigMap\nmetadata: {name: other}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be named security-scan-cfg"), "{e}");
        let e = SkipConfig::parse("{\"skip\": {\"x\": [1.1]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = SkipConfig::parse(r#"{"skip": {"cis-1.8": ["1.1.1",]}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid JSON") && e.contains("column"), "{e}");
        let e = SkipConfig::parse("skip: [unclosed\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid YAML"), "{e}");
        let e = SkipConfig::parse(r#"{"skp": {}}"#).unwrap_err().to_string();
        assert!(e.contains("unknown field `skp`"), "{e}");
    }
}
