//! When a finding is reported again: new findings at once, open ones once per REMIND_AFTER.
//!
//! Without state (no table, no bucket), "already reported" is derived from time alone:
//! - a finding is **new** when CloudTrail records when it began (a trail's StopLoggingTime)
//!   and that was after the previous scheduled run;
//! - every open finding is repeated in the **digest run**: the first run of each REMIND_AFTER
//!   window, windows counted from 00:00 UTC (for the default 24 h: the first run after
//!   midnight UTC).
//!
//! The trade-off: a finding CloudTrail gives no start time for (validation off, selectors,
//! delivery errors, no trail at all) waits for the next digest run, at most REMIND_AFTER. Those
//! changes are alerted in real time by the event path; the net is for when events were lost.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::PostureSettings;

/// Schedules fire within a minute or so of their time; a start this close to the previous run
/// counts as new, so a finding is reported twice rather than never.
const SCHEDULE_SLACK: Duration = Duration::from_secs(5 * 60);

/// When the run is, and how runs and reminders are spaced.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub now: DateTime<Utc>,
    pub interval: Duration,
    pub remind_after: Duration,
}

impl Window {
    /// The window of a run the schedule fired at `time` (RFC 3339; now when absent or
    /// unreadable), so a run is deterministic to test and every account of an organization's
    /// run shares one.
    pub fn at(time: Option<&str>, settings: &PostureSettings) -> Window {
        Window {
            now: time
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or_else(Utc::now, |t| t.with_timezone(&Utc)),
            interval: settings.interval,
            remind_after: settings.remind_after,
        }
    }

    /// Whether a finding that began at `since` began after the previous run.
    pub fn is_new(&self, since: Option<&str>) -> bool {
        let Some(began) = since.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) else {
            return false;
        };
        let window = TimeDelta::from_std(self.interval + SCHEDULE_SLACK).unwrap_or(TimeDelta::MAX);
        began.with_timezone(&Utc) > self.now - window
    }

    /// Whether this run repeats every open finding: the first run of a REMIND_AFTER window.
    pub fn is_digest_run(&self) -> bool {
        let remind = self.remind_after.as_secs();
        if remind == 0 {
            return true;
        }
        let into_window = self.now.timestamp().rem_euclid(remind as i64) as u64;
        into_window < self.interval.as_secs().max(1)
    }

    /// When the next digest run's window opens.
    pub fn next_digest(&self) -> Option<DateTime<Utc>> {
        let remind = self.remind_after.as_secs() as i64;
        if remind == 0 {
            return None;
        }
        let start = self.now.timestamp() - self.now.timestamp().rem_euclid(remind) + remind;
        DateTime::from_timestamp(start, 0)
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

    fn hourly(now: &str) -> Window {
        Window {
            now: at(now),
            interval: Duration::from_secs(3600),
            remind_after: Duration::from_secs(24 * 3600),
        }
    }

    #[test]
    fn the_first_hourly_run_after_midnight_is_the_digest() {
        assert!(hourly("2026-11-29T00:12:00Z").is_digest_run());
        assert!(!hourly("2026-11-29T01:12:00Z").is_digest_run());
        assert!(!hourly("2026-11-29T23:59:00Z").is_digest_run());
        let every_run = Window {
            remind_after: Duration::ZERO,
            ..hourly("2026-11-29T13:00:00Z")
        };
        assert!(every_run.is_digest_run());
        assert_eq!(every_run.next_digest(), None);
        assert_eq!(
            hourly("2026-11-29T13:00:00Z").next_digest(),
            Some(at("2026-11-30T00:00:00Z"))
        );
    }

    #[test]
    fn a_finding_is_new_if_it_began_after_the_previous_run() {
        let window = hourly("2026-11-29T13:00:00Z");
        assert!(window.is_new(Some("2026-11-29T12:30:00Z")));
        assert!(
            window.is_new(Some("2026-11-29T11:58:00Z")),
            "within the slack"
        );
        assert!(!window.is_new(Some("2026-11-29T11:00:00Z")));
        assert!(!window.is_new(None));
        assert!(!window.is_new(Some("yesterday")));
    }

    #[test]
    fn exactly_one_run_per_window_is_the_digest_whatever_the_schedules_offset() {
        for offset_minutes in [0, 7, 59] {
            let digests = (0..48)
                .map(|hour| {
                    let now =
                        at("2026-11-29T00:00:00Z") + TimeDelta::minutes(hour * 60 + offset_minutes);
                    hourly(&now.to_rfc3339()).is_digest_run()
                })
                .filter(|&digest| digest)
                .count();
            assert_eq!(digests, 2, "offset {offset_minutes} min over two days");
        }
    }
}
