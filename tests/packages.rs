//! Bundle packages: a signed package runs and its report names the bundle's
//! version, digest and signer; a changed byte, an unknown signer, a missing
//! signature, a changed manifest, a manifest naming files the package lacks,
//! a file it does not name and an entry leading out are each refused with a
//! clear error and no report.

use crate::support::{Materialised, kubecis_in, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bundle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/org-rules")
}

/// A work directory with the key pairs `ops` and `other`, and `org.kcb`
/// packed from tests/bundles/org-rules and signed by `ops`.
fn signed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for key in ["ops", "other"] {
        let out = kubecis_in(dir.path(), &["bundle", "keygen", key]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("ops.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "a secret key is private");
    let out = kubecis_in(
        dir.path(),
        &[
            "bundle",
            "pack",
            bundle_dir().to_str().unwrap(),
            "-o",
            "org.kcb",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kubecis_in(
        dir.path(),
        &["bundle", "sign", "org.kcb", "--key", "ops.key"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

fn scan(dir: &Path, node: &Materialised, package: &str, extra: &[&str]) -> Output {
    let (root, cache) = node.root_and_cache();
    let mut args = vec![
        "scan",
        "--root",
        &root,
        "--cache-dir",
        &cache,
        "--benchmark",
        "org-rules",
        "--bundle",
        package,
        "--format",
        "json",
    ];
    args.extend(extra);
    kubecis_in(dir, &args)
}

fn refused(out: &Output, says: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(out.stdout.is_empty(), "a report was made");
    assert!(stderr(out).contains(says), "{}", stderr(out));
}

#[test]
fn a_signed_package_runs_and_its_report_names_it() {
    let dir = signed();
    let node = Materialised::new("misconfigured-control-plane");
    let out = scan(dir.path(), &node, "org.kcb", &["--trust-key", "ops.pub"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["benchmark"], "org-rules");
    assert_eq!(report["bundleVersion"], "1.1.0");
    assert!(
        report["bundleSigner"].as_str().unwrap().starts_with("key "),
        "{report}"
    );
    assert!(
        report["bundleSigner"]
            .as_str()
            .unwrap()
            .ends_with("(ops.pub)")
    );
    assert_eq!(report["bundleDigest"].as_str().unwrap().len(), 64);
    assert_eq!(
        report["results"][0]["state"], "fail",
        "profiling is on there"
    );
    // The same through a trust directory, and `verify` says who signed.
    let trusted = dir.path().join("trusted");
    std::fs::create_dir(&trusted).unwrap();
    std::fs::copy(dir.path().join("ops.pub"), trusted.join("ops.pub")).unwrap();
    let out = kubecis_in(
        dir.path(),
        &["bundle", "verify", "org.kcb", "--trust-dir", "trusted"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.contains("org-rules 1.1.0, 2 files, signed by key"),
        "{said}"
    );
    // `inspect` shows every grant in words before anything runs.
    let out = kubecis_in(
        dir.path(),
        &["bundle", "inspect", "org.kcb", "--trust-key", "ops.pub"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("9.1.1 The API server does not serve profiling data [flag]"),
        "{shown}"
    );
    assert!(
        shown.contains("bytes, built into kubecis; built against kubecis:check@1.1.0)"),
        "{shown}"
    );
    assert!(
        shown.contains("may read: arguments of the processes of apiserver"),
        "{shown}"
    );
}

#[test]
fn tampered_unknown_or_unsigned_packages_are_refused() {
    let dir = signed();
    let node = Materialised::new("misconfigured-control-plane");
    let trust = ["--trust-key", "ops.pub"];
    let package = std::fs::read(dir.path().join("org.kcb")).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();

    // One byte of a bundle file changed.
    let at = package
        .windows(b"Set --profiling".len())
        .position(|w| w == b"Set --profiling")
        .unwrap();
    let mut changed = package.clone();
    changed[at] = b's';
    write("changed.kcb", &changed);
    refused(
        &scan(dir.path(), &node, "changed.kcb", &trust),
        "master.yaml does not match its digest in the manifest",
    );

    // A changed manifest no longer verifies.
    let at = package
        .windows(b"1.1.0".len())
        .position(|w| w == b"1.1.0")
        .unwrap();
    let mut manifest = package.clone();
    manifest[at + 4] = b'9';
    write("manifest.kcb", &manifest);
    refused(
        &scan(dir.path(), &node, "manifest.kcb", &trust),
        "signature does not verify with key",
    );

    // Signed by a key the operator does not trust.
    let out = kubecis_in(
        dir.path(),
        &[
            "bundle",
            "sign",
            "org.kcb",
            "--key",
            "other.key",
            "-o",
            "other.kcb",
        ],
    );
    assert!(out.status.success());
    refused(
        &scan(dir.path(), &node, "other.kcb", &trust),
        "which is not among the trusted keys",
    );

    // Not signed: refused, unless the operator says so, loudly and on the record.
    let out = kubecis_in(
        dir.path(),
        &[
            "bundle",
            "pack",
            bundle_dir().to_str().unwrap(),
            "-o",
            "unsigned.kcb",
        ],
    );
    assert!(out.status.success());
    refused(
        &scan(dir.path(), &node, "unsigned.kcb", &trust),
        "is not signed",
    );
    let out = scan(dir.path(), &node, "unsigned.kcb", &["--allow-unsigned"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("WARNING: --allow-unsigned"));
    let (root, cache) = node.root_and_cache();
    let text = kubecis_in(
        dir.path(),
        &[
            "scan",
            "--root",
            &root,
            "--cache-dir",
            &cache,
            "--benchmark",
            "org-rules",
            "--bundle",
            "unsigned.kcb",
            "--allow-unsigned",
        ],
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("signer: UNSIGNED (accepted with --allow-unsigned)"),
        "{text}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["bundleSigner"]
            .as_str()
            .unwrap()
            .starts_with("UNSIGNED"),
        "{report}"
    );
}

/// An entry added to a package: name, content (a link's target), `file` or `link`.
type Added<'a> = (&'a str, &'a str, &'a str);

/// Rebuilds a package with Python's tarfile: the same entries, some left
/// out, some added (name, bytes, kind).
fn repack(from: &Path, to: &Path, drop: &str, add: &[Added]) {
    let adds: Vec<String> = add
        .iter()
        .map(|(n, b, k)| format!("({n:?}, {b:?}, {k:?})"))
        .collect();
    let script = format!(
        r#"
import io, tarfile
src = tarfile.open({from:?})
out = tarfile.open({to:?}, "w", format=tarfile.USTAR_FORMAT)
for m in src.getmembers():
    if m.name != {drop:?}:
        out.addfile(m, src.extractfile(m))
for name, data, kind in [{adds}]:
    info = tarfile.TarInfo(name)
    if kind == "link":
        info.type = tarfile.SYMTYPE
        info.linkname = data
        out.addfile(info)
    else:
        info.size = len(data)
        out.addfile(info, io.BytesIO(data.encode()))
out.close()
"#,
        from = from.display().to_string(),
        to = to.display().to_string(),
        adds = adds.join(", ")
    );
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_package_must_hold_exactly_what_its_manifest_names() {
    let dir = signed();
    let node = Materialised::new("misconfigured-control-plane");
    let trust = ["--trust-key", "ops.pub"];
    let signed = dir.path().join("org.kcb");
    let cases: [(&str, &str, &[Added], &str); 4] = [
        (
            "missing.kcb",
            "master.yaml",
            &[],
            "its manifest names files that are not in the package: master.yaml",
        ),
        (
            "extra.kcb",
            "",
            &[("notes.txt", "hello", "file")],
            "holds notes.txt, which its manifest does not name",
        ),
        (
            "escape.kcb",
            "",
            &[("../escape.yaml", "x", "file")],
            "holds \"../escape.yaml\", which is not a plain relative name",
        ),
        (
            "link.kcb",
            "",
            &[("components/x.wasm", "/etc/shadow", "link")],
            "holds \"components/x.wasm\", which is not a regular file",
        ),
    ];
    for (name, drop, add, says) in cases {
        repack(&signed, &dir.path().join(name), drop, add);
        refused(&scan(dir.path(), &node, name, &trust), says);
    }
    std::fs::write(dir.path().join("garbage.kcb"), b"not a tar file at all").unwrap();
    refused(
        &scan(dir.path(), &node, "garbage.kcb", &trust),
        "garbage.kcb",
    );
}

/// A signed package older than one accepted before from the same key may
/// be a rollback to checks with known flaws: refused unless the operator
/// says so.
#[test]
fn an_older_signed_version_than_one_accepted_is_refused() {
    let dir = signed();
    let node = Materialised::new("misconfigured-control-plane");
    let trust = ["--trust-key", "ops.pub"];
    let old = dir.path().join("org-rules");
    std::fs::create_dir(&old).unwrap();
    for file in ["bundle.yaml", "master.yaml"] {
        let text = std::fs::read_to_string(bundle_dir().join(file)).unwrap();
        std::fs::write(
            old.join(file),
            text.replace("version: 1.1.0", "version: 1.0.0"),
        )
        .unwrap();
    }
    for args in [
        ["bundle", "pack", "org-rules", "-o", "old.kcb"].as_slice(),
        &["bundle", "sign", "old.kcb", "--key", "ops.key"],
    ] {
        let out = kubecis_in(dir.path(), args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // Before 1.1.0 was ever run, 1.0.0 is the newest seen: it runs.
    assert!(scan(dir.path(), &node, "old.kcb", &trust).status.success());
    assert!(scan(dir.path(), &node, "org.kcb", &trust).status.success());
    refused(
        &scan(dir.path(), &node, "old.kcb", &trust),
        "version 1.0.0 of org-rules is older than version 1.1.0, which this machine accepted before",
    );
    let out = scan(
        dir.path(),
        &node,
        "old.kcb",
        &["--trust-key", "ops.pub", "--allow-downgrade"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("WARNING: --allow-downgrade"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bundleVersion"], "1.0.0");
}
