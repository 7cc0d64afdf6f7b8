//! Reports rendered for people (text) and tools (JSON), written atomically.

mod csv;
mod junit;
mod kubebench;
mod text;

pub use csv::{HEADER as CSV_HEADER, cell as csv_cell, render_csv, write_row as write_csv_row};
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
/// The file gets the mode of the file it replaces, else what a plain create
/// gives (0666 less the umask): a report is not made private by being written.
pub fn write_atomically(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the directory {} does not exist", dir.display()),
        ));
    }
    let replaced = std::fs::metadata(path).ok().filter(|m| m.is_file());
    let mut tmp = tempfile::Builder::new()
        .prefix(".kubecis-")
        // Subject to the umask, as any new file.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(old) = replaced {
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(
                old.permissions().mode() & 0o7777,
            ))?;
    }
    tmp.write_all(contents.as_ref())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
