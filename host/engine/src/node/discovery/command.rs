//! Runs a program for discovery with no environment, no input, a deadline and
//! a cap on what it may print. Checks never run programs; only the host does,
//! to ask a component's binary its version or the journal for k3s's log.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The program's standard output, or `None` when it cannot start, fails or
/// outlives the deadline (it is killed then).
pub(super) fn run_bounded(
    program: &Path,
    args: &[&str],
    timeout: Duration,
    output_limit: u64,
) -> Option<String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = spawn_when_not_busy(&mut command)?;
    // Read while it runs: a program that fills the pipe must not stall until the deadline.
    let stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.take(output_limit).read_to_end(&mut bytes).ok()?;
        Some(bytes)
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let bytes = reader.join().ok()??;
    status
        .filter(|s| s.success())
        .map(|_| String::from_utf8_lossy(&bytes).into_owned())
}

/// A binary still open for writing somewhere (being upgraded, or written
/// while another thread forks and so briefly holds the descriptor) cannot be
/// executed yet; that state passes within milliseconds, so try a few times.
fn spawn_when_not_busy(command: &mut Command) -> Option<std::process::Child> {
    for attempt in 0.. {
        match command.spawn() {
            Ok(child) => return Some(child),
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 20 => {
                std::thread::sleep(Duration::from_millis(5 << attempt.min(4)))
            }
            Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("kubelet");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn output_of_a_program_that_exits() {
        let dir = tempfile::tempdir().unwrap();
        let ok = script(dir.path(), "echo \"Kubernetes v1.30.4 $HOME\"");
        let out = run_bounded(&ok, &["--version"], Duration::from_secs(5), 4096);
        // No environment is passed on.
        assert_eq!(out.as_deref(), Some("Kubernetes v1.30.4 \n"));
        let failing = script(dir.path(), "echo v1.30.4; exit 3");
        assert_eq!(
            run_bounded(&failing, &[], Duration::from_secs(5), 4096),
            None
        );
        assert_eq!(
            run_bounded(
                Path::new("/nonexistent/kubelet"),
                &[],
                Duration::from_secs(5),
                4096
            ),
            None
        );
    }

    #[test]
    fn a_hanging_or_flooding_program_is_given_up_on() {
        let dir = tempfile::tempdir().unwrap();
        let hang = script(dir.path(), "exec sleep 60");
        let started = Instant::now();
        assert_eq!(
            run_bounded(&hang, &[], Duration::from_millis(300), 4096),
            None
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let flood = script(dir.path(), "exec yes v1.30.4");
        let started = Instant::now();
        assert_eq!(
            run_bounded(&flood, &[], Duration::from_millis(300), 4096),
            None
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
