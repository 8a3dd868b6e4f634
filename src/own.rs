//! trailwatch's own resources: the key that encrypts its alert path, its EventBridge rules and
//! central bus, its topics, the function, its role and log group, its queues of parked events,
//! its alarms, and the heartbeat's parameter.
//!
//! An attacker who disables any of them first and then stops a trail gets no alert, so a call on
//! one of them is CRITICAL (`classify::escalate_own`) and is published to the health topic,
//! which depends on none of them.
//! Which resources are trailwatch's comes from the environment the template sets (OWN_KEY_ARN,
//! OWN_RULE_NAMES, the topic ARNs, OWN_LOG_GROUP, OWN_QUEUE_ARNS, OWN_ID (the stack's id, which
//! names its alarms), OWN_ROLE_ARN, OWN_EVENT_BUS, HEARTBEAT_PARAMETER, and
//! AWS_LAMBDA_FUNCTION_NAME, which Lambda sets), never from names that merely look like
//! trailwatch's.

use crate::arn::Arn;
use crate::resource::{Resource, ResourceKind};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnResources {
    /// The alert path's KMS key (`OWN_KEY_ARN`).
    pub key: Option<Arn>,
    /// `NAME` for a rule on the default bus, `BUS/NAME` for one on a custom bus.
    pub rules: Vec<String>,
    /// The alert and health topics.
    pub topics: Vec<String>,
    /// The function's own name.
    pub function: Option<String>,
    /// The account all of them are in (the alert topic's).
    pub account: Option<String>,
    /// The function's log group (`OWN_LOG_GROUP`): its logs and the dead man's switch's filter.
    pub log_group: Option<String>,
    /// The queues of parked events (`OWN_QUEUE_ARNS`).
    pub queues: Vec<Arn>,
    /// The stack's id (`OWN_ID`): every alarm the template creates is named `trailwatch-ID-…`,
    /// the prefix the guard rule matches too, so the function and the rule agree on which
    /// alarms are trailwatch's without a list of names in a 4 KB environment.
    pub id: Option<String>,
    /// The function's role (`OWN_ROLE_ARN`).
    pub role: Option<Arn>,
    /// The central event bus, in central mode (`OWN_EVENT_BUS`).
    pub event_bus: Option<String>,
    /// The heartbeat's parameter (`HEARTBEAT_PARAMETER`): tagged on a schedule, in every region.
    pub heartbeat_parameter: Option<String>,
    /// The role the heartbeat's schedule tags it with (`HEARTBEAT_ROLE_NAME`), `{region}` standing
    /// for the region the heartbeat is sent in.
    pub heartbeat_role: Option<String>,
}

