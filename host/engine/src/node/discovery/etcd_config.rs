//! etcd started with `--config-file` takes its settings from that YAML file and
//! ignores its other flags and its environment. The file's settings are
//! written here as the flags they stand for, so that a check judges what etcd
//! really runs with.

use crate::node::{Node, NodePath};
use serde_json::Value;

/// The TLS sections of etcd's config file and the flag prefix of their keys
/// (`peer-transport-security.client-cert-auth` → `--peer-client-cert-auth`).
const TLS_SECTIONS: [(&str, &str); 2] = [
    ("client-transport-security", ""),
    ("peer-transport-security", "peer-"),
];

/// The flags the etcd config file at `path` stands for, or why it cannot be read.
pub(super) fn read(node: &Node, path: &NodePath) -> Result<Vec<String>, String> {
    let doc = node.config_value(path, "").map_err(|e| e.to_string())?;
    flags_of(&doc).map_err(|e| format!("{path}: {e}"))
}

/// The flags an etcd config document stands for (a mapping has no repeated
/// keys, so their order does not matter).
pub(super) fn flags_of(doc: &Value) -> Result<Vec<String>, String> {
    let Value::Object(settings) = doc else {
        return Err("it is not a YAML mapping of etcd settings".to_owned());
    };
    let mut flags = Vec::new();
    for (key, value) in settings {
        match TLS_SECTIONS.iter().find(|(section, _)| section == key) {
            Some((_, prefix)) => {
                let Value::Object(tls) = value else {
                    return Err(format!("{key} is not a mapping"));
                };
                for (tls_key, v) in tls {
                    flags.extend(flag(&format!("{prefix}{tls_key}"), v));
                }
            }
            None => flags.extend(flag(key, value)),
        }
    }
    Ok(flags)
}

/// `--key=value` for a scalar or a list (comma-joined); nothing for null or a mapping.
fn flag(key: &str, value: &Value) -> Option<String> {
    let text = match value {
        Value::Null | Value::Object(_) => return None,
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    Some(format!("--{key}={text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_sections_become_prefixed_flags() {
        let doc: Value = serde_yaml_ng::from_str(
            "data-dir: /var/lib/etcd\n\
             listen-client-urls: [https://127.0.0.1:2379, https://10.0.0.1:2379]\n\
             snapshot-count: 10000\n\
             client-transport-security:\n  cert-file: /pki/server.crt\n  client-cert-auth: true\n\
             peer-transport-security:\n  client-cert-auth: false\n  auto-tls: true\n\
             log-outputs: null\n",
        )
        .unwrap();
        assert_eq!(
            flags_of(&doc).unwrap(),
            [
                "--cert-file=/pki/server.crt",
                "--client-cert-auth=true",
                "--data-dir=/var/lib/etcd",
                "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.1:2379",
                "--peer-auto-tls=true",
                "--peer-client-cert-auth=false",
                "--snapshot-count=10000",
            ]
        );
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_refused() {
        let err = flags_of(&Value::String("data-dir".into())).unwrap_err();
        assert!(err.contains("not a YAML mapping"), "{err}");
        let doc: Value = serde_yaml_ng::from_str("client-transport-security: yes-please").unwrap();
        assert!(
            flags_of(&doc)
                .unwrap_err()
                .contains("client-transport-security")
        );
    }
}
