//! Cron schedules (five fields, or `@hourly`, `@daily`, …; UTC unless a
//! time zone is given) and when a scan is due. A server that was down runs
//! a missed schedule once, not once per slot it missed.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Schedule {
    text: String,
    cron: Cron,
    zone: Tz,
}

impl TryFrom<String> for Schedule {
    type Error = String;
    fn try_from(text: String) -> Result<Schedule, String> {
        Schedule::parse(&text)
    }
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`), as in a config file.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!("{name:?} is not a time zone; expected an IANA name such as UTC or Europe/Berlin")
    })
}

impl Schedule {
    /// A cron expression: minute hour day-of-month month day-of-week, or a
    /// nickname (`@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`),
    /// optionally after `CRON_TZ=<zone>` (or `TZ=<zone>`) as Kubernetes
    /// CronJobs and Rancher's cron fields accept.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut trimmed = text.trim();
        let mut zone = Tz::UTC;
        if let Some(rest) = trimmed
            .strip_prefix("CRON_TZ=")
            .or_else(|| trimmed.strip_prefix("TZ="))
        {
            let (name, cron) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            zone = parse_zone(name)?;
            trimmed = cron.trim();
        }
        let fields = trimmed.split_whitespace().count();
        if !trimmed.starts_with('@') && fields != 5 {
            return Err(format!(
                "has {fields} fields; expected five (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly"
            ));
        }
        let cron = Cron::new(trimmed)
            .parse()
            .map_err(|e| format!("is not a cron expression: {e}"))?;
        Ok(Schedule {
            text: text.trim().to_owned(),
            cron,
            zone,
        })
    }

    /// The same schedule read in another time zone; refused when the
    /// expression already names a different one.
    pub fn in_zone(mut self, zone: Tz) -> Result<Schedule, String> {
        if self.zone != Tz::UTC && self.zone != zone {
            return Err(format!(
                "names time zone {} and the scan's timeZone is {zone}; give one",
                self.zone
            ));
        }
        self.zone = zone;
        Ok(self)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first time the schedule fires after `t`, reading the expression
    /// in its time zone (a 02:30 slot a DST change skips does not fire).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.zone), false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
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
        assert!(e.contains("has 4 fields; expected five"), "{e}");
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("@sometimes").is_err());
        assert!(Schedule::parse("CRON_TZ=Europe/Berlin 0 2 * * *").is_ok());
        let e = Schedule::parse("CRON_TZ=Mars/Olympus 0 2 * * *").unwrap_err();
        assert!(e.contains("not a time zone"), "{e}");
    }

    #[test]
    fn a_time_zone_moves_the_slots() {
        let berlin = Schedule::parse("0 2 * * *")
            .unwrap()
            .in_zone(parse_zone("Europe/Berlin").unwrap())
            .unwrap();
        // 02:00 in Berlin is 01:00 UTC in winter, 00:00 UTC in summer.
        assert_eq!(
            berlin.next_after(at("2026-12-01T12:00:00Z")),
            Some(at("2026-12-02T01:00:00Z"))
        );
        assert_eq!(
            berlin.next_after(at("2026-07-01T12:00:00Z")),
            Some(at("2026-07-02T00:00:00Z"))
        );
        let prefixed = Schedule::parse("CRON_TZ=America/New_York @daily").unwrap();
        assert_eq!(
            prefixed.next_after(at("2026-12-01T12:00:00Z")),
            Some(at("2026-12-02T05:00:00Z"))
        );
        assert!(
            prefixed
                .in_zone(parse_zone("Europe/Berlin").unwrap())
                .is_err()
        );
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
