//! The coverage verdict: after a call that reduced what a trail records, is the account still
//! recorded by a multi-region trail that is logging write management events?
//!
//! "No" is the worst case trailwatch knows (the next call an attacker makes leaves no trace in
//! any trail), so it makes the alert CRITICAL; "yes" names the trails that still record, so a
//! responder knows at a glance how bad it is; "cannot tell" says why and changes nothing.

use serde::Serialize;

use crate::enrich::{all_within, Lookups};
use crate::resource::{SelectorSummary, TrailConfig, TrailStatus};

/// The verdict is wanted; for a stop or a delete the call's own trail no longer counts,
/// whatever the (possibly stale) lookups say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageScope {
    pub exclude_affected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Covered,
    Uncovered,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub verdict: Verdict,
    /// The multi-region trails still recording the account (ARNs, or names when unknown).
    pub covering_trails: Vec<String>,
    pub detail: String,
}

/// The reason a CRITICAL uncovered verdict gives; tests and readers look for these words.
pub const NONE_LEFT: &str = "no active multi-region trail remains";

/// A multi-region trail and what the lookups said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub is_logging: Option<bool>,
    pub records_writes: Option<bool>,
}

impl Candidate {
    pub fn from_state(
        trail: &TrailConfig,
        status: Option<&TrailStatus>,
        selectors: Option<&SelectorSummary>,
    ) -> Candidate {
        Candidate {
            label: trail
                .arn
                .clone()
                .unwrap_or_else(|| trail.label().to_string()),
            is_logging: status.and_then(|s| s.is_logging),
            records_writes: selectors.and_then(SelectorSummary::records_writes),
        }
    }

    fn covers(&self) -> bool {
        self.is_logging == Some(true) && self.records_writes == Some(true)
    }

    fn certainly_does_not_cover(&self) -> bool {
        self.is_logging == Some(false) || self.records_writes == Some(false)
    }
}

/// The verdict from what is known about each candidate.
pub fn verdict(candidates: &[Candidate]) -> Coverage {
    let covering: Vec<String> = candidates
        .iter()
        .filter(|c| c.covers())
        .map(|c| c.label.clone())
        .collect();
    if !covering.is_empty() {
        let detail = format!(
            "the account is still recorded by {} {}",
            if covering.len() == 1 {
                "multi-region trail"
            } else {
                "multi-region trails"
            },
            covering.join(", ")
        );
        return Coverage {
            verdict: Verdict::Covered,
            covering_trails: covering,
            detail,
        };
    }
    let unsure: Vec<&str> = candidates
        .iter()
        .filter(|c| !c.certainly_does_not_cover())
        .map(|c| c.label.as_str())
        .collect();
    if unsure.is_empty() {
        let detail = if candidates.is_empty() {
            format!("{NONE_LEFT}: no other multi-region trail applies to this account")
        } else {
            format!(
                "{NONE_LEFT}: the other multi-region trails ({}) are not logging or do not record write management events",
                candidates.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        return Coverage {
            verdict: Verdict::Uncovered,
            covering_trails: Vec::new(),
            detail,
        };
    }
    Coverage {
        verdict: Verdict::Unknown,
        covering_trails: Vec::new(),
        detail: format!(
            "could not tell whether {} still record the account's write management events",
            unsure.join(", ")
        ),
    }
}

/// Looks up every multi-region trail that applies to the event's account (except the call's
/// own when the scope excludes it) and returns the verdict. `trails` is the DescribeTrails
/// answer of region `listed_in`; `affected` is the call's own trail with what is already known of it.
pub async fn assess(
    lookups: &Lookups<'_>,
    scope: CoverageScope,
    trails: &[TrailConfig],
    affected: Option<(&TrailConfig, Candidate)>,
    affected_name: &str,
    event_account: Option<&str>,
    listed_in: &str,
) -> Coverage {
    if let (Some(home), Some(event)) = (lookups.home_account, event_account) {
        if home != event {
            return Coverage {
                verdict: Verdict::Unknown,
                covering_trails: Vec::new(),
                detail: format!(
                    "account {event}'s trails are not visible from account {home}, where trailwatch runs"
                ),
            };
        }
    }
    let is_affected = |trail: &TrailConfig| match affected {
        Some((own, _)) => {
            (trail.arn.is_some() && trail.arn == own.arn) || trail.is_named(affected_name)
        }
        None => trail.is_named(affected_name),
    };
    let applies = |trail: &TrailConfig| {
        let account = trail.arn.as_deref().and_then(crate::arn::Arn::account_of);
        event_account.is_none()
            || account.as_deref() == event_account
            || trail.is_organization_trail == Some(true)
    };
    let others: Vec<&TrailConfig> = trails
        .iter()
        .filter(|t| t.is_multi_region_trail == Some(true) && applies(t) && !is_affected(t))
        .collect();
    let answers = all_within(
        lookups.deadline,
        others
            .iter()
            .map(|trail| async move {
                let id = trail.arn.as_deref().unwrap_or(trail.label());
                // A trail is asked about in its home region; DescribeTrails always says which,
                // but if it did not, the region it was listed in also knows the trail.
                let region = trail.home_region.as_deref().unwrap_or(listed_in);
                tokio::join!(
                    lookups.inspector.trail_status(id, region),
                    lookups.inspector.event_selectors(id, region)
                )
            })
            .collect(),
    )
    .await;
    let mut candidates: Vec<Candidate> = others
        .iter()
        .zip(answers)
        .map(|(trail, answer)| {
            let (status, selectors) = match answer {
                Some((status, selectors)) => (status.ok(), selectors.ok()),
                None => (None, None),
            };
            Candidate::from_state(trail, status.as_ref(), selectors.as_ref())
        })
        .collect();
    if !scope.exclude_affected {
        if let Some((own, known)) = affected {
            if own.is_multi_region_trail == Some(true) {
                candidates.insert(0, known);
            }
        }
    }
    verdict(&candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(label: &str, is_logging: Option<bool>, records_writes: Option<bool>) -> Candidate {
        Candidate {
            label: label.into(),
            is_logging,
            records_writes,
        }
    }

    #[test]
    fn one_logging_trail_that_records_writes_covers() {
        let coverage = verdict(&[
            candidate("a", Some(false), Some(true)),
            candidate("b", Some(true), Some(true)),
        ]);
        assert_eq!(coverage.verdict, Verdict::Covered);
        assert_eq!(coverage.covering_trails, ["b"]);
    }

    #[test]
    fn nothing_left_is_uncovered() {
        assert_eq!(verdict(&[]).verdict, Verdict::Uncovered);
        assert!(verdict(&[]).detail.starts_with(NONE_LEFT));
        let read_only = verdict(&[candidate("a", Some(true), Some(false))]);
        assert_eq!(read_only.verdict, Verdict::Uncovered);
    }

    #[test]
    fn what_cannot_be_read_is_unknown_not_uncovered() {
        let coverage = verdict(&[
            candidate("a", Some(false), None),
            candidate("b", None, Some(true)),
        ]);
        assert_eq!(coverage.verdict, Verdict::Unknown);
        assert!(coverage.detail.contains('b'));
    }
}
