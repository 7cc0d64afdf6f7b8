//! Waivers files: read for `scan`, `plan` and `serve`, and `kubecis waivers
//! check FILE --within 14d`, which lists the waivers that stop holding soon
//! (or already have) so that their owners renew or fix them in time.

use anyhow::{Context, Result};
use kubecis_engine::node::read;
use kubecis_engine::waivers::{Day, Waivers};
use kubecis_report::output::printable;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that fixes the day waivers are judged on
/// (YYYY-MM-DD, UTC): an audit of a past or coming day, reproducible tests.
pub const TODAY: &str = "KUBECIS_TODAY";

/// Today (UTC), or the day `KUBECIS_TODAY` names.
pub fn today() -> Result<Day> {
    match std::env::var(TODAY) {
        Ok(text) => Day::parse(text.trim())
            .with_context(|| format!("{TODAY} is {text:?}; expected a date as YYYY-MM-DD")),
        Err(_) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            Ok(Day::of_unix(now as i64))
        }
    }
}

/// The waivers of a file, to be judged today.
pub fn read(path: &Path) -> Result<Waivers> {
    let today = today()?;
    let shown = path.display().to_string();
    let bytes = read::regular_file(path, 4 << 20).with_context(|| format!("reading {shown}"))?;
    let text = String::from_utf8(bytes).with_context(|| format!("{shown} is not UTF-8 text"))?;
    Ok(Waivers {
        list: Waivers::parse(&text, &shown)?,
        from: shown,
        today: Some(today),
    })
}

#[derive(clap::Subcommand, Debug)]
pub enum WaiversCommand {
    /// List the waivers that stop holding within the window or already have;
    /// exits 1 when there are any, 0 when none.
    Check {
        /// The waivers file.
        file: PathBuf,
        /// How far ahead to look (e.g. 14d, 4w).
        #[arg(long, default_value = "14d", value_parser = humantime::parse_duration)]
        within: Duration,
    },
}

pub fn run_waivers(command: &WaiversCommand) -> Result<ExitCode> {
    let WaiversCommand::Check { file, within } = command;
    let waivers = read(file)?;
    let today = waivers.today.expect("read sets today");
    let days = within.as_secs().div_ceil(86_400) as i64;
    let soon = waivers.expiring(days + 1);
    if soon.is_empty() {
        println!(
            "{} waivers in {}; none stops holding by {}",
            waivers.list.len(),
            printable(&waivers.from),
            today.plus(days)
        );
        return Ok(ExitCode::SUCCESS);
    }
    for w in &soon {
        let when = if w.expires < today {
            format!("expired on {}", w.expires)
        } else if w.expires == today {
            format!("holds today only ({})", w.expires)
        } else {
            format!("holds until {}", w.expires)
        };
        let scope = match (w.nodes.is_empty(), w.node_types.is_empty()) {
            (true, true) => String::new(),
            _ => {
                let mut parts: Vec<String> = w.nodes.clone();
                parts.extend(w.node_types.iter().map(|t| format!("{t} nodes")));
                format!(" on {}", parts.join(", "))
            }
        };
        println!(
            "{}{}: {when}; owner {}: {}",
            printable(&w.id),
            printable(&scope),
            printable(&w.owner),
            printable(&w.reason)
        );
    }
    Ok(ExitCode::from(1))
}
