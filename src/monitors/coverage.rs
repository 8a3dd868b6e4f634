//! The lookup behind the coverage verdict: after a call that reduced what a trail records, read
//! every other multi-region trail that applies to the account and ask [`verdict`].

use crate::arn::Arn;
use crate::coverage::{verdict, Candidate, Coverage, CoverageScope, Verdict};
use crate::lookup::{all_within, Lookups};
use crate::prose::code;
use crate::resource::TrailConfig;

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
                    "account {}'s trails are not visible from account {}, where trailwatch runs",
                    code(event),
                    code(home)
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
        let account = trail.arn.as_deref().and_then(Arn::account_of);
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
