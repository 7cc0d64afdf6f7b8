//! `kubecis scan`: one node, one benchmark, a report.

use crate::flags::{self, ColorChoice, EXIT_NOTHING_JUDGED, Gate, OutputArgs};
use crate::target::{Prepared, SandboxArgs, Target, prepare};
use anyhow::{Result, bail};
use kubecis_engine::scan::{self};
use kubecis_model::report::{Report, State};
use kubecis_report::output::{Format, count};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    Text,
    /// kubecis' own report (kubecis.report/v1), the input of `report` and `diff`.
    Json,
    /// Rancher's columns.
    Csv,
    Junit,
    /// kube-bench's JSON shape, for tools that import kube-bench.
    KubeBench,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ScanFormat,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: Gate,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Colour the text report.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Longest the whole scan may take (e.g. 90s, 15m): past it, kubecis
    /// stops with exit status 2 and says what it was doing, rather than
    /// hang on a read the kernel never completes. Keep it above the number
    /// of items times the check timeout.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub scan_timeout: Duration,
}

/// Ends the process when the scan outlives its time, naming the phase it
/// was in: a read stuck in the kernel (a hung network file system, a `/proc`
/// entry of a process stuck in the kernel) cannot be interrupted otherwise.
struct Watchdog {
    phase: Arc<std::sync::Mutex<&'static str>>,
}

impl Watchdog {
    fn start(limit: Duration) -> Watchdog {
        let phase = Arc::new(std::sync::Mutex::new("starting"));
        let seen = phase.clone();
        let _ = std::thread::Builder::new()
            .name("kubecis-watchdog".into())
            .spawn(move || {
                std::thread::sleep(limit);
                let phase = *seen.lock().unwrap_or_else(|p| p.into_inner());
                eprintln!(
                    "kubecis: the scan did not finish within {} (it was {phase}): a read of the node may be stuck; stopping",
                    humantime::format_duration(limit)
                );
                std::process::exit(i32::from(flags::EXIT_USAGE));
            });
        Watchdog { phase }
    }

    fn now(&self, phase: &'static str) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = phase;
    }
}

pub fn run_scan(args: &ScanArgs, fail_on_given: bool) -> Result<ExitCode> {
    let watchdog = Watchdog::start(args.scan_timeout);
    watchdog.now("discovering the node");
    let style = flags::text_style(args.color, args.output.is_stdout());
    let (prepared, sandbox) = std::thread::scope(|s| {
        // Every built-in bundle uses the built-in components: they load on a
        // second core while the node is discovered and the benchmark chosen.
        let sandbox = s.spawn(|| {
            let sandbox = args.sandbox.sandbox()?;
            // Bundles from outside may use only their own components.
            if args.target.bundle_dir.is_none() && args.target.packages.bundles.is_empty() {
                for (name, wasm, sha256) in kubecis_builtin::COMPONENTS {
                    // A failure is reported by `scan::prepare`, if the bundle needs it.
                    let _ = sandbox.load(name, wasm, sha256);
                }
            }
            anyhow::Ok(sandbox)
        });
        let prepared = prepare(&args.target, false);
        let sandbox = sandbox
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (prepared, sandbox)
    });
    let Prepared {
        library,
        benchmark,
        node,
        discovery,
        options,
    } = prepared?;
    let bundle = library.get(&benchmark)?;
    watchdog.now("loading check components");
    let sandbox = sandbox?;
    scan::prepare(sandbox, bundle)?;
    watchdog.now("running checks");

    let report = scan::scan(
        bundle,
        Arc::new(node),
        Arc::new(discovery),
        sandbox,
        &options,
    );
    watchdog.now("writing the report");
    if report.results.is_empty() {
        bail!(
            "the selection (--check, --group, --scored-only) leaves no item of {} to check",
            report.benchmark
        );
    }
    let format = match args.format {
        ScanFormat::Text => Format::Text,
        ScanFormat::Json => Format::Json,
        ScanFormat::Csv => Format::Csv,
        ScanFormat::Junit => Format::Junit,
        ScanFormat::KubeBench => Format::KubeBench,
    };
    args.output
        .emit(&kubecis_report::output::render(&report, format, style))?;
    if let Some(why) = judged_nothing(&report) {
        eprintln!("kubecis: {why}");
        return Ok(ExitCode::from(EXIT_NOTHING_JUDGED));
    }
    let tripped = report
        .results
        .iter()
        .filter(|r| args.gate.trips(r.state))
        .count();
    Ok(args.gate.exit(tripped, Gate::report_default(fail_on_given)))
}

/// A report in which no item passed, failed or warned says nothing about
/// the node: that must not look like success.
fn judged_nothing(report: &Report) -> Option<String> {
    let judged = [State::Pass, State::Fail, State::Warn];
    if report.results.iter().any(|r| judged.contains(&r.state)) {
        return None;
    }
    let parts: Vec<String> = [State::Skip, State::NotApplicable, State::Error]
        .into_iter()
        .filter_map(|s| {
            let n = report.totals.get(&s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    Some(format!(
        "nothing was judged: of {}, {}",
        count(report.results.len(), "item"),
        parts.join(", ")
    ))
}
