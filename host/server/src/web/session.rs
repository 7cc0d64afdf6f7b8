//! Dashboard sessions: a random id in an HttpOnly, SameSite=Strict cookie,
//! kept in this process for 12 hours (a restart signs everyone out), each
//! with its own CSRF token for the forms that change something.

use crate::config::Role;
use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const COOKIE: &str = "kubecis_session";
const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Session {
    /// The token's name in the config.
    pub name: String,
    pub role: Role,
    pub csrf: String,
    started: Instant,
}

#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// A new session's id.
    pub fn start(&self, name: &str, role: Role, now: Instant) -> String {
        let id = random_hex();
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, s| now.duration_since(s.started) < LIFETIME);
        if all.len() >= MAX_SESSIONS
            && let Some(oldest) = all
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone())
        {
            all.remove(&oldest);
        }
        all.insert(
            id.clone(),
            Session {
                name: name.to_owned(),
                role,
                csrf: random_hex(),
                started: now,
            },
        );
        id
    }

    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.get(id)
            .filter(|s| now.duration_since(s.started) < LIFETIME)
            .cloned()
    }

    pub fn end(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// The session id a request's cookie carries.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        LIFETIME.as_secs()
    )
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Compares two tokens in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let sessions = Sessions::default();
        let t = Instant::now();
        let id = sessions.start("ops", Role::Admin, t);
        assert_eq!(id.len(), 64);
        let s = sessions.get(&id, t).unwrap();
        assert_eq!((s.name.as_str(), s.role), ("ops", Role::Admin));
        assert_ne!(s.csrf, id);
        assert!(sessions.get(&id, t + LIFETIME).is_none());
        sessions.end(&id);
        assert!(sessions.get(&id, t).is_none());
    }

    #[test]
    fn only_a_well_formed_session_cookie_is_read() {
        let mut h = HeaderMap::new();
        let id = "a".repeat(64);
        h.insert(
            header::COOKIE,
            format!("x=1; {COOKIE}={id}").parse().unwrap(),
        );
        assert_eq!(cookie(&h), Some(id));
        h.insert(header::COOKIE, format!("{COOKIE}=../etc").parse().unwrap());
        assert_eq!(cookie(&h), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
