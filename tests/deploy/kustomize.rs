//! The part of kustomize that deploy/ uses, so the tests see the objects
//! `kubectl apply -k` would send: resources (files and directories),
//! ConfigMap and Secret generators from files, `images` and `labels`. Any
//! other key is refused, so that deploy/ cannot outgrow what is tested.
//! Generated names keep no hash suffix (kustomize adds one to the ConfigMap
//! and rewrites the references to it; neither matters here).

use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One object of a manifest.
#[derive(Debug, Clone)]
pub struct Doc {
    pub value: Value,
}

impl Doc {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"].as_str().unwrap_or("")
    }
}

/// The object of this kind and name; a test fails when there is none.
pub fn find<'a>(docs: &'a [Doc], kind: &str, name: &str) -> &'a Doc {
    docs.iter()
        .find(|d| d.kind() == kind && d.name() == name)
        .unwrap_or_else(|| panic!("deploy/ has no {kind} {name}"))
}

const KEYS: [&str; 7] = [
    "apiVersion",
    "kind",
    "resources",
    "configMapGenerator",
    "secretGenerator",
    "images",
    "labels",
];

fn kustomization(dir: &Path) -> Mapping {
    let path = dir.join("kustomization.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let k: Mapping = serde_yaml_ng::from_str(&text).unwrap();
    for key in k.keys() {
        let key = key.as_str().unwrap();
        assert!(
            KEYS.contains(&key),
            "{}: {key} is not rendered by the tests' kustomize",
            path.display()
        );
    }
    k
}

fn seq<'a>(k: &'a Mapping, key: &str) -> impl Iterator<Item = &'a Value> {
    k.get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
}

/// The objects of the kustomization in `dir`; `provided` stands in for
/// generator files that are not in the tree (relative path, content).
pub fn render(dir: &Path, provided: &[(String, String)]) -> Vec<Doc> {
    let k = kustomization(dir);
    let mut docs = Vec::new();
    for resource in seq(&k, "resources") {
        let path = dir.join(resource.as_str().unwrap());
        if path.is_dir() {
            docs.extend(render(&path, provided));
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = <Value as serde::Deserialize>::deserialize(document)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if !value.is_null() {
                docs.push(Doc { value });
            }
        }
    }
    for (key, kind) in [
        ("configMapGenerator", "ConfigMap"),
        ("secretGenerator", "Secret"),
    ] {
        for generator in seq(&k, key) {
            docs.push(generate(dir, kind, generator, provided));
        }
    }
    for image in seq(&k, "images") {
        let name = image["name"].as_str().unwrap();
        let new = format!(
            "{}:{}",
            image["newName"].as_str().unwrap_or(name),
            image["newTag"].as_str().unwrap()
        );
        for doc in &mut docs {
            for container in containers(&mut doc.value) {
                let current = container["image"].as_str().unwrap_or("");
                if current.split(':').next() == Some(name) {
                    container["image"] = Value::from(new.clone());
                }
            }
        }
    }
    for labels in seq(&k, "labels") {
        for doc in &mut docs {
            let metadata = doc.value["metadata"].as_mapping_mut().unwrap();
            let existing = metadata
                .entry("labels".into())
                .or_insert_with(|| Value::Mapping(Mapping::new()));
            for (name, value) in labels["pairs"].as_mapping().unwrap() {
                existing
                    .as_mapping_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone());
            }
        }
    }
    docs
}

/// The manifest files a kustomization uses, as canonical paths.
pub fn files(dir: &Path, into: &mut BTreeSet<PathBuf>) {
    for resource in seq(&kustomization(dir), "resources") {
        let path = dir.join(resource.as_str().unwrap());
        if path.is_dir() {
            files(&path, into);
        } else {
            into.insert(path.canonicalize().unwrap());
        }
    }
}

fn generate(dir: &Path, kind: &str, generator: &Value, provided: &[(String, String)]) -> Doc {
    let mut data = Mapping::new();
    for file in generator["files"].as_sequence().unwrap() {
        let spec = file.as_str().unwrap();
        let (key, path) = spec
            .split_once('=')
            .unwrap_or((spec.rsplit('/').next().unwrap(), spec));
        let content = std::fs::read_to_string(dir.join(path))
            .ok()
            .or_else(|| {
                provided
                    .iter()
                    .find(|(p, _)| p == path)
                    .map(|(_, c)| c.clone())
            })
            .unwrap_or_else(|| panic!("{}: generator file {path} is missing", dir.display()));
        let content = if kind == "Secret" {
            base64(content.as_bytes())
        } else {
            content
        };
        data.insert(key.into(), content.into());
    }
    let mut metadata = Mapping::new();
    metadata.insert("name".into(), generator["name"].clone());
    if let Some(ns) = generator.get("namespace") {
        metadata.insert("namespace".into(), ns.clone());
    }
    let mut object = Mapping::new();
    object.insert("apiVersion".into(), "v1".into());
    object.insert("kind".into(), kind.into());
    object.insert("metadata".into(), Value::Mapping(metadata));
    if let Some(t) = generator.get("type") {
        object.insert("type".into(), t.clone());
    }
    object.insert("data".into(), Value::Mapping(data));
    Doc {
        value: Value::Mapping(object),
    }
}

/// The containers of a workload's pod template, wherever the kind keeps it.
pub fn containers(object: &mut Value) -> Vec<&mut Value> {
    let kind = object["kind"].as_str().unwrap_or("").to_owned();
    let pod = match kind.as_str() {
        "Deployment" | "DaemonSet" | "StatefulSet" | "Job" => &mut object["spec"]["template"],
        "CronJob" => &mut object["spec"]["jobTemplate"]["spec"]["template"],
        _ => return Vec::new(),
    };
    match pod["spec"]["containers"].as_sequence_mut() {
        Some(list) => list.iter_mut().collect(),
        None => Vec::new(),
    }
}

/// Standard base64, as Secrets' `data` holds it.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ABC.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn base64_is_the_standard_one() {
    for text in [
        "",
        "f",
        "fo",
        "foo",
        "foobar",
        "agent-token-for-the-deploy-test",
    ] {
        assert_eq!(base64_decode(&base64(text.as_bytes())), text);
    }
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
