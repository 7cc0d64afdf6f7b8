//! User and group names from the node's own /etc/passwd and /etc/group.

use cap_std::fs::Dir;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Names {
    pub fn read(root: &Dir) -> Names {
        Names {
            users: table(root, "etc/passwd"),
            groups: table(root, "etc/group"),
        }
    }

    pub fn user(&self, uid: u32) -> Option<String> {
        self.users.get(&uid).cloned()
    }

    pub fn group(&self, gid: u32) -> Option<String> {
        self.groups.get(&gid).cloned()
    }
}

/// Most bytes of `etc/passwd` or `etc/group` read (a node with a huge one keeps ids as numbers).
const MAX_TABLE_BYTES: u64 = 16 << 20;

/// `name:x:id:...` lines; the first name of an id wins, as getpwuid does.
fn table(root: &Dir, path: &str) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    let text = match super::read::open_regular_in(root, std::path::Path::new(path))
        .and_then(|f| super::read::bounded(f, MAX_TABLE_BYTES))
    {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => return names,
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split(':');
        if let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next())
            && let Ok(id) = id.parse()
        {
            names.entry(id).or_insert_with(|| name.to_owned());
        }
    }
    names
}
