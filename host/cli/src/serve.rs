//! `kubecis serve --config FILE`: the service (see the server crate).

use anyhow::{Context, Result};
use kubecis_server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The server's configuration: listen address, data directory, tokens, scans.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

pub fn run_serve(args: &ServeArgs) -> Result<ExitCode> {
    let mut config = Config::read(&args.config)?;
    config.check_benchmarks(&crate::target::load_library(None, &[])?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(kubecis_server::serve(
        config,
        kubecis_server::system_clock(),
        |address| eprintln!("kubecis serve: listening on http://{address}"),
    ))?;
    Ok(ExitCode::SUCCESS)
}
