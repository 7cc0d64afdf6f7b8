//! What the service benchmarks share: a `kubecis serve` started on loopback,
//! plain HTTP requests to it, and a process's peak memory.
// Each benchmark uses part of this.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The admin's token (and, where one is needed, the agents' is another).
pub const TOKEN: &str = "bench-admin-token-0123456789";
pub const AGENT_TOKEN: &str = "bench-agent-token-0123456789";

/// A `kubecis serve` in `dir` whose config ends with `rest` (its scans):
/// the process and the address it listens on.
pub fn start_server(dir: &Path, rest: &str) -> (Child, String) {
    std::fs::write(dir.join("admin.token"), TOKEN).unwrap();
    std::fs::write(dir.join("agent.token"), AGENT_TOKEN).unwrap();
    std::fs::write(
        dir.join("serve.yaml"),
        format!(
            "listen: 127.0.0.1:0\ndataDir: data\nagentTimeout: 1h\nmaxActiveJobs: 5\ntokens:\n  - {{name: admin, role: admin, tokenFile: admin.token}}\n  - {{name: agents, role: agent, tokenFile: agent.token}}\n{rest}"
        ),
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_kubecis"))
        .args(["serve", "--config"])
        .arg(dir.join("serve.yaml"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first
        .trim_start_matches("kubecis serve: listening on http://")
        .to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (server, address)
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
pub fn request(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(address).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |p| p + 4);
    let status = String::from_utf8_lossy(&answer[..split.min(answer.len())])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer[split..].to_vec())
}

/// A process's peak resident memory, in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Signs in to the dashboard with the admin's token: the session cookie.
pub fn sign_in(address: &str) -> String {
    let form = format!("token={TOKEN}");
    let mut s = TcpStream::connect(address).unwrap();
    write!(
        s,
        "POST /ui/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// A dashboard page with a session: (status, its size in bytes).
pub fn page(address: &str, path: &str, cookie: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(address).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let status = String::from_utf8_lossy(&answer[..12.min(answer.len())])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer.len())
}
