//! The coverage verdict: after a call that reduced what a trail records, is the account still
//! recorded by a multi-region trail that is logging write management events?
//!
//! "No" is the worst case trailwatch knows (the next call an attacker makes leaves no trace in
//! any trail), so it makes the alert CRITICAL; "yes" names the trails that still record, so a
//! responder knows at a glance how bad it is; "cannot tell" says why and changes nothing.

use serde::Serialize;

use crate::prose::code;
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
            labels(&covering)
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
                labels(candidates.iter().map(|c| &c.label))
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
            labels(unsure)
        ),
    }
}

/// Trail labels (ARNs or names) for a detail, each marked as text from AWS's answers.
fn labels<S: AsRef<str>>(labels: impl IntoIterator<Item = S>) -> String {
    labels
        .into_iter()
        .map(|label| code(label.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
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
