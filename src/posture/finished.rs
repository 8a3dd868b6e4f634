//! The line every posture run that got to its end writes once, `check=posture
//! outcome=finished`: the template's dead man's switch counts it, so a run that stops early
//! (a crash, a timeout, an organization's run whose accounts never all answered) is noticed.

use std::time::Instant;

use tracing::{error, info, warn};

use crate::config::SignalLevel;
use crate::render::escape::LogText;
use crate::severity::Severity;

/// What the run found, for its one "finished" line.
pub struct RunLog {
    pub started: Instant,
    /// Accounts checked: 1 for one account's run.
    pub accounts: usize,
    pub regions: usize,
    pub trails: usize,
    pub findings: usize,
    pub new_findings: usize,
    pub worst: Option<Severity>,
    /// The dead man's switch counts the line, so it is written at a level Lambda keeps.
    pub level: SignalLevel,
}

impl RunLog {
    /// The dead man's switch counts this line: every run that got this far logs it once, at
    /// INFO or at the function's log level when that is higher (the switch's metric filter
    /// matches the message in JSON and in text).
    pub fn finished(&self, status: &str, message_id: Option<&str>) {
        macro_rules! finished_at {
            ($event:ident) => {
                $event!(
                    check = "posture",
                    outcome = "finished",
                    status,
                    accounts = self.accounts,
                    regions = self.regions,
                    trails = self.trails,
                    findings = self.findings,
                    new_findings = self.new_findings,
                    worst = %self.worst.map_or("none", Severity::label),
                    message_id = %LogText(message_id),
                    duration_ms = self.started.elapsed().as_millis() as u64,
                    "posture check finished"
                )
            };
        }
        match self.level {
            SignalLevel::Info => finished_at!(info),
            SignalLevel::Warn => finished_at!(warn),
            SignalLevel::Error => finished_at!(error),
        }
    }
}
