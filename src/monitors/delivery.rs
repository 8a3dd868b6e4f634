//! The trail's delivery chain: which trails use a bucket, key or log group, decided from the
//! trails' own configuration (DescribeTrails) rather than from resource names.

use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::resource::{ResourceState, TrailConfig, TrailUse};

/// Lists the trails that apply in `region` and keeps those for which `uses_it` holds. When the
/// list cannot be read, the state is unknown and the problem says so: the alert goes out
/// rather than being dropped for a resource that may well be a trail's.
pub async fn trails_using(
    lookups: &Lookups<'_>,
    region: &str,
    uses: &'static str,
    uses_it: impl Fn(&TrailConfig) -> bool,
) -> Enrichment {
    let deadline = lookups.deadline;
    let answer = deadline.within(lookups.inspector.trails(region)).await;
    let mut problems = Vec::new();
    match deadline.note(&mut problems, "DescribeTrails", answer) {
        Some(trails) => Enrichment {
            state: ResourceState::DeliveryChain {
                trails: trails
                    .iter()
                    .filter(|trail| uses_it(trail))
                    .map(|trail| TrailUse {
                        name: trail.label().to_string(),
                        arn: trail.arn.clone(),
                        home_region: trail.home_region.clone(),
                        uses,
                    })
                    .collect(),
                bucket: None,
            },
            coverage: None,
            problems,
        },
        None => {
            problems.push(format!(
                "so whether a trail uses this {} could not be checked; alerting as if one does",
                match uses {
                    "key" => "KMS key",
                    "log-group" => "log group",
                    other => other,
                }
            ));
            Enrichment {
                state: ResourceState::NotLookedUp,
                coverage: None,
                problems,
            }
        }
    }
}

/// The first trail using the resource, for the commands in next steps.
pub fn first_trail(enrichment: &Enrichment) -> Option<&TrailUse> {
    match &enrichment.state {
        ResourceState::DeliveryChain { trails, .. } => trails.first(),
        _ => None,
    }
}