impl OwnResources {
    /// Reads `OWN_RULE_NAMES` (comma-separated); a problem is returned as text for the caller to
    /// name the variable.
    pub fn parse_rules(list: &str) -> Result<Vec<String>, String> {
        let mut rules = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (bus, name) = entry.split_once('/').unwrap_or(("default", entry));
            // Bus names may be 256 characters (a central bus is named after the stack, and
            // StackSet stack names are long); rule names 64.
            let valid_bus = (1..=256).contains(&bus.len())
                && bus
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid_bus || !ResourceKind::Rule.is_valid_name(name) || name.contains('/') {
                return Err(format!(
                    "{entry:?} is not a rule name (NAME, or BUS/NAME for a rule on a custom bus)"
                ));
            }
            rules.push(rule_key(bus, name));
        }
        Ok(rules)
    }

    /// Whether the resource a call names is one of trailwatch's own.
    pub fn owns(&self, resource: &Resource) -> bool {
        let same_account = match (&self.account, &resource.account) {
            (Some(own), Some(theirs)) => own == theirs,
            _ => true,
        };
        same_account
            && match resource.kind {
                ResourceKind::Key => self.key.as_ref().is_some_and(|own| {
                    let own_id = own.resource_after("key/");
                    let given = resource
                        .arn
                        .as_deref()
                        .and_then(Arn::parse)
                        .and_then(|arn| arn.resource_after("key/").map(str::to_string))
                        .or_else(|| resource.name.clone());
                    own_id.is_some() && given.as_deref() == own_id
                }),
                ResourceKind::Rule => resource
                    .arn
                    .as_deref()
                    .and_then(Arn::parse)
                    .and_then(|arn| arn.resource_after("rule/").map(rule_path_key))
                    .is_some_and(|key| self.rules.contains(&key)),
                ResourceKind::Topic => resource
                    .arn
                    .as_deref()
                    .is_some_and(|arn| self.topics.iter().any(|own| own == arn)),
                ResourceKind::Function => named(&resource.name, &self.function),
                ResourceKind::LogGroup => named(&resource.name, &self.log_group),
                ResourceKind::EventBus => named(&resource.name, &self.event_bus),
                ResourceKind::Parameter => named(&resource.name, &self.heartbeat_parameter),
                ResourceKind::Alarm => match (&self.id, &resource.name) {
                    (Some(id), Some(name)) => name
                        .strip_prefix("trailwatch-")
                        .and_then(|rest| rest.strip_prefix(id.as_str()))
                        .is_some_and(|purpose| purpose.starts_with('-')),
                    _ => false,
                },
                ResourceKind::Queue => {
                    resource
                        .arn
                        .as_deref()
                        .and_then(Arn::parse)
                        .is_some_and(|arn| {
                            self.queues.iter().any(|own| {
                                own.resource == arn.resource
                                    && own.account == arn.account
                                    && own.region == arn.region
                            })
                        })
                }
                ResourceKind::Role => self.role.as_ref().is_some_and(|own| {
                    // A role is named by its name in IAM's calls; its ARN carries a path.
                    let own_name = own.resource.rsplit('/').next();
                    own_name.is_some() && own_name == resource.name.as_deref()
                }),
                // trailwatch owns no trail, store, bucket or anything of AWS Config's.
                ResourceKind::Trail
                | ResourceKind::EventDataStore
                | ResourceKind::Bucket
                | ResourceKind::ConfigRecorder
                | ResourceKind::DeliveryChannel
                | ResourceKind::ConfigRetention
                | ResourceKind::ConfigRule
                | ResourceKind::ConformancePack
                | ResourceKind::ConfigAggregator
                | ResourceKind::SecurityHub
                | ResourceKind::AutomationRule
                | ResourceKind::Detector
                | ResourceKind::Organization => false,
            }
    }

    /// Reads comma-separated lists such as `OWN_QUEUE_ARNS`.
    pub fn list(text: &str) -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.key.is_none()
            && self.rules.is_empty()
            && self.topics.is_empty()
            && self.function.is_none()
            && self.log_group.is_none()
            && self.queues.is_empty()
            && self.id.is_none()
            && self.role.is_none()
            && self.event_bus.is_none()
            && self.heartbeat_parameter.is_none()
    }
}

/// Both known and equal.
fn named(given: &Option<String>, own: &Option<String>) -> bool {
    given.is_some() && given == own
}

/// How rules are compared: the default bus written out, so `NAME` and `default/NAME` agree.
fn rule_key(bus: &str, name: &str) -> String {
    format!("{bus}/{name}")
}

/// A rule ARN's path (`NAME` or `BUS/NAME`) as a key.
fn rule_path_key(path: &str) -> String {
    match path.split_once('/') {
        Some((bus, name)) => rule_key(bus, name),
        None => rule_key("default", path),
    }
}

