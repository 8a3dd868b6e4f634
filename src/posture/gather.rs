//! Gather: every trail that applies in the checked regions, each read once in its home region.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;

use crate::inspector::{LookupError, TrailInspector};
use crate::lookup::{all_within, Deadline};
use crate::resource::{SelectorSummary, TrailConfig, TrailSnapshot, TrailStatus};

/// The posture check's share of an invocation: all its lookups together, whatever the count
/// (one account's, in an organization's run).
pub const POSTURE_BUDGET: Duration = Duration::from_secs(30);

/// What the lookups could not read, by region or trail, for the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gaps {
    /// (region, problem) for each region whose trails could not be listed.
    pub unlisted_regions: Vec<(String, String)>,
    /// (trail label, problem) for each trail lookup that failed.
    pub unread: Vec<(String, String)>,
}

/// Every trail that applies in the regions, each read once.
pub struct Gathered {
    pub trails: Vec<TrailSnapshot>,
    pub gaps: Gaps,
}

/// Lists the trails in every region, then reads each trail's status and selectors in its home
/// region, all within `deadline`. Regions are separate endpoints with their own rate limits, so
/// they are asked in parallel, and the bound (`MAX_CONCURRENT_LOOKUPS` trails at a time) applies
/// per region: on AWS a check of many regions takes about as long as its busiest region.
pub async fn gather(
    inspector: &dyn TrailInspector,
    regions: &[String],
    deadline: Deadline,
) -> Gathered {
    let listings = join_all(
        regions
            .iter()
            .map(|region| deadline.within(inspector.trails(region))),
    )
    .await;
    let mut gaps = Gaps::default();
    // (trail, the region it was listed in): a shadow trail appears in every region.
    let mut found: Vec<(TrailConfig, String)> = Vec::new();
    for (region, answer) in regions.iter().zip(listings) {
        match answer {
            Some(Ok(trails)) => {
                for trail in trails {
                    if !found.iter().any(|(known, _)| same_trail(known, &trail)) {
                        found.push((trail, region.clone()));
                    }
                }
            }
            Some(Err(problem)) => gaps
                .unlisted_regions
                .push((region.clone(), problem.to_string())),
            None => gaps
                .unlisted_regions
                .push((region.clone(), "timed out".to_string())),
        }
    }

    // A trail is read in its home region; DescribeTrails always says which, but the region it
    // was listed in also knows it.
    let mut by_region: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, (trail, listed_in)) in found.iter().enumerate() {
        let region = trail.home_region.as_deref().unwrap_or(listed_in);
        by_region.entry(region).or_default().push(index);
    }
    let found_ref = &found;
    let per_region = join_all(by_region.into_iter().map(|(region, indices)| async move {
        let reads = indices
            .iter()
            .map(|&index| async move {
                let trail = &found_ref[index].0;
                let id = trail
                    .arn
                    .as_deref()
                    .or(trail.name.as_deref())
                    .unwrap_or_default();
                tokio::join!(
                    inspector.trail_status(id, region),
                    inspector.event_selectors(id, region)
                )
            })
            .collect();
        indices
            .into_iter()
            .zip(all_within(deadline, reads).await)
            .collect::<Vec<_>>()
    }))
    .await;
    let mut answers: Vec<Option<TrailReads>> = (0..found.len()).map(|_| None).collect();
    for (index, answer) in per_region.into_iter().flatten() {
        answers[index] = answer;
    }

    let mut trails = Vec::with_capacity(found.len());
    for ((config, _), answer) in found.into_iter().zip(answers) {
        let label = config.label().to_string();
        let mut snapshot = TrailSnapshot {
            config,
            status: None,
            event_selectors: None,
        };
        match answer {
            Some((status, selectors)) => {
                match status {
                    Ok(status) => snapshot.status = Some(status),
                    Err(e) => gaps
                        .unread
                        .push((label.clone(), format!("GetTrailStatus failed: {e}"))),
                }
                match selectors {
                    Ok(selectors) => snapshot.event_selectors = Some(selectors),
                    Err(e) => gaps
                        .unread
                        .push((label, format!("GetEventSelectors failed: {e}"))),
                }
            }
            None => gaps.unread.push((
                label,
                "GetTrailStatus and GetEventSelectors timed out".to_string(),
            )),
        }
        trails.push(snapshot);
    }
    Gathered { trails, gaps }
}

