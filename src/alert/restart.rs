//! The self-healing part of the alert: what trailwatch did about a StopLogging
//! (AUTO_RESTART_LOGGING).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartOutcome {
    Restarted,
    /// Left alone on purpose (a trusted principal, or a trail that keeps being stopped).
    NotRestarted,
    Failed,
}

/// What self-healing did about a stop, for the alert (`autoRestart`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRestart {
    pub outcome: RestartOutcome,
    pub detail: String,
    /// The trail keeps being stopped: the alert says so at CRITICAL.
    pub keeps_being_stopped: bool,
}
