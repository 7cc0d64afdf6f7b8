//! `kubecis serve --config FILE`: the service (see the server crate), with
//! the scanner its local nodes use: the agent's, sharing one warm sandbox.

use crate::agent::{Bundles, NodeSpec, describe, scan_for};
use crate::target::SandboxArgs;
use anyhow::{Context, Result};
use kubecis_engine::bundle::Library;
use kubecis_engine::sandbox::Sandbox;
use kubecis_model::agent::{Registration, Work};
use kubecis_server::config::Config;
use kubecis_server::local::{LocalNode, NodeScanner};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The server's configuration: listen address, data directory, tokens, scans.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Limits of the checks run on the config's local nodes.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn run_serve(args: &ServeArgs) -> Result<ExitCode> {
    let mut config = Config::read(&args.config)?;
    let library = bundles_of(&config.bundles)
        .library()
        .with_context(|| format!("{}: bundles", args.config.display()))?;
    config.check_benchmarks(&library)?;
    let library = Arc::new(library);
    let scanner: Option<Arc<dyn NodeScanner>> = if config.local_nodes.is_empty() {
        None
    } else {
        Some(Arc::new(LocalScanner {
            sandbox: Mutex::new(args.sandbox.sandbox()?),
            library,
        }))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(kubecis_server::serve(
        config,
        kubecis_server::system_clock(),
        scanner,
        |address| eprintln!("kubecis serve: listening on http://{address}"),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Scans local nodes as agents do; one scan at a time, with one sandbox.
struct LocalScanner {
    sandbox: Mutex<&'static mut Sandbox>,
    /// Verified when serve started; every job scans with it.
    library: Arc<Library>,
}

fn spec(node: &LocalNode) -> NodeSpec<'_> {
    NodeSpec {
        root: node.root.as_deref(),
        proc: node.proc.as_deref(),
        name: node.name.as_deref(),
        k8s_version: node.kubernetes_version.as_deref(),
    }
}

impl NodeScanner for LocalScanner {
    fn describe(&self, node: &LocalNode) -> Result<Registration, String> {
        describe(spec(node)).map_err(|e| format!("{e:#}"))
    }

    fn scan(&self, node: &LocalNode, name: &str, work: &Work) -> Result<Vec<u8>, String> {
        let mut sandbox = self.sandbox.lock().unwrap_or_else(|p| p.into_inner());
        let report = scan_for(spec(node), name, work, &self.library, &mut sandbox)
            .map_err(|e| format!("{e:#}"))?;
        serde_json::to_vec(&report).map_err(|e| e.to_string())
    }
}

/// The `bundles:` section of `serve`'s config, as the agent's flags say it.
fn bundles_of(config: &kubecis_server::config::Packages) -> Bundles {
    Bundles {
        packages: crate::bundle::PackageArgs {
            bundles: config.packages.clone(),
            trust_keys: config.trust_keys.clone(),
            trust_dir: config.trust_dir.clone(),
            allow_unsigned: config.allow_unsigned,
            allow_downgrade: config.allow_downgrade,
        },
        allow_grants: config.allow_grants.clone(),
    }
}
