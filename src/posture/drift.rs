//! The posture check's look at trailwatch itself: its rules as deployed against what the
//! registry generates, and someone subscribed to its alerts.
//!
//! A pattern narrowed so that it still matches the heartbeat, or both rules disabled within the
//! same second, beat the heartbeat and the guard rules; a topic with every subscriber gone
//! publishes to nobody without an error. So each run reads every rule trailwatch owns
//! (DescribeRule, ListTargetsByRule) and the alert topic's confirmed subscriptions, and reports
//! what differs, on the health topic.

use crate::alert::posture::{Check, Finding};
use crate::arn::Arn;
use crate::inspector::LookupError;
use crate::monitors::{event_pattern_of_rule, event_patterns, is_guard_pattern};
use crate::plumbing::DeployedRule;
use crate::prose::code;
use crate::severity::Severity::{self, *};

/// What trailwatch deploys: its function's name, its health topic, its schedule.
pub struct Expected<'a> {
    pub function_name: Option<&'a str>,
    pub health_topic: Option<&'a str>,
    /// `rate(N minutes)`.
    pub schedule: String,
    pub region: Option<&'a str>,
}

/// The findings about trailwatch itself: each rule's answer (keyed `NAME` or `BUS/NAME`), and
/// the alert topic's confirmed subscriptions.
pub fn findings(
    rules: &[(String, Result<DeployedRule, LookupError>)],
    subscriptions: Result<usize, LookupError>,
    expected: &Expected<'_>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut finding = |severity: Severity, check: Check, detail: String| {
        found.push(Finding {
            account: None,
            severity,
            check,
            trail: None,
            region: expected.region.map(str::to_string),
            detail,
            since: None,
            // Always due: a silenced trailwatch does not wait for a digest.
            new: true,
        });
    };
    for (name, answer) in rules {
        let rule = match answer {
            Ok(rule) => rule,
            Err(error) if error.code.as_deref() == Some("ResourceNotFoundException") => {
                finding(
                    Critical,
                    Check::RuleNotAsDeployed,
                    format!(
                        "trailwatch's rule {} is gone: nothing it delivered reaches trailwatch",
                        code(name)
                    ),
                );
                continue;
            }
            Err(error) => {
                finding(
                    Medium,
                    Check::CouldNotCheck,
                    format!(
                        "trailwatch's rule {} could not be read: {}",
                        code(name),
                        code(&error.to_string())
                    ),
                );
                continue;
            }
        };
        if rule.state.as_deref() != Some("ENABLED") {
            finding(
                Critical,
                Check::RuleNotAsDeployed,
                format!(
                    "trailwatch's rule {} is {}: it delivers nothing",
                    code(name),
                    code(rule.state.as_deref().unwrap_or("in no state"))
                ),
            );
        }
        let patterns = event_patterns();
        let target = match (&rule.pattern, &rule.schedule) {
            (Some(pattern), _) if patterns.contains(pattern) => {
                // Each alert rule carries its own share of the calls: another rule's pattern
                // (a pattern swapped or copied) leaves this one's calls undelivered.
                let own = event_pattern_of_rule(name);
                if patterns.get(own) != Some(pattern) {
                    finding(
                        Critical,
                        Check::RuleNotAsDeployed,
                        format!(
                            "trailwatch's rule {} carries another alert rule's pattern: the calls of pattern {} of {} no longer reach trailwatch",
                            code(name),
                            own + 1,
                            patterns.len()
                        ),
                    );
                }
                Target::Function
            }
            (Some(pattern), _) if is_guard_pattern(pattern) => Target::HealthTopic,
            (Some(_), _) => {
                finding(
                    Critical,
                    Check::RuleNotAsDeployed,
                    format!(
                        "trailwatch's rule {}'s pattern is not one trailwatch generates: calls it should deliver may no longer match",
                        code(name)
                    ),
                );
                continue;
            }
            (None, Some(schedule)) => {
                if *schedule != expected.schedule {
                    finding(
                        High,
                        Check::RuleNotAsDeployed,
                        format!(
                            "trailwatch's schedule {} runs {} instead of {}",
                            code(name),
                            code(schedule),
                            code(&expected.schedule)
                        ),
                    );
                }
                Target::Function
            }
            (None, None) => Target::Function,
        };
        let reaches = match target {
            Target::Function => rule
                .targets
                .iter()
                .any(|arn| is_function(arn, expected.function_name)),
            Target::HealthTopic => expected
                .health_topic
                .is_some_and(|topic| rule.targets.iter().any(|arn| arn == topic)),
        };
        if !reaches {
            finding(
                Critical,
                Check::RuleNotAsDeployed,
                format!(
                    "trailwatch's rule {} no longer delivers to {}",
                    code(name),
                    match target {
                        Target::Function => "the function",
                        Target::HealthTopic => "the health topic",
                    }
                ),
            );
        }
    }
    match subscriptions {
        Ok(0) => finding(
            Critical,
            Check::NoConfirmedSubscription,
            "the alert topic has no confirmed subscription: every alert is published to nobody"
                .to_string(),
        ),
        Ok(_) => {}
        Err(error) => finding(
            Medium,
            Check::CouldNotCheck,
            format!(
                "the alert topic's subscriptions could not be read: {}",
                code(&error.to_string())
            ),
        ),
    }
    found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
    found
}

