//! File permission and ownership rules.

/// Parse an octal mode such as `600`, `0644` or `permissions=600`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.trim().trim_start_matches("permissions=");
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("{text:?} is not an octal file mode"))
}

/// Whether `mode` sets no permission bit that `allowed` does not.
pub fn within(mode: u32, allowed: u32) -> bool {
    mode & 0o7777 & !allowed == 0
}

/// A mode as `ls` users read it: `600`, `1777`.
pub fn format_mode(mode: u32) -> String {
    format!("{:o}", mode & 0o7777)
}

/// An owner a file must have, written `user:group` (names or numeric ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    user: String,
    group: String,
}

impl Owner {
    pub fn parse(text: &str) -> Result<Owner, String> {
        match text.split_once(':') {
            Some((u, g)) if !u.is_empty() && !g.is_empty() => Ok(Owner {
                user: u.to_owned(),
                group: g.to_owned(),
            }),
            _ => Err(format!("{text:?} is not user:group")),
        }
    }

    /// Whether a file with these ids (and names, where the node knows them) matches.
    pub fn matches(&self, uid: u32, user: Option<&str>, gid: u32, group: Option<&str>) -> bool {
        same(&self.user, uid, user) && same(&self.group, gid, group)
    }
}

fn same(want: &str, id: u32, name: Option<&str>) -> bool {
    match want.parse::<u32>() {
        Ok(want_id) => want_id == id,
        // `root` is uid/gid 0 even on a root without /etc/passwd.
        Err(_) => name.map_or(want == "root" && id == 0, |n| n == want),
    }
}

/// `user:group` as found, names where known, ids otherwise.
pub fn format_owner(uid: u32, user: Option<&str>, gid: u32, group: Option<&str>) -> String {
    let u = user.map_or_else(|| uid.to_string(), str::to_owned);
    let g = group.map_or_else(|| gid.to_string(), str::to_owned);
    format!("{u}:{g}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode("permissions=600"), Ok(0o600));
        assert_eq!(parse_mode("0644"), Ok(0o644));
        assert!(parse_mode("rw-r--r--").is_err());
        assert!(within(0o400, 0o600));
        assert!(!within(0o640, 0o600));
        assert_eq!(format_mode(0o100644), "644");
    }

    #[test]
    fn owners() {
        let root = Owner::parse("root:root").unwrap();
        assert!(root.matches(0, Some("root"), 0, Some("root")));
        assert!(root.matches(0, None, 0, None));
        assert!(!root.matches(1000, Some("admin"), 0, Some("root")));
        let etcd = Owner::parse("etcd:etcd").unwrap();
        assert!(etcd.matches(998, Some("etcd"), 998, Some("etcd")));
        assert!(!etcd.matches(998, None, 998, None));
        assert!(Owner::parse("root").is_err());
        assert_eq!(format_owner(998, None, 0, Some("root")), "998:root");
    }
}
