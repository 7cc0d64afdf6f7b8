//! Nodes `serve` scans itself, without agents: its own machine, or node
//! roots it is given (one machine, or snapshots of nodes). Each runs the
//! agent's protocol in-process — heartbeat, take work, scan, upload — so a
//! job treats it exactly as an agent's node. Scanning needs the engine and
//! the bundles, which the binary supplies as a [`NodeScanner`].

use crate::jobs::Service;
use kubecis_model::agent::{Registration, Work};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A node of `localNodes` in the server's file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalNode {
    /// The node's name; default: the host name found on the node.
    pub name: Option<String>,
    /// The node's filesystem; default: this machine's.
    pub root: Option<PathBuf>,
    /// Its /proc, when not `root`/proc.
    pub proc: Option<PathBuf>,
    /// Its Kubernetes version, when the node does not show it.
    pub kubernetes_version: Option<String>,
}

/// Scans a node the way `kubecis agent` does.
pub trait NodeScanner: Send + Sync {
    /// The node as its agent would register it.
    fn describe(&self, node: &LocalNode) -> Result<Registration, String>;
    /// The job's scan on the node: its report, as JSON.
    fn scan(&self, node: &LocalNode, name: &str, work: &Work) -> Result<Vec<u8>, String>;
}

/// How long a local node waits for work before it heartbeats again.
const TURN: Duration = Duration::from_secs(5);

/// Runs one local node until the server ends.
pub(crate) async fn run(service: Arc<Service>, scanner: Arc<dyn NodeScanner>, node: LocalNode) {
    // A scan that failed is not tried again for the same job: the job ends
    // at its deadline with the node missing and the reason logged.
    let mut failed: Option<i64> = None;
    loop {
        let notified = service.work_ready.notified();
        let (svc, scan, n) = (service.clone(), scanner.clone(), node.clone());
        let turn = tokio::task::spawn_blocking(move || one_turn(&svc, &*scan, &n, failed)).await;
        match turn {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => {}
            Ok(Err((job, e))) => {
                eprintln!(
                    "kubecis serve: local node {}: {}",
                    kubecis_report::output::printable(&label(&node)),
                    kubecis_report::output::printable(&e)
                );
                failed = job.or(failed);
            }
            Err(e) => eprintln!("kubecis serve: local node: {e}"),
        }
        let _ = tokio::time::timeout(TURN, notified).await;
    }
}

/// Heartbeat, then the node's next job if there is one: `Some(job)` when
/// one was done.
fn one_turn(
    service: &Service,
    scanner: &dyn NodeScanner,
    node: &LocalNode,
    failed: Option<i64>,
) -> Result<Option<i64>, (Option<i64>, String)> {
    let registration = scanner.describe(node).map_err(|e| (None, e))?;
    let name = registration.node.clone();
    service
        .seen(&registration)
        .map_err(|e| (None, e.to_string()))?;
    let work = service.work_for(&name).map_err(|e| (None, e.to_string()))?;
    let Some(work) = work.filter(|w| Some(w.job) != failed) else {
        return Ok(None);
    };
    let job = work.job;
    let report = scanner
        .scan(node, &name, &work)
        .map_err(|e| (Some(job), format!("job {job}: {e}")))?;
    service
        .upload(job, &name, &report)
        .map_err(|e| (Some(job), format!("job {job}: {e}")))?;
    Ok(Some(job))
}

fn label(node: &LocalNode) -> String {
    match (&node.name, &node.root) {
        (Some(name), _) => name.clone(),
        (None, Some(root)) => root.display().to_string(),
        (None, None) => "(this machine)".to_owned(),
    }
}
