//! The posture check's count of heartbeats: one from every watched region.
//!
//! The heartbeat alarms live in the stack's own region and count its own region's heartbeats
//! (CloudWatch alarms cannot notify across regions, and a template cannot make one alarm per
//! region of a list). Every other region's heartbeat is counted by the central function under
//! that region's name, so the posture check, which knows the regions it watches
//! (POSTURE_REGIONS), asks for each one's count over the heartbeat's window: a region that sent
//! none is a region whose CloudTrail events trailwatch does not see (no forwarder there, or its
//! schedule, trail, forwarding rule or the central bus's permission broken).

use std::time::Duration;

use crate::alert::posture::{Check, Finding};
use crate::inspector::LookupError;
use crate::prose::code;
use crate::severity::Severity::{Critical, Medium};

/// The findings from each watched region's heartbeat count over the last `window`.
pub fn findings(counts: &[(String, Result<u64, LookupError>)], window: Duration) -> Vec<Finding> {
    let minutes = window.as_secs().div_ceil(60);
    counts
        .iter()
        .filter_map(|(region, counted)| {
            let (severity, check, detail) = match counted {
                Ok(0) => (
                    Critical,
                    Check::NoHeartbeat,
                    format!(
                        "no heartbeat from {} in the last {minutes} minutes: trailwatch does not see that region's CloudTrail events (no forwarder there, or its schedule, its trail, its forwarding rule or the central bus's permission is broken)",
                        code(region)
                    ),
                ),
                Ok(_) => return None,
                Err(error) => (
                    Medium,
                    Check::CouldNotCheck,
                    format!(
                        "the heartbeats from {} could not be counted: {}",
                        code(region),
                        code(&error.to_string())
                    ),
                ),
            };
            Some(Finding {
                account: None,
                severity,
                check,
                trail: None,
                region: Some(region.clone()),
                detail,
                since: None,
                // Always due, like the rest of what is wrong with trailwatch itself.
                new: true,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_region_is_critical_a_counted_one_is_fine_an_unread_one_is_said() {
        let counts = vec![
            ("us-east-1".to_string(), Ok(3)),
            ("eu-west-1".to_string(), Ok(0)),
            (
                "ap-south-1".to_string(),
                Err(LookupError {
                    code: Some("AccessDenied".into()),
                    message: "not authorized to perform cloudwatch:GetMetricStatistics".into(),
                }),
            ),
        ];
        let found = findings(&counts, Duration::from_secs(15 * 60));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].check, Check::NoHeartbeat);
        assert_eq!(found[0].severity, Critical);
        assert_eq!(found[0].region.as_deref(), Some("eu-west-1"));
        assert!(found[0].detail.contains("in the last 15 minutes"));
        assert_eq!(found[1].check, Check::CouldNotCheck);
        assert!(
            found[1].detail.contains("AccessDenied"),
            "{}",
            found[1].detail
        );
        assert!(found.iter().all(|f| f.new));
    }
}