/// What the resource does for trailwatch, for the reason an alert gives.
pub fn role(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Key => "it encrypts the alert topic, the queues of parked events and the function's logs; without it no alert can be published",
        ResourceKind::Rule => "it delivers CloudTrail events (or the posture schedule) to trailwatch; without it nothing is checked",
        ResourceKind::Topic => "alerts or health alarms are published to it; without it nobody is told",
        ResourceKind::Function => "it is trailwatch itself; changed or gone, nothing is checked or alerted",
        ResourceKind::LogGroup => "it holds the function's logs, which the dead man's switch counts; without it the switch and the latency figures go dark",
        ResourceKind::EventBus => "member accounts and regions forward their CloudTrail events to it; without it nothing from them is checked",
        ResourceKind::Queue => "it keeps the events and alerts trailwatch could not deliver; emptied or gone, they are lost",
        ResourceKind::Alarm => "it tells the health topic when part of trailwatch stops working; disabled or gone, that failure is silent",
        ResourceKind::Role => "it is what the function may do; changed, the function may no longer read trails or publish alerts",
        ResourceKind::Parameter => "its scheduled tagging is trailwatch's heartbeat through CloudTrail and EventBridge; gone or forged, a broken path looks alive",
        _ => "trailwatch depends on it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: ResourceKind, name: &str, arn: Option<&str>) -> Resource {
        Resource {
            kind,
            name: Some(name.to_string()),
            arn: arn.map(str::to_string),
            region: Some("us-east-1".into()),
            account: Some("111122223333".into()),
            given: name.to_string(),
        }
    }

    fn own() -> OwnResources {
        OwnResources {
            key: Arn::parse(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            rules: OwnResources::parse_rules(
                "trailwatch-abc, trailwatch-bus/trailwatch-abc-central",
            )
            .unwrap(),
            topics: vec!["arn:aws:sns:us-east-1:111122223333:alerts".into()],
            function: Some("trailwatch-AlertFunction-1".into()),
            account: Some("111122223333".into()),
            id: Some("abc".into()),
            ..OwnResources::default()
        }
    }

    #[test]
    fn alarms_are_trailwatchs_by_the_stack_ids_prefix() {
        let own = own();
        let alarm = |name: &str| resource(ResourceKind::Alarm, name, None);
        assert!(own.owns(&alarm("trailwatch-abc-heartbeat-missing")));
        assert!(own.owns(&alarm("trailwatch-abc-anything-added-later")));
        // Another stack's id that starts with this one's, the bare id, someone else's alarm.
        assert!(!own.owns(&alarm("trailwatch-abcd-heartbeat-missing")));
        assert!(!own.owns(&alarm("trailwatch-abc")));
        assert!(!own.owns(&alarm("billing-trailwatch-abc-x")));
        // Without OWN_ID no alarm is trailwatch's.
        let unnamed = OwnResources { id: None, ..own };
        assert!(!unnamed.owns(&alarm("trailwatch-abc-heartbeat-missing")));
    }

    #[test]
    fn own_resources_are_recognised_by_identity_not_by_look() {
        let own = own();
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(own.owns(&resource(
            ResourceKind::Key,
            key,
            Some(&format!("arn:aws:kms:us-east-1:111122223333:key/{key}"))
        )));
        assert!(!own.owns(&resource(
            ResourceKind::Key,
            "0000",
            Some("arn:aws:kms:us-east-1:111122223333:key/0000")
        )));
        assert!(own.owns(&resource(
            ResourceKind::Rule,
            "trailwatch-abc",
            Some("arn:aws:events:us-east-1:111122223333:rule/trailwatch-abc")
        )));
        assert!(own.owns(&resource(
            ResourceKind::Rule,
            "trailwatch-abc-central",
            Some(
                "arn:aws:events:us-east-1:111122223333:rule/trailwatch-bus/trailwatch-abc-central"
            )
        )));
        // The same name on another bus is another rule.
        assert!(!own.owns(&resource(
            ResourceKind::Rule,
            "trailwatch-abc-central",
            Some("arn:aws:events:us-east-1:111122223333:rule/trailwatch-abc-central")
        )));
        assert!(!own.owns(&resource(
            ResourceKind::Rule,
            "trailwatch-abd",
            Some("arn:aws:events:us-east-1:111122223333:rule/trailwatch-abd")
        )));
        assert!(own.owns(&resource(
            ResourceKind::Topic,
            "alerts",
            Some("arn:aws:sns:us-east-1:111122223333:alerts")
        )));
        assert!(own.owns(&resource(
            ResourceKind::Function,
            "trailwatch-AlertFunction-1",
            None
        )));
        let mut elsewhere = resource(ResourceKind::Function, "trailwatch-AlertFunction-1", None);
        elsewhere.account = Some("444455556666".into());
        assert!(!own.owns(&elsewhere), "the same name in another account");
        assert!(!OwnResources::default().owns(&resource(ResourceKind::Function, "x", None)));
    }

    #[test]
    fn rule_lists_are_checked() {
        assert_eq!(OwnResources::parse_rules("").unwrap(), Vec::<String>::new());
        // A StackSet's central bus: `trailwatch-` and a long stack name.
        let long_bus = format!(
            "trailwatch-StackSet-trailwatch-central-{}",
            "a1b2c3d4-".repeat(12)
        );
        let rules = OwnResources::parse_rules(&format!(
            "{long_bus}/trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-central"
        ))
        .unwrap();
        assert_eq!(rules.len(), 1);
        for bad in ["a/b/c", "has space", "a,<b>"] {
            assert!(OwnResources::parse_rules(bad).is_err(), "{bad}");
        }
    }
}
