//! `kubecis reports`, `kubecis scans`, `kubecis jobs`: a server's reports,
//! scans and jobs from the command line.

use crate::client::{Client, ServerArgs};
use crate::flags::{OutputArgs, print_stdout};
use anyhow::Result;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand, Debug)]
pub enum ReportsCommand {
    /// Composed reports, newest first.
    List {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        scan: Option<String>,
    },
    /// One report: json, text, or csv (rancher, all-tests, failed-tests, node-summary, total-summary);
    /// with --node, one node's report: json, kube-bench, junit, csv or text.
    Get {
        #[command(flatten)]
        server: ServerArgs,
        job: i64,
        /// One node's report of the job instead of the cluster report.
        #[arg(long)]
        node: Option<String>,
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long, default_value = "rancher")]
        csv: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete a report (and its job).
    Delete {
        #[command(flatten)]
        server: ServerArgs,
        job: i64,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum ScansCommand {
    /// The server's scans, schedules and next runs.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run a scan now; prints the job.
    Run {
        #[command(flatten)]
        server: ServerArgs,
        scan: String,
    },
    /// A scan's job status: last scheduled, active, last failed, last successful.
    Status {
        #[command(flatten)]
        server: ServerArgs,
        scan: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct RemoteArgs<C: clap::Subcommand> {
    #[command(subcommand)]
    pub command: C,
}

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[arg(long)]
    pub scan: Option<String>,
    /// active, completed or failed.
    #[arg(long)]
    pub state: Option<String>,
}

fn client(server: &ServerArgs) -> Result<Client> {
    Client::new(server, Duration::from_secs(60))
}

/// A query string of the given pairs, values escaped.
fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::agent::url_segment(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn print(body: String) -> Result<ExitCode> {
    let mut text = kubecis_report::output::printable_lines(&body);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_reports(args: &RemoteArgs<ReportsCommand>) -> Result<ExitCode> {
    match &args.command {
        ReportsCommand::List { server, scan } => {
            let c = client(server)?;
            let path = format!("/api/v1/reports{}", query(&[("scan", scan.as_deref())]));
            print(c.get(&path)?.ok("listing reports")?)
        }
        ReportsCommand::Get {
            server,
            job,
            node,
            format,
            csv,
            output,
        } => {
            let c = client(server)?;
            let path = match node {
                Some(node) => format!(
                    "/api/v1/reports/{job}/nodes/{}{}",
                    crate::agent::url_segment(node),
                    query(&[("format", Some(format))])
                ),
                None => format!(
                    "/api/v1/reports/{job}{}",
                    query(&[("format", Some(format)), ("csv", Some(csv))])
                ),
            };
            let body = c.get(&path)?.ok(&format!("getting report {job}"))?;
            // The server's text comes from nodes: escaped for a terminal, kept as is in a file.
            if output.is_stdout() {
                output.emit(&kubecis_report::output::printable_lines(&body))?;
            } else {
                output.emit(&body)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportsCommand::Delete { server, job } => {
            let c = client(server)?;
            c.delete(&format!("/api/v1/reports/{job}"))?
                .ok(&format!("deleting report {job}"))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_scans(args: &RemoteArgs<ScansCommand>) -> Result<ExitCode> {
    match &args.command {
        ScansCommand::List { server } => {
            print(client(server)?.get("/api/v1/scans")?.ok("listing scans")?)
        }
        ScansCommand::Run { server, scan } => {
            let c = client(server)?;
            let path = format!("/api/v1/scans/{}/run", crate::agent::url_segment(scan));
            print(c.post(&path, b"")?.ok(&format!("running scan {scan}"))?)
        }
        ScansCommand::Status { server, scan } => {
            let c = client(server)?;
            let path = format!("/api/v1/scans/{}/status", crate::agent::url_segment(scan));
            print(c.get(&path)?.ok(&format!("status of scan {scan}"))?)
        }
    }
}

pub fn run_jobs(args: &JobsArgs) -> Result<ExitCode> {
    let c = client(&args.server)?;
    let path = format!(
        "/api/v1/jobs{}",
        query(&[
            ("scan", args.scan.as_deref()),
            ("state", args.state.as_deref())
        ])
    );
    print(c.get(&path)?.ok("listing jobs")?)
}