/// What one trail's two reads answered.
type TrailReads = (
    Result<TrailStatus, LookupError>,
    Result<SelectorSummary, LookupError>,
);

/// A trail listed twice (a multi-region trail seen from several regions) is one trail.
fn same_trail(a: &TrailConfig, b: &TrailConfig) -> bool {
    match (&a.arn, &b.arn) {
        (Some(x), Some(y)) => x == y,
        _ => a.name == b.name && a.home_region == b.home_region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::EventDataStoreState;
    use async_trait::async_trait;
    use tokio::time::{sleep, Instant};

    /// Every call takes 100 ms; region `rN` has N single-region trails of its own.
    struct SlowAccount;

    const CALL: Duration = Duration::from_millis(100);

    #[async_trait]
    impl TrailInspector for SlowAccount {
        async fn trail_status(&self, _: &str, _: &str) -> Result<TrailStatus, LookupError> {
            sleep(CALL).await;
            Ok(TrailStatus {
                is_logging: Some(true),
                ..TrailStatus::default()
            })
        }
        async fn trails(&self, region: &str) -> Result<Vec<TrailConfig>, LookupError> {
            sleep(CALL).await;
            let count: usize = region.trim_start_matches('r').parse().unwrap_or(1);
            Ok((0..count)
                .map(|n| TrailConfig {
                    name: Some(format!("trail-{n}")),
                    arn: Some(format!(
                        "arn:aws:cloudtrail:{region}:111122223333:trail/trail-{n}"
                    )),
                    home_region: Some(region.to_string()),
                    ..TrailConfig::default()
                })
                .collect())
        }
        async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
            sleep(CALL).await;
            Ok(SelectorSummary::default())
        }
        async fn event_data_store(
            &self,
            _: &str,
            _: &str,
        ) -> Result<EventDataStoreState, LookupError> {
            unreachable!("the posture check does not read event data stores")
        }
    }

    async fn time_to_gather(regions: &[&str]) -> (Duration, usize) {
        let regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
        let started = Instant::now();
        let gathered = gather(
            &SlowAccount,
            &regions,
            Deadline::after(Duration::from_secs(30)),
        )
        .await;
        assert!(gathered.gaps.unread.is_empty() && gathered.gaps.unlisted_regions.is_empty());
        (started.elapsed(), gathered.trails.len())
    }

    #[tokio::test(start_paused = true)]
    async fn regions_are_checked_in_parallel_and_bounded_each_on_its_own() {
        // One listing round, then one round of reads (a trail's two reads run together).
        assert_eq!(time_to_gather(&["r1"]).await, (2 * CALL, 1));
        let seventeen: Vec<String> = (0..17).map(|_| "r1".to_string()).collect();
        let names: Vec<&str> = seventeen.iter().map(String::as_str).collect();
        // The same trail listed in 17 regions is read once.
        assert_eq!(time_to_gather(&names).await, (2 * CALL, 1));
        let spread = ["r2", "r1", "r3", "r1", "r2", "r1", "r1", "r2", "r1", "r1"];
        let (elapsed, trails) = time_to_gather(&spread).await;
        assert_eq!(
            trails,
            1 + 2 + 3,
            "each region's own trails, each read once"
        );
        assert_eq!(
            elapsed,
            2 * CALL,
            "as long as the busiest region, not the sum"
        );
        // Twenty trails in one region: 8 at a time.
        assert_eq!(time_to_gather(&["r20"]).await, (4 * CALL, 20));
    }
}
