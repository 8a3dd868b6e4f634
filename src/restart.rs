//! Opt-in self-healing: answer a StopLogging with StartLogging (AUTO_RESTART_LOGGING=true).
//!
//! Only a successful StopLogging by a principal that is not trusted is answered; DeleteTrail is
//! never undone (the alert says how to recreate the trail). If the trail was started less than
//! [`REPEAT_WINDOW`] before this stop, someone keeps stopping it: trailwatch does not fight
//! them, it says so at CRITICAL. Whether it restarted, and why not, goes into the alert
//! ([`crate::assemble::with_restart`]).
//!
//! The risk, also in docs/safety-net.md: a change window that stops a trail on purpose is undone unless
//! its principal is in TRUSTED_PRINCIPALS, and the function's role can start any trail.

use crate::alert::restart::{AutoRestart, RestartOutcome};
use crate::call::ApiCall;
use crate::enrichment::Enrichment;
use crate::inspector::LookupError;
use crate::prose::code;
use crate::resource::{Resource, ResourceState};
use crate::shape::is_region;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta};

/// A stop this soon after the trail's last start is a repeat.
pub const REPEAT_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// The one write trailwatch can make, behind its own narrow trait.
#[async_trait]
pub trait LoggingRestarter: Send + Sync {
    /// `StartLogging` on the trail (a name or an ARN), in its home region.
    async fn start_logging(&self, trail: &str, region: &str) -> Result<(), LookupError>;
}

/// The restarter when AUTO_RESTART_LOGGING is off: never asked, never writes.
pub struct NoRestart;

#[async_trait]
impl LoggingRestarter for NoRestart {
    async fn start_logging(&self, _trail: &str, _region: &str) -> Result<(), LookupError> {
        Err(LookupError {
            code: None,
            message: "AUTO_RESTART_LOGGING is off".to_string(),
        })
    }
}

/// Answers the stop, when it is one to answer; `None` when self-healing has nothing to say
/// (it is off, or the call is not a successful StopLogging).
pub async fn answer_stop(
    enabled: bool,
    call: &ApiCall,
    resource: Option<&Resource>,
    enrichment: &Enrichment,
    trusted_by: Option<&str>,
    member_account: Option<&str>,
    restarter: &dyn LoggingRestarter,
) -> Option<AutoRestart> {
    if !enabled || call.name != "StopLogging" || !call.succeeded() {
        return None;
    }
    let not_restarted = |detail: String, keeps_being_stopped: bool| AutoRestart {
        outcome: RestartOutcome::NotRestarted,
        detail,
        keeps_being_stopped,
    };
    if let Some(pattern) = trusted_by {
        return Some(not_restarted(
            format!("not restarted: a trusted principal ({pattern}) stopped it"),
            false,
        ));
    }
    // trailwatch's role in a member account only reads: it cannot, and must not, start a
    // trail there (and a trail of the same name here is someone else's).
    if let Some(account) = member_account {
        return Some(not_restarted(
            format!("not restarted: the trail is in member account {}, where trailwatch's role only reads", code(account)),
            false,
        ));
    }
    let Some(resource) = resource else {
        return Some(not_restarted(
            "not restarted: the event names no trail".to_string(),
            false,
        ));
    };
    if let Some(started) = restarted_recently(call, enrichment) {
        return Some(not_restarted(
            format!("not restarted: logging keeps being stopped (it was started at {}, less than {} minutes before this stop); restarting again would only fight whoever is stopping it", code(&started), REPEAT_WINDOW.num_minutes()),
            true,
        ));
    }
    let region = resource
        .lookup_region()
        .or(call.region.as_deref().filter(|r| is_region(r)))
        .unwrap_or_default();
    Some(
        match restarter.start_logging(resource.lookup_id(), region).await {
            Ok(()) => AutoRestart {
                outcome: RestartOutcome::Restarted,
                detail:
                    "trailwatch restarted logging (AUTO_RESTART_LOGGING): StartLogging succeeded"
                        .to_string(),
                keeps_being_stopped: false,
            },
            Err(error) => AutoRestart {
                outcome: RestartOutcome::Failed,
                detail: format!(
                    "trailwatch tried to restart logging and failed: {}",
                    code(&error.to_string())
                ),
                keeps_being_stopped: false,
            },
        },
    )
}

