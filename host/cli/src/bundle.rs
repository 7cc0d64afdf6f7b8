//! `kubecis bundle`: packages of third-party bundles. `keygen` makes an
//! Ed25519 key pair, `pack` a package of a bundle directory, `sign` signs
//! it, `verify` checks it against trusted keys, `inspect` shows what a
//! bundle or package holds and every grant in words; and the flags with
//! which `scan` and `plan` run packages only when they verify.

use anyhow::{Context, Result};
use kubecis_engine::bundle::Library;
use kubecis_engine::bundle::package::{self, Package, Trust};
use kubecis_engine::node::read;
use kubecis_report::output::printable;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Packages to run and the keys they must be signed with.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct PackageArgs {
    /// Load a bundle package (`kubecis bundle pack`); it runs only if signed
    /// by a trusted key. Repeatable.
    #[arg(long = "bundle", value_name = "FILE")]
    pub bundles: Vec<PathBuf>,
    /// A public key (`kubecis bundle keygen`) packages may be signed with. Repeatable.
    #[arg(long = "trust-key", value_name = "FILE")]
    pub trust_keys: Vec<PathBuf>,
    /// Every `*.pub` key in DIR is trusted.
    #[arg(long, value_name = "DIR")]
    pub trust_dir: Option<PathBuf>,
    /// Run packages that are not signed. Loud, and recorded in every report.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Run a signed package older than one this machine accepted before from
    /// the same key (refused otherwise: an old signed package may be a rollback).
    #[arg(long)]
    pub allow_downgrade: bool,
}

