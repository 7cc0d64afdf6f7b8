//! The `file` check: permissions and ownership of files and directory trees.

use kubecis_sdk::node::{self, Error, FileKind, FileStat};
use kubecis_sdk::perm::{self, Owner};
use kubecis_sdk::{Check, Outcome, Status, Why, outcome};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    dirs: Vec<Tree>,
    mode: Option<String>,
    owner: Option<String>,
}

/// Every entry under a directory, or only the files whose name ends in `suffix`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tree {
    path: String,
    suffix: Option<String>,
    #[serde(default)]
    recursive: bool,
}

/// Files deeper than this are not followed (a loop guard; real trees are shallow).
const MAX_DEPTH: usize = 8;

struct FileCheck;

impl Check for FileCheck {
    type Settings = Settings;

    fn judge(settings: Settings) -> Outcome {
        let mut wants = Vec::new();
        let mode = match settings.mode.as_deref().map(perm::parse_mode).transpose() {
            Ok(m) => m,
            Err(e) => return outcome(Status::Error, "", "", format!("invalid settings: {e}")),
        };
        let owner = match settings.owner.as_deref().map(Owner::parse).transpose() {
            Ok(o) => o,
            Err(e) => return outcome(Status::Error, "", "", format!("invalid settings: {e}")),
        };
        if let Some(m) = mode {
            wants.push(format!(
                "permissions {} or more restrictive",
                perm::format_mode(m)
            ));
        }
        if let Some(o) = &settings.owner {
            wants.push(format!("owned by {o}"));
        }
        let expected = wants.join(", ");
        if wants.is_empty() {
            return outcome(
                Status::Error,
                "",
                "",
                "invalid settings: neither mode nor owner",
            );
        }

        let files = match collect(&settings) {
            Ok(files) => files,
            Err(e) => return outcome(Status::Error, expected, "", e),
        };
        if files.is_empty() {
            let mut looked: Vec<&str> = settings.paths.iter().map(String::as_str).collect();
            looked.extend(settings.dirs.iter().map(|t| t.path.as_str()));
            return outcome(
                Status::NotApplicable,
                expected,
                "",
                format!("not present on this node: {}", looked.join(", ")),
            );
        }

        let mut bad = Vec::new();
        let mut good = Vec::new();
        for (path, st, named) in &files {
            let mut ok = true;
            // A directory met while walking a tree needs its search bits:
            // the mode applies to the files in it (and to directories named outright).
            if let Some(m) = mode
                && (*named || st.kind != FileKind::Directory)
            {
                ok &= perm::within(st.mode, m);
            }
            if let Some(o) = &owner {
                ok &= o.matches(st.uid, st.user.as_deref(), st.gid, st.group.as_deref());
            }
            let seen = format!(
                "{path} {} {}",
                perm::format_mode(st.mode),
                perm::format_owner(st.uid, st.user.as_deref(), st.gid, st.group.as_deref())
            );
            if ok { good.push(seen) } else { bad.push(seen) }
        }
        if bad.is_empty() {
            outcome(Status::Pass, expected, summary(&good), "")
        } else {
            outcome(Status::Fail, expected, summary(&bad), "")
        }
    }
}

/// At most a few paths in full, then a count: the report stays readable.
fn summary(lines: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = lines
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if lines.len() > SHOWN {
        s.push_str(&format!("; and {} more", lines.len() - SHOWN));
    }
    s
}

/// The files to judge: (path, stat, whether the settings name it outright).
type Found = Vec<(String, FileStat, bool)>;

fn collect(settings: &Settings) -> Result<Found, String> {
    let mut out = Vec::new();
    for path in &settings.paths {
        if let Some(st) = stat(path)? {
            out.push((path.clone(), st, true));
        }
    }
    for tree in &settings.dirs {
        if let Some(st) = stat(&tree.path)? {
            // A tree's root is judged once, as named when `paths` names it too.
            if tree.suffix.is_none() && !out.iter().any(|(p, _, _)| *p == tree.path) {
                out.push((tree.path.clone(), st, false));
            }
            walk(tree, &tree.path, 0, &mut out)?;
        }
    }
    Ok(out)
}

fn stat(path: &str) -> Result<Option<FileStat>, String> {
    match node::stat(path) {
        Ok(st) => Ok(Some(st)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(format!("stat {path}: {}", Why(&e))),
    }
}

fn walk(tree: &Tree, dir: &str, depth: usize, out: &mut Found) -> Result<(), String> {
    let names = match node::list_dir(dir) {
        Ok(n) => n,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(format!("listing {dir}: {}", Why(&e))),
    };
    for name in names {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        let Some(st) = stat(&path)? else { continue };
        let is_dir = st.kind == FileKind::Directory;
        let wanted = match &tree.suffix {
            Some(suffix) => !is_dir && name.ends_with(suffix.as_str()),
            None => true,
        };
        if wanted {
            out.push((path.clone(), st, false));
        }
        if is_dir && tree.recursive && depth < MAX_DEPTH {
            walk(tree, &path, depth + 1, out)?;
        }
    }
    Ok(())
}

kubecis_sdk::check!(FileCheck);
