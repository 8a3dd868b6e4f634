//! The lookups' plumbing: one deadline, bounded concurrency, and what a monitor's lookup may use.
//!
//! What to look up is each monitor's business (`monitors::*::look_up`); this module makes sure
//! it happens within one deadline, concurrently but bounded, and that a lookup never fails the
//! alert: whatever could not be learned is written down as a problem next to whatever could
//! ([`Deadline::note`]).

use std::future::Future;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::time::Instant;

use crate::buckets::BucketInspector;
use crate::coverage::CoverageScope;
use crate::enrichment::Enrichment;
use crate::inspector::{LookupError, TrailInspector};
use crate::recorders::RecorderInspector;
use crate::resource::{Resource, ResourceState};

/// Lookups in flight at once: enough for an account's trails, few enough not to be throttled.
pub const MAX_CONCURRENT_LOOKUPS: usize = 8;

/// How long enrichment may take: the configured budget, but never so long that publishing
/// would run out of Lambda time.
pub fn enrichment_budget(
    configured: Duration,
    time_left: Option<Duration>,
    reserved_for_publish: Duration,
) -> Duration {
    match time_left {
        Some(left) => configured.min(left.saturating_sub(reserved_for_publish)),
        None => configured,
    }
}

/// One deadline shared by every lookup of an event, so one slow answer does not discard the
/// others.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    pub fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// The lookup's result, or `None` when the deadline passed first.
    pub async fn within<T>(&self, lookup: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout_at(self.at, lookup).await.ok()
    }

    /// A lookup's answer, with a failure or time-out written down as a problem.
    pub fn note<T>(
        &self,
        problems: &mut Vec<String>,
        what: &str,
        answer: Option<Result<T, LookupError>>,
    ) -> Option<T> {
        match answer {
            Some(Ok(value)) => Some(value),
            Some(Err(error)) => {
                problems.push(format!("{what} failed: {error}"));
                None
            }
            None => {
                problems.push(format!(
                    "{what} timed out after {} ms",
                    self.budget.as_millis()
                ));
                None
            }
        }
    }
}

/// Runs the lookups at most [`MAX_CONCURRENT_LOOKUPS`] at a time, each cut off at the deadline,
/// and returns the answers in the order given. A slow lookup holds only its own slot: the next
/// one starts as soon as any finishes.
pub async fn all_within<F: Future>(deadline: Deadline, lookups: Vec<F>) -> Vec<Option<F::Output>> {
    let mut answers: Vec<(usize, Option<F::Output>)> =
        stream::iter(lookups.into_iter().enumerate())
            .map(|(index, lookup)| async move { (index, deadline.within(lookup).await) })
            .buffer_unordered(MAX_CONCURRENT_LOOKUPS)
            .collect()
            .await;
    answers.sort_by_key(|(index, _)| *index);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

/// What a monitor's lookup may use.
pub struct Lookups<'a> {
    pub inspector: &'a dyn TrailInspector,
    /// The other recorders (AWS Config), for their monitors.
    pub recorders: &'a dyn RecorderInspector,
    /// A trail bucket's protections, for the S3 monitor's doors.
    pub buckets: &'a dyn BucketInspector,
    pub deadline: Deadline,
    /// Set when the outcome reduces coverage: the verdict is wanted.
    pub coverage: Option<CoverageScope>,
    /// The account whose trails the function's role sees (from ALERT_TOPIC_ARN); `None` when
    /// unknown, and then taken to be the event's.
    pub home_account: Option<&'a str>,
}

impl Lookups<'_> {
    /// One service's state in `resource`'s region, for the other recorders' monitors: `read`
    /// within the deadline, made into the alert's state by `state`; a failure or the deadline
    /// becomes the enrichment's problem, named by `calls`.
    pub async fn regional_state<'r, T, Answer>(
        &self,
        resource: &'r Resource,
        service: &str,
        calls: &str,
        read: impl FnOnce(&'r str) -> Answer,
        state: impl FnOnce(String, T) -> ResourceState,
    ) -> Enrichment
    where
        Answer: Future<Output = Result<T, LookupError>>,
    {
        let Some(region) = resource.lookup_region() else {
            return Enrichment::skipped(format!(
                "the event gives no region to look {service} up in"
            ));
        };
        let answer = self.deadline.within(read(region)).await;
        let mut problems = Vec::new();
        match self.deadline.note(&mut problems, calls, answer) {
            Some(value) => Enrichment {
                state: state(region.to_string(), value),
                coverage: None,
                problems,
            },
            None => Enrichment {
                problems,
                ..Enrichment::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_capped_by_the_lambda_deadline() {
        let ms = Duration::from_millis;
        assert_eq!(enrichment_budget(ms(2000), None, ms(3000)), ms(2000));
        assert_eq!(
            enrichment_budget(ms(2000), Some(ms(10_000)), ms(3000)),
            ms(2000)
        );
        assert_eq!(
            enrichment_budget(ms(2000), Some(ms(4000)), ms(3000)),
            ms(1000)
        );
        assert_eq!(enrichment_budget(ms(2000), Some(ms(1000)), ms(3000)), ms(0));
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_lookups_keep_their_order_and_stop_at_the_deadline() {
        let deadline = Deadline::after(Duration::from_millis(100));
        let lookups: Vec<_> = (0..20u64)
            .map(|i| async move {
                tokio::time::sleep(Duration::from_millis(if i == 3 { 500 } else { 10 })).await;
                i
            })
            .collect();
        let answers = all_within(deadline, lookups).await;
        assert_eq!(answers.len(), 20);
        assert_eq!(answers[3], None, "the slow one is cut off");
        assert_eq!(answers[19], Some(19));
    }
}
