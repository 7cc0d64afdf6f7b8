//! `kubecis serve`: scans run on a schedule or on demand by the agents of a
//! cluster, their node reports stored and composed into cluster reports,
//! job status, and an HTTP API over all of it.
//!
//! - [`config`]: the server's file, validated at start;
//! - [`schedule`]: cron schedules and the clock;
//! - [`store`]: SQLite (WAL, migrations, retention);
//! - [`jobs`]: a job's life, from start to composed report;
//! - [`local`]: nodes the server scans itself, without agents;
//! - [`alerts`]: alert rules decided at a job's end, sent in the background;
//! - [`metrics`]: `/metrics` for Prometheus;
//! - [`api`]: the HTTP API, tokens and roles;
//! - [`web`]: the dashboard.

pub mod alerts;
pub mod api;
pub mod config;
pub mod jobs;
pub mod local;
pub mod metrics;
pub mod schedule;
pub mod store;
pub mod web;

use config::Config;
use jobs::Service;
use schedule::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("listening on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
    #[error("localNodes: {0}")]
    LocalNode(String),
}

/// How often the scheduler looks for due scans and passed deadlines.
const TICK: Duration = Duration::from_secs(1);

/// Runs the server until the process ends; `ready` receives the address
/// it listens on (port 0 picks one). `scanner` scans the config's local
/// nodes (needed only when it has some).
pub async fn serve(
    config: Config,
    clock: Arc<dyn Clock>,
    scanner: Option<Arc<dyn local::NodeScanner>>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    // Local nodes are looked at before anything starts: a root that is not
    // a node stops the server, and two nodes may not share a name.
    let mut local_nodes = Vec::new();
    if !config.local_nodes.is_empty() {
        let scanner = scanner.ok_or_else(|| ServeError::LocalNode("no scanner".into()))?;
        let mut names = std::collections::BTreeSet::new();
        for node in &config.local_nodes {
            let reg = scanner.describe(node).map_err(ServeError::LocalNode)?;
            if !names.insert(reg.node.clone()) {
                return Err(ServeError::LocalNode(format!(
                    "two nodes are named {}",
                    reg.node
                )));
            }
            local_nodes.push((scanner.clone(), node.clone()));
        }
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| ServeError::DataDir(config.data_dir.display().to_string(), e))?;
    let store = store::Store::open(&config.data_dir.join("kubecis.db"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Listen(config.listen, e))?;
    let address = listener
        .local_addr()
        .map_err(|e| ServeError::Listen(config.listen, e))?;
    let doorbell = Arc::new(alerts::deliver::Doorbell::default());
    let now = {
        let clock = clock.clone();
        Arc::new(move || clock.now().timestamp())
    };
    alerts::deliver::start(&config.notifiers, store.clone(), doorbell.clone(), now);
    let service = Arc::new(Service {
        config,
        store,
        clock,
        work_ready: tokio::sync::Notify::new(),
        composing: Default::default(),
        finishing: Default::default(),
        doorbell,
        sessions: Default::default(),
        report_cache: Default::default(),
    });
    let ticking = service.clone();
    tokio::spawn(async move {
        loop {
            let s = ticking.clone();
            let turn = tokio::task::spawn_blocking(move || s.tick()).await;
            if let Ok(Err(e)) = turn {
                eprintln!("kubecis serve: scheduler: {e}");
            }
            tokio::time::sleep(TICK).await;
        }
    });
    for (scanner, node) in local_nodes {
        tokio::spawn(local::run(service.clone(), scanner, node));
    }
    ready(address);
    axum::serve(listener, api::router(service))
        .await
        .map_err(|e| ServeError::Listen(address, e))
}

/// The system clock, for a server in production.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
