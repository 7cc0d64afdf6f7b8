//! Reports rendered for people (text) and tools (JSON), written atomically.

mod csv;
mod junit;
mod kubebench;
mod text;

pub use csv::{HEADER as CSV_HEADER, render_csv};
pub use junit::render_junit;
pub use kubebench::render_kube_bench;
pub use text::{TextStyle, count, printable, printable_lines, render_text};

use crate::report::Report;
use std::io::Write;
use std::path::Path;

/// Formats of a node report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Junit,
    /// kube-bench's JSON shape.
    KubeBench,
}

/// The report in a format; `style` only affects text.
pub fn render(report: &Report, format: Format, style: TextStyle) -> String {
    match format {
        Format::Text => render_text(report, style),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
            s.push('\n');
            s
        }
        Format::Csv => render_csv(report),
        Format::Junit => render_junit(report),
        Format::KubeBench => render_kube_bench(report),
    }
}

/// Write `contents` to `path` through a temporary file in the same directory,
/// so a reader never sees half a report and a failure leaves nothing behind.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
