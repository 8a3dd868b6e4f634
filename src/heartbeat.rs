//! trailwatch's own heartbeat, told from a forgery.
//!
//! On a schedule, EventBridge Scheduler tags the heartbeat's SSM parameter (HEARTBEAT_PARAMETER)
//! in every region trailwatch watches, with the heartbeat role of that region
//! (HEARTBEAT_ROLE_NAME, `{region}` standing for it) and the tag key [`MARKER`]. CloudTrail
//! records the call, and EventBridge delivers it through the same rule as every monitored call:
//! its arrival proves the whole path (a trail logging in that region, the rule, the forwarder,
//! the function). Such a call is recognised here and counted, never alerted; the same call by
//! anyone else, or on anything else, goes to the ssm monitor like any call.

use serde_json::Value;

use crate::arn::Arn;
use crate::call::ApiCall;
use crate::own::OwnResources;
use crate::shape::{is_account, is_region};

/// The tag key the schedule writes, its value the scheduled time.
pub const MARKER: &str = "trailwatch:heartbeat";

const SOURCE: &str = "ssm.amazonaws.com";

/// A heartbeat of trailwatch's own, from one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub region: String,
}

/// The heartbeat `call` is, when it is one of trailwatch's own: a successful AddTagsToResource
/// on the heartbeat's parameter, carrying the marker, made by the heartbeat role of the call's
/// own region and account.
pub fn recognise(call: &ApiCall, own: &OwnResources) -> Option<Heartbeat> {
    let parameter = own.heartbeat_parameter.as_deref()?;
    let role_name = own.heartbeat_role.as_deref()?;
    if call.source != SOURCE || call.name != "AddTagsToResource" || !call.succeeded() {
        return None;
    }
    let region = call.region.as_deref().filter(|r| is_region(r))?;
    let account = call.account.as_deref().filter(|a| is_account(a))?;
    let on_parameter = call.string_parameter("resourceType") == Some("Parameter")
        && call.string_parameter("resourceId") == Some(parameter);
    let marked = call
        .parameter("tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| {
            tags.iter().any(|tag| {
                // CloudTrail writes the API's members in camelCase; accept either case.
                let key = tag.get("key").or_else(|| tag.get("Key"));
                key.and_then(Value::as_str) == Some(MARKER)
            })
        });
    let issuer = call
        .actor
        .session_issuer_arn
        .as_deref()
        .and_then(Arn::parse);
    let by_heartbeat_role = call.actor.kind.as_deref() == Some("AssumedRole")
        && issuer.as_ref().is_some_and(|role| {
            role.service == "iam"
                && role.account.as_deref() == Some(account)
                && role.resource.starts_with("role/")
                && role.resource.rsplit('/').next()
                    == Some(role_name.replace("{region}", region).as_str())
        });
    (on_parameter && marked && by_heartbeat_role).then(|| Heartbeat {
        region: region.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Actor;
    use serde_json::json;

    fn own() -> OwnResources {
        OwnResources {
            heartbeat_parameter: Some("/trailwatch/5e4d3c2b/heartbeat".into()),
            heartbeat_role: Some("trailwatch-heartbeat-{region}".into()),
            ..OwnResources::default()
        }
    }

    fn beat(region: &str, role: &str) -> ApiCall {
        ApiCall {
            source: SOURCE.into(),
            name: "AddTagsToResource".into(),
            id: Some("e1".into()),
            time: Some("2026-12-04T10:00:00Z".into()),
            region: Some(region.into()),
            account: Some("111122223333".into()),
            source_ip: None,
            user_agent: None,
            request_id: None,
            error: None,
            actor: Actor {
                kind: Some("AssumedRole".into()),
                session_issuer_arn: Some(format!("arn:aws:iam::111122223333:role/{role}")),
                ..Actor::default()
            },
            request_parameters: Some(json!({
                "resourceType": "Parameter",
                "resourceId": "/trailwatch/5e4d3c2b/heartbeat",
                "tags": [{"key": MARKER, "value": "2026-12-04T10:00:00Z"}]
            })),
            response_elements: None,
            input_problems: Vec::new(),
        }
    }

    #[test]
    fn its_own_heartbeat_is_recognised_and_a_forgery_is_not() {
        let own = own();
        assert_eq!(
            recognise(&beat("eu-west-1", "trailwatch-heartbeat-eu-west-1"), &own),
            Some(Heartbeat {
                region: "eu-west-1".into()
            })
        );
        // Another region's heartbeat role, another principal, another account's role.
        assert_eq!(
            recognise(&beat("eu-west-1", "trailwatch-heartbeat-us-east-1"), &own),
            None
        );
        assert_eq!(recognise(&beat("eu-west-1", "admin"), &own), None);
        let mut elsewhere = beat("eu-west-1", "trailwatch-heartbeat-eu-west-1");
        elsewhere.actor.session_issuer_arn =
            Some("arn:aws:iam::444455556666:role/trailwatch-heartbeat-eu-west-1".into());
        assert_eq!(recognise(&elsewhere, &own), None);
        // Without the marker, on another parameter, failed, or without configuration.
        let mut unmarked = beat("eu-west-1", "trailwatch-heartbeat-eu-west-1");
        unmarked.request_parameters.as_mut().unwrap()["tags"] = json!([{"key": "other"}]);
        assert_eq!(recognise(&unmarked, &own), None);
        let mut other = beat("eu-west-1", "trailwatch-heartbeat-eu-west-1");
        other.request_parameters.as_mut().unwrap()["resourceId"] = json!("/other");
        assert_eq!(recognise(&other, &own), None);
        let mut failed = beat("eu-west-1", "trailwatch-heartbeat-eu-west-1");
        failed.error = Some(crate::call::CallError {
            code: "AccessDenied".into(),
            message: None,
        });
        assert_eq!(recognise(&failed, &own), None);
        assert_eq!(
            recognise(
                &beat("eu-west-1", "trailwatch-heartbeat-eu-west-1"),
                &OwnResources::default()
            ),
            None
        );
    }
}
