//! Flag groups several commands share, and how a command's result reaches
//! the user: standard output or a file, and the exit status.

use anyhow::{Context, Result};
use kubecis_model::report::State;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the result goes.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Write to FILE instead of standard output: atomically (readers never see
    /// half a file), keeping the mode of a file it replaces.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

impl OutputArgs {
    /// Write `text` to the file, or to standard output. A reader that stops
    /// early (`| head`) is not an error: what it did not read is not needed.
    pub fn emit(&self, text: &str) -> Result<()> {
        match &self.path {
            Some(path) => kubecis_report::output::write_atomically(path, text)
                .with_context(|| format!("writing {}", path.display())),
            None => print_stdout(text),
        }
    }

    pub fn is_stdout(&self) -> bool {
        self.path.is_none()
    }
}

/// Print to standard output, ending quietly when the reader has gone.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

/// States that make a pipeline fail.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Fail,
    /// An item that could not be judged (check error, timeout, missing node).
    Error,
    Warn,
}

impl FailOn {
    fn state(self) -> State {
        match self {
            FailOn::Fail => State::Fail,
            FailOn::Error => State::Error,
            FailOn::Warn => State::Warn,
        }
    }
}

/// The exit-status gate, the same for `scan`, `report` and `diff`.
#[derive(clap::Args, Debug, Clone)]
pub struct Gate {
    /// States that trip the gate (comma-separated: fail, error, warn). An
    /// error is never a pass, so it trips the gate unless left out.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "fail,error",
        value_name = "STATES"
    )]
    pub fail_on: Vec<FailOn>,
    /// Exit status when the gate trips [scan and report: 0, that is only a
    /// report, unless --fail-on is given, then 1; diff: 1].
    #[arg(long, value_name = "N")]
    pub exit_code: Option<u8>,
}

/// Exit status of a command whose input was wrong or that could not run.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of a scan or report that judged nothing (every item skipped,
/// not applicable or in error): never a success for a pipeline.
pub const EXIT_NOTHING_JUDGED: u8 = 3;

impl Gate {
    pub fn trips(&self, state: State) -> bool {
        self.fail_on.iter().any(|f| f.state() == state)
    }

    /// The exit status for a result in which `tripped` states were found;
    /// `default_code` when no `--exit-code` was given.
    pub fn exit(&self, tripped: usize, default_code: u8) -> ExitCode {
        let code = self.exit_code.unwrap_or(default_code);
        ExitCode::from(if tripped > 0 { code } else { 0 })
    }

    /// `scan` and `report` only report unless a gate is asked for: `--fail-on`
    /// alone exits 1, as `--exit-code 1` would.
    pub fn report_default(fail_on_given: bool) -> u8 {
        u8::from(fail_on_given)
    }
}

/// Whether `--fail-on` was typed (clap's default is not a choice the user made).
pub fn given(matches: &clap::ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
}

/// Colour and width of text for standard output: colour only on a terminal
/// that shows it (not `TERM=dumb`, not `NO_COLOR`), width from `COLUMNS` or
/// the terminal.
pub fn text_style(color: ColorChoice, to_stdout: bool) -> kubecis_report::output::TextStyle {
    let tty = to_stdout && std::io::stdout().is_terminal();
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            tty && std::env::var_os("NO_COLOR").is_none()
                && std::env::var("TERM").is_ok_and(|t| t != "dumb")
        }
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or_else(|| {
            tty.then(terminal_size::terminal_size)
                .flatten()
                .map(|(w, _)| usize::from(w.0))
        });
    kubecis_report::output::TextStyle {
        color,
        width: if to_stdout { width } else { None },
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
