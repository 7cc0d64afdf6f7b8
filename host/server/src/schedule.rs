//! Cron schedules (five fields, or `@hourly`, `@daily`, … in UTC) and when
//! a scan is due. A server that was down runs a missed schedule once, not
//! once per slot it missed.

use chrono::{DateTime, Utc};
use croner::Cron;

#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    /// A cron expression: minute hour day-of-month month day-of-week, or a
    /// nickname (`@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`).
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let trimmed = text.trim();
        let fields = trimmed.split_whitespace().count();
        if !trimmed.starts_with('@') && fields != 5 {
            return Err(format!(
                "{text:?}: expected five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly"
            ));
        }
        let cron = Cron::new(trimmed)
            .parse()
            .map_err(|e| format!("{text:?}: {e}"))?;
        Ok(Schedule {
            text: trimmed.to_owned(),
            cron,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time the schedule fires after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// Whether a run is due at `now`, given the slot the last run was for
    /// (or when the scan was first seen): the latest slot passed, if any
    /// passed since. Several missed slots give one run, for the latest.
    pub fn due(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut slot = self.next_after(last).filter(|s| *s <= now)?;
        // Walk to the latest passed slot; bounded so a per-minute schedule
        // after a year down does not spin long.
        for _ in 0..10_000 {
            match self.next_after(slot) {
                Some(next) if next <= now => slot = next,
                _ => return Some(slot),
            }
        }
        Some(slot)
    }
}

/// What time it is: the system's, or one a test sets.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn expressions_and_their_errors() {
        assert!(Schedule::parse("0 * * * *").is_ok());
        assert!(Schedule::parse("@hourly").is_ok());
        assert!(Schedule::parse("*/15 2 * * 1-5").is_ok());
        let e = Schedule::parse("0 * * *").unwrap_err();
        assert!(e.contains("expected five fields"), "{e}");
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("@sometimes").is_err());
    }

    #[test]
    fn a_missed_schedule_runs_once_for_the_latest_slot() {
        let hourly = Schedule::parse("@hourly").unwrap();
        let last = at("2026-12-01T10:00:00Z");
        assert_eq!(hourly.due(last, at("2026-12-01T10:59:59Z")), None);
        assert_eq!(
            hourly.due(last, at("2026-12-01T11:00:00Z")),
            Some(at("2026-12-01T11:00:00Z"))
        );
        // Down from 10:30 to 15:10: one run, for 15:00.
        assert_eq!(
            hourly.due(last, at("2026-12-01T15:10:00Z")),
            Some(at("2026-12-01T15:00:00Z"))
        );
        let daily = Schedule::parse("30 2 * * *").unwrap();
        assert_eq!(
            daily.next_after(at("2026-12-01T03:00:00Z")),
            Some(at("2026-12-02T02:30:00Z"))
        );
    }
}
