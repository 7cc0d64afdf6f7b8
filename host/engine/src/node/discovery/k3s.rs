//! k3s runs kube-apiserver, kube-controller-manager, kube-scheduler, the
//! kubelet and kube-proxy inside its own `k3s server` (or `k3s agent`)
//! process, and etcd embedded in it. No process shows their arguments: k3s
//! logs each one at start-up (`Running kube-apiserver --advertise-port=6443 …`)
//! and writes embedded etcd's settings to a config file. Discovery gives each
//! component a process with those arguments (under k3s's pid), or marks it
//! unreadable when no log says them.

use super::Discovery;
use super::command::run_bounded;
use super::etcd_config;
use super::version::version_in_text;
use crate::node::{Node, NodePath, Process, Source};
use kubecis_sdk::flags::Flags;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

/// Components k3s embeds: (component, the name k3s logs, whether only `k3s server` runs it).
const EMBEDDED: [(&str, &str, bool); 5] = [
    ("apiserver", "kube-apiserver", true),
    ("controllermanager", "kube-controller-manager", true),
    ("scheduler", "kube-scheduler", true),
    ("kubelet", "kubelet", false),
    ("proxy", "kube-proxy", false),
];

/// Where the install script's OpenRC services (and `--log`) write k3s's log.
const LOG_FILES: [&str; 2] = ["/var/log/k3s.log", "/var/log/k3s-agent.log"];
/// Embedded etcd's settings, written by `k3s server --cluster-init`.
const ETCD_CONFIG: &str = "/var/lib/rancher/k3s/server/db/etcd/config";
const JOURNAL_TIMEOUT: Duration = Duration::from_secs(10);
const JOURNAL_OUTPUT_LIMIT: u64 = 256 << 20;

/// What k3s's log says: the last logged arguments of each component and version.
#[derive(Debug, Default)]
struct Log {
    source: String,
    arguments: BTreeMap<&'static str, Vec<String>>,
    version: Option<String>,
}

impl Log {
    fn read(source: String, reader: impl BufRead) -> Log {
        let mut log = Log {
            source,
            ..Log::default()
        };
        for line in reader.split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line);
            // Nearly every line is neither: skip them without looking further.
            if !line.contains("Running ") && !line.contains("Starting k3s ") {
                continue;
            }
            if let Some(at) = line.find("Starting k3s ") {
                log.version = version_in_text(&line[at..]).or(log.version);
            }
            for (_, name, _) in EMBEDDED {
                if let Some(args) = logged_arguments(&line, name) {
                    log.arguments.insert(name, args);
                }
            }
        }
        log
    }

    fn is_empty(&self) -> bool {
        self.arguments.is_empty() && self.version.is_none()
    }
}

/// The arguments of a `Running NAME …` line, in logrus's text form
/// (`msg="Running kubelet --a=b"`, quotes escaped) or its terminal form
/// (`INFO[0001] Running kubelet --a=b`).
fn logged_arguments(line: &str, name: &str) -> Option<Vec<String>> {
    let marker = format!("Running {name} ");
    let at = line.find(&marker)?;
    let rest = &line[at + marker.len()..];
    let text = if line[..at].ends_with("msg=\"") {
        unquote(rest)
    } else {
        rest.trim_end().to_owned()
    };
    Some(text.split_whitespace().map(str::to_owned).collect())
}

