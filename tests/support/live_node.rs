//! The live test node (tests/live/node.sh): components named as on a kubeadm
//! node and a real etcd, in private mount and PID namespaces. Shared by the
//! live test and the side-by-side benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The stand-in component binary (tests/live/idle.c), built into `dir`.
pub fn build_idle(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/live/idle.c");
    let out = dir.join("idle");
    let status = Command::new("gcc")
        .arg("-O2")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .expect("running gcc");
    assert!(status.success(), "gcc failed to build {}", src.display());
    out
}

/// `unshare … node.sh KUBECIS IDLE WORK`: sets the node up in `work`, then
/// scans it (or runs what is appended to the command). Needs root.
pub fn command(work: &Path) -> Command {
    let idle = build_idle(work);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/live/node.sh");
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--pid", "--fork", "--mount-proc", "bash"])
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_kubecis"))
        .arg(idle)
        .arg(work);
    command
}