impl PackageArgs {
    pub fn trust(&self) -> Result<Trust> {
        let mut files = self.trust_keys.clone();
        if let Some(dir) = &self.trust_dir {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("reading the trust directory {}", dir.display()))?;
            let mut keys: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "pub"))
                .collect();
            keys.sort();
            files.extend(keys);
        }
        let mut keys = Vec::new();
        for file in files {
            let shown = file.display().to_string();
            let bytes =
                read::regular_file(&file, 4096).with_context(|| format!("reading {shown}"))?;
            keys.push(package::public_key(
                &String::from_utf8_lossy(&bytes),
                &shown,
            )?);
        }
        Ok(Trust {
            keys,
            allow_unsigned: self.allow_unsigned,
        })
    }

    /// Verifies every `--bundle` package and adds its bundle to `library`.
    pub fn add_to(&self, library: &mut Library, allow_grants: &[String]) -> Result<()> {
        if self.bundles.is_empty() {
            return Ok(());
        }
        let trust = self.trust()?;
        if trust.allow_unsigned {
            eprintln!(
                "kubecis: WARNING: --allow-unsigned: packages without a signature run, and nothing vouches for what they contain; their reports say so"
            );
        }
        for path in &self.bundles {
            let package = Package::open(path, &trust)?;
            if let package::Signer::Key { id, .. } = &package.signer {
                accepted_versions::check_and_record(&package, id, self.allow_downgrade)?;
            }
            library
                .add_package(&kubecis_builtin::BUILTINS, &package, allow_grants)
                .map_err(|e| match e {
                    kubecis_engine::bundle::BundleError::Grant { ref bundle, .. } => anyhow::anyhow!(
                        "{e} (review it with `kubecis bundle inspect`, then allow it with --allow-grants {bundle})"
                    ),
                    e => anyhow::Error::new(e),
                })?;
        }
        Ok(())
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum BundleCommand {
    /// Make an Ed25519 key pair: NAME.key (secret, mode 0600) and NAME.pub.
    Keygen {
        /// Path and name of the two files, without extension.
        name: PathBuf,
    },
    /// Pack a bundle directory (its bundle.yaml names it and gives its version).
    Pack {
        dir: PathBuf,
        /// The package file; default: NAME-VERSION.kcb here.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Sign a package with a secret key (in place, or to -o).
    Sign {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Verify a package against trusted keys: exit 0 when it may run, 2 when not.
    Verify {
        file: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// What a package or bundle directory holds: items, components and every grant in words.
    Inspect {
        /// A package file or a bundle directory.
        path: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

/// The trust flags of `verify` and `inspect`.
#[derive(clap::Args, Debug)]
pub struct TrustArgs {
    #[arg(long = "trust-key", value_name = "FILE")]
    trust_keys: Vec<PathBuf>,
    #[arg(long, value_name = "DIR")]
    trust_dir: Option<PathBuf>,
    #[arg(long)]
    allow_unsigned: bool,
}

impl TrustArgs {
    fn trust(&self) -> Result<Trust> {
        PackageArgs {
            bundles: Vec::new(),
            trust_keys: self.trust_keys.clone(),
            trust_dir: self.trust_dir.clone(),
            allow_unsigned: self.allow_unsigned,
            allow_downgrade: false,
        }
        .trust()
    }
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| {
            format!(
                "writing {} (an existing key is never overwritten)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn write_package(path: &Path, bytes: &[u8]) -> Result<()> {
    kubecis_report::output::write_atomically(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

pub fn run_bundle(command: &BundleCommand) -> Result<ExitCode> {
    match command {
        BundleCommand::Keygen { name } => {
            let (secret, public) = package::keygen()?;
            let key = name.with_extension("key");
            let pubkey = name.with_extension("pub");
            write_new(&key, &secret, 0o600)?;
            write_new(&pubkey, &public, 0o644)?;
            println!(
                "secret key {} (keep it private), public key {} (give it to operators: --trust-key)",
                key.display(),
                pubkey.display()
            );
        }
        BundleCommand::Pack { dir, output } => {
            let bytes = package::pack(dir)?;
            let unsigned = Package::from_bytes(
                &bytes,
                dir,
                &Trust {
                    keys: Vec::new(),
                    allow_unsigned: true,
                },
            )?;
            // A bundle that would not load is not packed.
            let mut library = Library::load(&kubecis_builtin::BUILTINS, None)?;
            library.add_package(
                &kubecis_builtin::BUILTINS,
                &unsigned,
                std::slice::from_ref(&unsigned.manifest.name),
            )?;
            let m = &unsigned.manifest;
            let out = output
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}-{}.kcb", m.name, m.version)));
            write_package(&out, &bytes)?;
            println!(
                "{}: {} {} with {} files (unsigned: sign it with `kubecis bundle sign`)",
                out.display(),
                printable(&m.name),
                printable(&m.version),
                m.files.len()
            );
        }
        BundleCommand::Sign { file, key, output } => {
            let shown = file.display().to_string();
            let bytes =
                read::regular_file(file, 128 << 20).with_context(|| format!("reading {shown}"))?;
            let secret = read::regular_file(key, 4096)
                .with_context(|| format!("reading {}", key.display()))?;
            let signed = package::sign(
                &bytes,
                &shown,
                &String::from_utf8_lossy(&secret),
                &key.display().to_string(),
            )?;
            let out = output.clone().unwrap_or_else(|| file.clone());
            write_package(&out, &signed)?;
            println!("{}: signed", out.display());
        }
        BundleCommand::Verify { file, trust } => {
            let package = Package::open(file, &trust.trust()?)?;
            let m = &package.manifest;
            println!(
                "{}: {} {}, {} files, signed by {}",
                file.display(),
                printable(&m.name),
                printable(&m.version),
                m.files.len(),
                package.signer
            );
        }
        BundleCommand::Inspect { path, trust } => inspect(path, trust)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(path: &Path, trust: &TrustArgs) -> Result<()> {
    // Inspection shows every grant, broad or not: nothing runs.
    let (library, name) = if path.is_dir() {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let parent = path.parent().unwrap_or(Path::new("."));
        let library = Library::load_allowing(
            &kubecis_builtin::BUILTINS,
            Some(parent),
            std::slice::from_ref(&name),
        )?;
        (library, name)
    } else {
        let package = Package::open(path, &trust.trust()?)?;
        let name = package.manifest.name.clone();
        let mut library = Library::load(&kubecis_builtin::BUILTINS, None)?;
        library.add_package(
            &kubecis_builtin::BUILTINS,
            &package,
            std::slice::from_ref(&name),
        )?;
        (library, name)
    };
    let bundle = library.get(&name)?;
    println!(
        "{} ({})",
        printable(&bundle.benchmark),
        printable(&bundle.title)
    );
    println!("origin: {}", printable(&bundle.origin.to_string()));
    println!("signer: {}", printable(&bundle.origin.signer()));
    println!("digest: {}", bundle.digest);
    println!("kubernetes: {}", bundle.kubernetes.join(", "));
    println!("components:");
    for (n, c) in &bundle.components {
        // Built-in components are borrowed from the binary; a bundle's own are read from it.
        let whose = match c.wasm {
            std::borrow::Cow::Borrowed(_) => "built into kubecis",
            std::borrow::Cow::Owned(_) => "shipped in the bundle",
        };
        let contract = match kubecis_engine::sandbox::contract::of_wasm(&c.wasm) {
            Ok(Some(v)) => format!("built against kubecis:check@{v}"),
            Ok(None) => "imports no kubecis interface".to_owned(),
            Err(e) => format!("will not run: {e}"),
        };
        println!(
            "  {} sha256 {} ({} bytes, {whose}; {})",
            printable(n),
            c.sha256,
            c.wasm.len(),
            printable(&contract)
        );
    }
    let items: Vec<_> = bundle.items().collect();
    println!("items: {}", items.len());
    for (_, _, item) in items {
        let check = item.check.as_deref().unwrap_or("manual");
        println!(
            "  {} {} [{}]",
            printable(&item.id),
            printable(&item.title),
            printable(check)
        );
        let grants = item.grants.describe(&|p| p.to_owned());
        if grants.is_empty() {
            println!("    may read: nothing on the node");
        }
        for g in grants {
            println!("    may read: {}", printable(&g));
        }
        if let Some(memory) = item.grants.memory() {
            println!("    may use: {memory}");
        }
    }
    Ok(())
}

/// The newest version of each signed package this machine (this user) has
/// accepted, per bundle name and signing key, in `$KUBECIS_STATE_DIR`
/// (default `$XDG_STATE_HOME/kubecis`, `~/.local/state/kubecis`), so that
/// an older package with a valid signature is refused as a rollback.
mod accepted_versions {
    use anyhow::{Result, bail};
    use kubecis_engine::bundle::package::{Package, compare_versions};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn state_file() -> Option<PathBuf> {
        let dir = std::env::var_os("KUBECIS_STATE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("kubecis"))
            })
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/kubecis"))
            })?;
        Some(dir.join("accepted-packages.json"))
    }

    pub fn check_and_record(package: &Package, key: &str, allow_downgrade: bool) -> Result<()> {
        let Some(file) = state_file() else {
            eprintln!(
                "kubecis: warning: no state directory (KUBECIS_STATE_DIR, XDG_STATE_HOME, HOME): accepted package versions are not remembered, so a rollback cannot be noticed"
            );
            return Ok(());
        };
        let m = &package.manifest;
        let entry = format!("{} {key}", m.name);
        let mut seen: BTreeMap<String, String> = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if let Some(newest) = seen.get(&entry)
            && compare_versions(&m.version, newest).is_lt()
        {
            if !allow_downgrade {
                bail!(
                    "{}: version {} of {} is older than version {newest}, which this machine accepted before from key {key}: refused as a possible rollback (--allow-downgrade runs it)",
                    package.path.display(),
                    m.version,
                    m.name
                );
            }
            eprintln!(
                "kubecis: WARNING: --allow-downgrade: running {} {} though {newest} was accepted before",
                m.name, m.version
            );
            return Ok(());
        }
        seen.insert(entry, m.version.clone());
        let written = file
            .parent()
            .map(|d| std::fs::DirBuilder::new().recursive(true).create(d))
            .transpose()
            .and_then(|_| {
                kubecis_report::output::write_atomically(
                    &file,
                    serde_json::to_vec_pretty(&seen).unwrap_or_default(),
                )
            });
        if let Err(e) = written {
            eprintln!(
                "kubecis: warning: {}: {e}; accepted package versions are not remembered",
                file.display()
            );
        }
        Ok(())
    }
}
