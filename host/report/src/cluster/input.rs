//! Reading node reports fast: only the fields composition needs, strings
//! borrowed from the file where they need no unescaping, and remediation
//! kept raw until an item is first seen.

use super::{Composer, NodeInput, ResultInput};
use crate::report::{SCHEMA, State};
use kubecis_model::NodeType;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
#[error("{file}: {message}")]
pub struct InputError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    #[serde(borrow)]
    schema: Cow<'a, str>,
    benchmark: String,
    benchmark_title: String,
    #[serde(default)]
    profile: Option<String>,
    node: Node,
    #[serde(borrow)]
    results: Vec<Item<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    name: String,
    node_types: Vec<NodeType>,
    #[serde(default)]
    kubernetes_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    title: Cow<'a, str>,
    node_type: NodeType,
    scored: bool,
    state: State,
    #[serde(borrow)]
    actual: Cow<'a, str>,
    #[serde(borrow)]
    reason: Cow<'a, str>,
    #[serde(borrow)]
    remediation: &'a RawValue,
}

/// Compose node report files on all cores: contiguous shares composed in
/// parallel, then merged in input order.
pub fn compose_files(
    files: &[std::path::PathBuf],
    options: &super::ReportOptions,
) -> Result<Composer, InputError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let share = files.len().div_ceil(workers).max(1);
    let parts: Vec<Result<Composer, InputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(share)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut composer = Composer::new(options.clone());
                    for file in chunk {
                        read_node_report(file, &mut composer)?;
                    }
                    Ok(composer)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a composing thread panicked"))
            .collect()
    });
    let mut all = Composer::new(options.clone());
    for part in parts {
        all.merge(part?).map_err(|e| InputError {
            file: "report inputs".into(),
            message: e.to_string(),
        })?;
    }
    Ok(all)
}

/// Most bytes of one node report read (a full scan is about 100 KiB).
const MAX_REPORT_BYTES: u64 = 64 << 20;

/// Read one node report (`kubecis scan --format json`) into the composer.
pub fn read_node_report(path: &Path, composer: &mut Composer) -> Result<(), InputError> {
    let file = path.display().to_string();
    let bytes = kubecis_engine::node::read::regular_file(path, MAX_REPORT_BYTES).map_err(|e| {
        InputError {
            file: file.clone(),
            message: e.to_string(),
        }
    })?;
    add_node_report(&bytes, &file, composer)
}

/// One node report's JSON into the composer; `source` names it in errors
/// (a file, an upload).
pub fn add_node_report(
    bytes: &[u8],
    source: &str,
    composer: &mut Composer,
) -> Result<(), InputError> {
    let file = source.to_owned();
    let fail = |message: String| InputError {
        file: file.clone(),
        message,
    };
    let report: Report = serde_json::from_slice(bytes).map_err(|e| {
        fail(format!(
            "not a kubecis node report ({e}); expected a node report in JSON (schema {SCHEMA})"
        ))
    })?;
    if report.schema != SCHEMA {
        return Err(fail(format!(
            "schema {:?}; expected {SCHEMA}",
            report.schema
        )));
    }
    let (benchmark, profile) = (report.benchmark.clone(), report.profile.clone());
    let results = report
        .results
        .into_iter()
        .map(|r| {
            let remediation = if composer.wants_remediation(
                &benchmark,
                profile.as_deref(),
                &r.id,
                &report.node.name,
            ) {
                Some(
                    serde_json::from_str::<String>(r.remediation.get())
                        .map_err(|e| fail(e.to_string()))?,
                )
            } else {
                None
            };
            Ok(ResultInput {
                id: r.id.into_owned(),
                title: r.title.into_owned(),
                node_type: r.node_type,
                scored: r.scored,
                state: r.state,
                actual: r.actual.into_owned(),
                reason: r.reason.into_owned(),
                remediation,
            })
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    composer
        .add(NodeInput {
            benchmark: report.benchmark,
            benchmark_title: report.benchmark_title,
            profile: report.profile,
            name: report.node.name,
            source: file.clone(),
            kubernetes_version: report.node.kubernetes_version,
            node_types: report.node.node_types,
            results,
        })
        .map_err(|e| fail(e.to_string()))
}