/// The trail's last start, when it was within [`REPEAT_WINDOW`] before this stop.
fn restarted_recently(call: &ApiCall, enrichment: &Enrichment) -> Option<String> {
    let ResourceState::Trail {
        status: Some(status),
        ..
    } = &enrichment.state
    else {
        return None;
    };
    let started_text = status.start_logging_time.as_deref()?;
    let started = DateTime::parse_from_rfc3339(started_text).ok()?;
    let stopped = call
        .time
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?;
    let gap = stopped.signed_duration_since(started);
    (gap >= TimeDelta::zero() && gap < REPEAT_WINDOW).then(|| started_text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{ResourceKind, TrailStatus};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recording {
        calls: Mutex<Vec<(String, String)>>,
        fail: bool,
    }

    #[async_trait]
    impl LoggingRestarter for Recording {
        async fn start_logging(&self, trail: &str, region: &str) -> Result<(), LookupError> {
            self.calls
                .lock()
                .unwrap()
                .push((trail.to_string(), region.to_string()));
            if self.fail {
                return Err(LookupError {
                    code: Some("AccessDeniedException".into()),
                    message: "not authorized".into(),
                });
            }
            Ok(())
        }
    }

    fn stop(at: &str) -> ApiCall {
        ApiCall {
            time: Some(at.into()),
            ..ApiCall::bare("cloudtrail.amazonaws.com", "StopLogging", "111122223333")
        }
    }

    fn trail() -> Resource {
        Resource {
            kind: ResourceKind::Trail,
            name: Some("management-events".into()),
            arn: Some("arn:aws:cloudtrail:eu-west-1:111122223333:trail/management-events".into()),
            region: Some("eu-west-1".into()),
            account: Some("111122223333".into()),
            given: "management-events".into(),
        }
    }

    fn started_at(time: &str) -> Enrichment {
        Enrichment {
            state: ResourceState::Trail {
                status: Some(TrailStatus {
                    is_logging: Some(false),
                    start_logging_time: Some(time.into()),
                    ..TrailStatus::default()
                }),
                config: None,
                event_selectors: None,
            },
            ..Enrichment::default()
        }
    }

    /// Self-healing's answer to a stop of the trail in the function's own account.
    async fn at_home(
        enabled: bool,
        call: &ApiCall,
        state: &Enrichment,
        trusted_by: Option<&str>,
        restarter: &Recording,
    ) -> Option<AutoRestart> {
        answer_stop(
            enabled,
            call,
            Some(&trail()),
            state,
            trusted_by,
            None,
            restarter,
        )
        .await
    }

    /// Self-healing's answer to a first untrusted stop of the trail, in `member_account` or in
    /// the function's own.
    async fn first_stop(restarter: &Recording, member_account: Option<&str>) -> AutoRestart {
        let call = stop("2026-11-29T10:00:00Z");
        answer_stop(
            true,
            &call,
            Some(&trail()),
            &started_at("2026-11-01T00:00:00Z"),
            None,
            member_account,
            restarter,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_first_stop_is_restarted_in_the_trails_home_region() {
        let restarter = Recording::default();
        let answer = first_stop(&restarter, None).await;
        assert_eq!(answer.outcome, RestartOutcome::Restarted);
        assert_eq!(
            restarter.calls.lock().unwrap().as_slice(),
            [(
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management-events".to_string(),
                "eu-west-1".to_string()
            )]
        );
    }

    #[tokio::test]
    async fn off_trusted_repeated_and_failed_stops_say_why() {
        let call = stop("2026-11-29T10:00:00Z");
        let old_start = started_at("2026-11-01T00:00:00Z");
        let restarter = Recording::default();
        assert_eq!(
            at_home(false, &call, &old_start, None, &restarter).await,
            None
        );
        let trusted = at_home(
            true,
            &call,
            &old_start,
            Some("arn:aws:iam::111122223333:role/deploy-*"),
            &restarter,
        )
        .await
        .unwrap();
        assert_eq!(trusted.outcome, RestartOutcome::NotRestarted);
        let repeated = at_home(
            true,
            &call,
            &started_at("2026-11-29T09:50:00Z"),
            None,
            &restarter,
        )
        .await
        .unwrap();
        assert!(repeated.keeps_being_stopped);
        assert!(restarter.calls.lock().unwrap().is_empty(), "never asked");
        let failing = Recording {
            fail: true,
            ..Recording::default()
        };
        let failed = at_home(true, &call, &old_start, None, &failing)
            .await
            .unwrap();
        assert_eq!(failed.outcome, RestartOutcome::Failed);
        assert!(
            failed.detail.contains("AccessDeniedException"),
            "{}",
            failed.detail
        );
        let mut denied = stop("2026-11-29T10:00:00Z");
        denied.error = Some(crate::call::CallError {
            code: "AccessDenied".into(),
            message: None,
        });
        assert_eq!(
            at_home(true, &denied, &old_start, None, &restarter).await,
            None
        );
    }

    #[tokio::test]
    async fn a_member_accounts_trail_is_never_started_from_here() {
        let restarter = Recording::default();
        let answer = first_stop(&restarter, Some("444455556666")).await;
        assert_eq!(answer.outcome, RestartOutcome::NotRestarted);
        assert!(answer.detail.contains("444455556666"), "{}", answer.detail);
        assert!(restarter.calls.lock().unwrap().is_empty(), "never asked");
    }
}
