//! The version of `kubecis:check` a component was built against. Minor
//! versions of the contract only add, so a host runs every component built
//! against its major version up to its own minor version; a component built
//! against a newer contract is refused with the versions named, not left
//! to fail in the linker.

use std::fmt;

/// The contract this host serves: the package version of `wit/check.wit`.
pub const HOST: Version = Version {
    major: 1,
    minor: 1,
    patch: 0,
};

/// The package whose interfaces checks import.
const PACKAGE: &str = "kubecis:check/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(version)
    }
}

/// The contract version named by a component's imports (`kubecis:check/node@1.0.0`),
/// the newest when several are; `None` when it imports no kubecis interface.
/// Refuses an import of the package with no version or one this host cannot serve.
pub fn required<'a>(imports: impl IntoIterator<Item = &'a str>) -> Result<Option<Version>, String> {
    let mut newest = None;
    for name in imports {
        let Some(rest) = name.strip_prefix(PACKAGE) else {
            continue;
        };
        let version = rest
            .split_once('@')
            .and_then(|(_, v)| Version::parse(v))
            .ok_or_else(|| {
                format!(
                    "it imports {name:?}, which names no version of kubecis:check such as @1.0.0"
                )
            })?;
        if version.major != HOST.major || version > HOST {
            return Err(format!(
                "it was built against kubecis:check@{version} ({name}); this kubecis serves kubecis:check@{HOST} and runs components built against {}.0.0 to {HOST}: upgrade kubecis, or build the component against a version it serves",
                HOST.major
            ));
        }
        newest = newest.max(Some(version));
    }
    Ok(newest)
}

/// The contract version a component's bytes import, read without compiling
/// it (for `bundle inspect`).
pub fn of_wasm(wasm: &[u8]) -> Result<Option<Version>, String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ComponentImportSection(reader) =
            payload.map_err(|e| e.to_string())?
        {
            for import in reader {
                names.push(import.map_err(|e| e.to_string())?.name.name.to_owned());
            }
        }
    }
    required(names.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_version_is_the_wit_package_version() {
        let wit = include_str!("../../../../wit/check.wit");
        let declared = wit
            .lines()
            .find_map(|l| l.strip_prefix("package kubecis:check@"))
            .and_then(|v| Version::parse(v.trim_end_matches(';')));
        assert_eq!(declared, Some(HOST));
    }

    #[test]
    fn older_minor_versions_run_newer_and_other_majors_do_not() {
        let v = |s: &str| required([s]);
        assert_eq!(
            v("kubecis:check/node@1.0.0").unwrap(),
            Version::parse("1.0.0")
        );
        assert_eq!(v("kubecis:check/node@1.1.0").unwrap(), Some(HOST));
        assert_eq!(v("wasi:io/streams@0.2.0").unwrap(), None);
        for newer in [
            "kubecis:check/node@1.2.0",
            "kubecis:check/node@2.0.0",
            "kubecis:check/node@0.9.0",
        ] {
            let e = v(newer).unwrap_err();
            assert!(e.contains(newer.split('@').nth(1).unwrap()), "{e}");
            assert!(e.contains("serves kubecis:check@1.1.0"), "{e}");
        }
        assert!(
            v("kubecis:check/node")
                .unwrap_err()
                .contains("names no version")
        );
        assert!(v("kubecis:check/node@1.x").is_err());
    }
}
