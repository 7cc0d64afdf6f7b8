//! YAML from outside (node config files, bundles, skip and options files)
//! read without trusting it: aliases may not expand a small file into a huge
//! document, and a parse error names the line but never echoes the text.

use serde::de::DeserializeOwned;
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};

/// Why a YAML (or JSON) document was refused: where, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

/// Most nodes aliases may add to a document beyond those written in it: a
/// billion-laughs file of a kilobyte would otherwise expand to gigabytes.
const MAX_ALIAS_NODES: usize = 100_000;

/// Parses YAML (or JSON) into `T`; the error says where and what was
/// expected, with any quoted text of the file left out.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    // Aliases need a `*`: most files have none and skip the second pass.
    if text.contains('*') {
        check_aliases(text).map_err(YamlError)?;
    }
    serde_yaml_ng::from_str(text).map_err(|e| YamlError(without_quotes(&e.to_string())))
}

/// Counts the nodes each alias stands for, refusing a document whose aliases
/// add more than [`MAX_ALIAS_NODES`].
fn check_aliases(text: &str) -> Result<(), String> {
    let mut parser = Parser::new_from_str(text);
    // Per anchor: its size in nodes once known; open collections: their anchor and start count.
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let (mut nodes, mut added) = (0usize, 0usize);
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| without_quotes(&e.to_string()))?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Scalar(_, _, anchor, _) => {
                nodes += 1;
                if anchor > 0 {
                    sizes.insert(anchor, 1);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                nodes += 1;
                open.push((anchor, nodes));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = open.pop()
                    && anchor > 0
                {
                    sizes.insert(anchor, nodes - start + 1);
                }
            }
            Event::Alias(anchor) => {
                let size = sizes.get(&anchor).copied().unwrap_or(1);
                nodes = nodes.saturating_add(size);
                added = added.saturating_add(size);
                if added > MAX_ALIAS_NODES {
                    return Err(format!(
                        "aliases expand the document past {MAX_ALIAS_NODES} nodes at line {}; refused",
                        mark.line()
                    ));
                }
            }
            _ => {}
        }
    }
}

/// A parser's message with quoted text of the file removed: `invalid type:
/// string "root:x:0:0:…", expected …` becomes `invalid type: string, expected …`.
/// Backquoted names are kept when they are identifiers (fields, variants).
fn without_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut escaped = false;
                for q in chars.by_ref() {
                    match q {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                if out.ends_with(' ') && chars.peek().is_some_and(|n| *n == ',' || *n == ' ') {
                    out.pop();
                }
            }
            '`' => {
                // Field and variant names of a schema are identifiers; anything
                // else in backquotes is the file's own text.
                let name: String = chars.by_ref().take_while(|q| *q != '`').collect();
                let identifier = name.len() <= 40
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
                if identifier {
                    out.push('`');
                    out.push_str(&name);
                    out.push('`');
                } else {
                    out.push_str("(a key that is not a name)");
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn small_aliases_read_and_a_billion_laughs_is_refused() {
        let ok: Value = from_str("base: &b {a: 1}\nfirst: *b\nsecond: *b\n").unwrap();
        assert_eq!(ok["second"]["a"], 1);
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(bomb.len() < 1024);
        let err = from_str::<Value>(&bomb).unwrap_err().0;
        assert!(err.contains("aliases expand"), "{err}");
    }

    #[test]
    fn a_wide_alias_repeated_is_counted_by_its_size() {
        let mut doc = String::from("big: &big [");
        doc.push_str(&"1, ".repeat(5_000));
        doc.push_str("1]\nrefs: [");
        doc.push_str(&"*big, ".repeat(40));
        doc.push_str("*big]\n");
        let err = from_str::<Value>(&doc).unwrap_err().0;
        assert!(err.contains("aliases expand"), "{err}");
    }

    #[test]
    fn errors_do_not_echo_the_file() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Section {
            n: u32,
        }
        let err = from_str::<Section>("n: \"secretbody\"\n").unwrap_err().0;
        assert!(!err.contains("secretbody"), "{err}");
        assert!(err.contains("line 1"), "{err}");
        let named = without_quotes("unknown field `chekc`, expected one of `check`");
        assert_eq!(named, "unknown field `chekc`, expected one of `check`");
        let text = without_quotes("unknown field `root:$6$salt$hash:19000`, expected `id`");
        assert_eq!(
            text,
            "unknown field (a key that is not a name), expected `id`"
        );
    }
}