/// Where a rule of trailwatch's must deliver.
enum Target {
    Function,
    HealthTopic,
}

/// A Lambda function ARN of the function named `name` (a version or alias qualifier allowed).
fn is_function(arn: &str, name: Option<&str>) -> bool {
    let Some(name) = name else {
        return false;
    };
    Arn::parse(arn).is_some_and(|arn| {
        arn.service == "lambda"
            && arn
                .resource_after("function:")
                .is_some_and(|rest| rest.split(':').next() == Some(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitors::guard_patterns;

    fn event_pattern() -> serde_json::Value {
        event_patterns()[0].clone()
    }

    const FUNCTION: &str = "arn:aws:lambda:us-east-1:111122223333:function:trailwatch";
    const HEALTH: &str = "arn:aws:sns:us-east-1:111122223333:trailwatch-health";

    fn expected() -> Expected<'static> {
        Expected {
            function_name: Some("trailwatch"),
            health_topic: Some(HEALTH),
            schedule: "rate(60 minutes)".into(),
            region: Some("us-east-1"),
        }
    }

    fn rule(
        pattern: Option<serde_json::Value>,
        schedule: Option<&str>,
        target: &str,
    ) -> DeployedRule {
        DeployedRule {
            state: Some("ENABLED".into()),
            pattern,
            schedule: schedule.map(str::to_string),
            targets: vec![target.to_string()],
        }
    }

    fn guard() -> serde_json::Value {
        serde_json::from_str(
            &guard_patterns()[0]
                .to_string()
                .replace("${Id}", "5e4d3c2b")
                .replace("${AWS::StackName}", "tw")
                .replace("${KeyId}", "k")
                .replace("${FunctionName}", "trailwatch")
                .replace("${RoleName}", "r"),
        )
        .unwrap()
    }

    #[test]
    fn rules_as_deployed_and_a_subscriber_are_healthy() {
        let rules = vec![
            (
                "trailwatch-x".to_string(),
                Ok(rule(Some(event_pattern()), None, FUNCTION)),
            ),
            (
                "trailwatch-x-2".to_string(),
                Ok(rule(Some(event_patterns()[1].clone()), None, FUNCTION)),
            ),
            (
                "p".to_string(),
                Ok(rule(None, Some("rate(60 minutes)"), FUNCTION)),
            ),
            ("g".to_string(), Ok(rule(Some(guard()), None, HEALTH))),
        ];
        assert_eq!(findings(&rules, Ok(1), &expected()), []);
    }

    #[test]
    fn drift_of_state_pattern_schedule_target_and_subscribers_is_found() {
        let mut narrowed = event_pattern();
        narrowed["detail"]["$or"]
            .as_array_mut()
            .unwrap()
            .truncate(1);
        let mut disabled = rule(Some(event_pattern()), None, FUNCTION);
        disabled.state = Some("DISABLED".into());
        let rules = vec![
            ("disabled".to_string(), Ok(disabled)),
            (
                "narrowed".to_string(),
                Ok(rule(Some(narrowed), None, FUNCTION)),
            ),
            (
                "slow".to_string(),
                Ok(rule(None, Some("rate(1 day)"), FUNCTION)),
            ),
            (
                "retargeted".to_string(),
                Ok(rule(
                    Some(event_pattern()),
                    None,
                    "arn:aws:sqs:us-east-1:444455556666:q",
                )),
            ),
            (
                "guard".to_string(),
                Ok(rule(
                    Some(guard()),
                    None,
                    "arn:aws:sns:us-east-1:111122223333:other",
                )),
            ),
            (
                "trailwatch-x-2".to_string(),
                Ok(rule(Some(event_pattern()), None, FUNCTION)),
            ),
            (
                "gone".to_string(),
                Err(LookupError {
                    code: Some("ResourceNotFoundException".into()),
                    message: "Rule gone does not exist".into(),
                }),
            ),
        ];
        let found = findings(&rules, Ok(0), &expected());
        let about = |name: &str| {
            found
                .iter()
                .any(|f| f.detail.contains(&format!("`{name}`")))
        };
        for name in [
            "disabled",
            "narrowed",
            "slow",
            "retargeted",
            "guard",
            "gone",
            "trailwatch-x-2",
        ] {
            assert!(about(name), "{name}: {found:?}");
        }
        assert!(found
            .iter()
            .any(|f| f.check == Check::NoConfirmedSubscription));
        assert!(found.iter().all(|f| f.new), "always due");
        assert_eq!(found[0].severity, Critical);
    }
}