/// A Go-quoted string's content up to its closing quote.
fn unquote(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

impl Discovery {
    /// Components of a running k3s, from its log and its etcd config.
    pub(super) fn find_k3s_components(&mut self, node: &Node) {
        let Some(k3s) = node.processes().iter().find(|p| {
            p.binary.rsplit('/').next() == Some("k3s")
                && matches!(p.args.first().map(String::as_str), Some("server" | "agent"))
        }) else {
            return;
        };
        let server = k3s.args[0] == "server";
        let log = read_log(node, k3s);
        for (component, name, server_only) in EMBEDDED {
            if server_only && !server {
                continue;
            }
            match log.as_ref().and_then(|l| Some((l, l.arguments.get(name)?))) {
                Some((log, args)) => {
                    self.adopt(
                        component,
                        k3s,
                        name,
                        args.clone(),
                        format!("the last `Running {name}` line of {}", log.source),
                    );
                }
                // A log that does not name a component: k3s was told not to run it.
                None if log.is_some() => {}
                None => {
                    self.unreadable.insert(
                        component,
                        format!(
                            "k3s (pid {}) runs {name} inside its own process and logs its arguments \
                             only at start-up; no k3s log was found ({}, the journal of k3s.service)",
                            k3s.pid,
                            LOG_FILES.join(", ")
                        ),
                    );
                }
            }
        }
        if server {
            self.find_k3s_etcd(node, k3s);
        }
        self.k3s_version = log.and_then(|l| {
            let v = l.version?;
            Some((v, format!("`Starting k3s` in {}", l.source)))
        });
    }

    /// Embedded etcd runs when k3s wrote its config file.
    fn find_k3s_etcd(&mut self, node: &Node, k3s: &Process) {
        let Some(path) = NodePath::parse(ETCD_CONFIG) else {
            return;
        };
        if node.stat(&path).is_err() {
            return;
        }
        match etcd_config::read(node, &path) {
            Ok(args) => self.adopt(
                "etcd",
                k3s,
                "etcd",
                args,
                format!("k3s's embedded etcd config {path}"),
            ),
            Err(e) => {
                self.unreadable.insert(
                    "etcd",
                    format!("k3s runs etcd embedded; its settings cannot be read: {e}"),
                );
            }
        }
    }

    /// A component that runs inside another process, with arguments read elsewhere.
    fn adopt(
        &mut self,
        component: &'static str,
        host: &Process,
        name: &str,
        args: Vec<String>,
        from: String,
    ) {
        self.running.insert(
            component,
            vec![Process {
                pid: host.pid,
                binary: name.to_owned(),
                args,
            }],
        );
        self.arguments_from.insert(component, from);
    }
}

/// k3s's log: its `--log` file, the OpenRC log files, else the journal.
/// Most bytes of a k3s log read: a log is read line by line, but a file of
/// gigabytes (or one without line ends) must not hold the scan.
const MAX_LOG_BYTES: u64 = 512 << 20;

fn read_log(node: &Node, k3s: &Process) -> Option<Log> {
    let flags = Flags::parse(&k3s.args[1..]);
    let given = flags.get("log").or_else(|| flags.get("l"));
    let files = given
        .iter()
        .map(|g| g.to_string())
        .chain(LOG_FILES.map(String::from));
    for file in files {
        let Some(path) = NodePath::parse(&file) else {
            continue;
        };
        if let Ok(f) = node.open_file(&path) {
            let log = Log::read(path.to_string(), BufReader::new(f.take(MAX_LOG_BYTES)));
            if !log.is_empty() {
                return Some(log);
            }
        }
    }
    read_journal(node)
}

/// `journalctl` on the node's journal (the root's `/var/log/journal` when scanning a root).
fn read_journal(node: &Node) -> Option<Log> {
    let journalctl = ["/usr/bin/journalctl", "/bin/journalctl"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())?;
    let directory;
    let mut args = vec![
        "--no-pager",
        "--output=cat",
        "--unit=k3s",
        "--unit=k3s-agent",
        "--grep=Starting k3s |Running kube",
    ];
    let source = match node.source() {
        Source::Live => "the journal of k3s.service".to_owned(),
        Source::Root(root) => {
            let dir = root.join("var/log/journal");
            if !dir.is_dir() {
                return None;
            }
            directory = format!("--directory={}", dir.display());
            args.push(&directory);
            format!("the journal in {}", dir.display())
        }
    };
    let out = run_bounded(journalctl, &args, JOURNAL_TIMEOUT, JOURNAL_OUTPUT_LIMIT)?;
    let log = Log::read(source, out.as_bytes());
    (!log.is_empty()).then_some(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_from_both_log_forms() {
        let text = concat!(
            "time=\"2024-06-01T10:00:00Z\" level=info msg=\"Starting k3s v1.28.10+k3s1 (a4c5612e)\"\n",
            "time=\"2024-06-01T10:00:01Z\" level=info msg=\"Running kube-apiserver --profiling=false --anonymous-auth=false\"\n",
            "INFO[0001] Running kube-scheduler --bind-address=127.0.0.1 --profiling=false\n",
            "time=\"2024-06-01T10:00:02Z\" level=info msg=\"Running kubelet --node-labels=a=\\\"b\\\" --read-only-port=0\"\n",
            "time=\"2024-06-01T10:00:03Z\" level=info msg=\"Running cloud-controller-manager --profiling=true\"\n",
            "time=\"2024-06-02T10:00:01Z\" level=info msg=\"Running kube-apiserver --profiling=true\"\n",
        );
        let log = Log::read("k3s.log".into(), text.as_bytes());
        assert_eq!(log.version.as_deref(), Some("1.28.10"));
        // The last start wins.
        assert_eq!(log.arguments["kube-apiserver"], ["--profiling=true"]);
        assert_eq!(
            log.arguments["kube-scheduler"],
            ["--bind-address=127.0.0.1", "--profiling=false"]
        );
        assert_eq!(
            log.arguments["kubelet"],
            ["--node-labels=a=\"b\"", "--read-only-port=0"]
        );
        assert!(!log.arguments.contains_key("kube-proxy"));
        assert_eq!(log.arguments.len(), 3);
    }

    #[test]
    fn lines_that_only_mention_a_component_are_not_its_arguments() {
        assert_eq!(
            logged_arguments(
                "msg=\"Waiting for kube-apiserver to be ready\"",
                "kube-apiserver"
            ),
            None
        );
        assert_eq!(
            logged_arguments("msg=\"Running kubelet-plugin --x\"", "kubelet"),
            None
        );
    }
}
