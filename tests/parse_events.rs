//! The parser on every events/ sample and on malformed input.

mod common;

use serde_json::{json, Value};
use trailwatch::monitors;
use trailwatch::parse::{parse_event, Inbound, InvalidEvent};
use trailwatch::resource::ResourceKind;

#[test]
fn every_sample_parses_into_a_call_that_names_its_resource() {
    for (name, event) in common::all_samples() {
        let call = match parse_event(&event) {
            Ok(Inbound::ApiCall(call)) => call,
            other => panic!("{name}: {other:?}"),
        };
        assert!(
            call.id.is_some() && call.time.is_some() && call.account.is_some(),
            "{name}"
        );
        if name == "not-monitored" {
            assert!(monitors::find(&call).is_none());
            continue;
        }
        let (monitor, _) = monitors::find(&call).unwrap_or_else(|| panic!("{name} is monitored"));
        assert_eq!(monitor.service().event_source, call.source, "{name}");
        assert_eq!(
            monitor.service().bus_source,
            event["source"],
            "{name}: envelope source"
        );
        let resource = monitor
            .resource(&call)
            .unwrap_or_else(|| panic!("{name} names a resource"));
        assert!(
            resource.name.is_some() && resource.region.is_some(),
            "{name}"
        );
    }
}

#[test]
fn samples_carry_what_their_names_say() {
    let denied = common::sample_call("stop-logging-access-denied");
    assert!(denied.was_denied());
    assert!(denied
        .error
        .unwrap()
        .message
        .unwrap()
        .contains("not authorized"));

    let root = common::sample_call("root-update-trail");
    assert!(root.actor.is_root());

    let service = common::sample_call("service-stop-logging");
    assert_eq!(service.actor.kind, None);
    assert_eq!(service.request_id, None);

    let elsewhere = common::sample_call("update-trail-other-region");
    assert_eq!(elsewhere.region.as_deref(), Some("us-east-1"));
    let resource = |call: &trailwatch::call::ApiCall| {
        let (monitor, _) = monitors::find(call).unwrap();
        monitor.resource(call).unwrap()
    };
    assert_eq!(resource(&elsewhere).region.as_deref(), Some("eu-west-1"));

    let created = common::sample_call("create-trail");
    let trail = resource(&created);
    assert_eq!(trail.kind, ResourceKind::Trail);
    assert_eq!(trail.name.as_deref(), Some("security-audit"));
    assert_eq!(
        trail.arn.as_deref(),
        Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/security-audit")
    );

    let key = resource(&common::sample_call("disable-key"));
    assert_eq!(key.kind, ResourceKind::Key);
    assert_eq!(
        key.arn.as_deref(),
        Some("arn:aws:kms:us-east-1:111122223333:key/4d6e8f10-1a2b-4c3d-9e8f-0123456789ab"),
        "a bare key id gets the event's region and account"
    );
    let group = resource(&common::sample_call("delete-log-group"));
    assert_eq!(
        group.arn.as_deref(),
        Some("arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs-111122223333")
    );
    let store = resource(&common::sample_call("delete-event-data-store"));
    assert_eq!(
        store.name.as_deref(),
        Some("a1b2c3d4-5e6f-4a7b-8c9d-0123456789ab")
    );

    let sso = common::sample_call("delete-trail");
    assert_eq!(sso.actor.mfa_authenticated, Some(true));
    assert!(sso.actor.display_name().ends_with("/bob@example.com"));
}

#[test]
fn every_identity_type_is_accepted() {
    for kind in [
        "Root",
        "IAMUser",
        "AssumedRole",
        "FederatedUser",
        "AWSService",
        "IdentityCenterUser",
        "Unknown",
        "AWSAccount",
    ] {
        let event = common::edited("stop-logging", |detail| {
            detail["userIdentity"] = json!({"type": kind, "onBehalfOf": {"userId": "u-1", "identityStoreArn": "arn:aws:identitystore::1:identitystore/d-1"}});
        });
        let call = common::call_from(&event);
        assert_eq!(call.actor.kind.as_deref(), Some(kind));
        assert!(!call.actor.display_name().is_empty());
    }
}

#[test]
fn optional_fields_may_all_be_absent() {
    let event = common::edited("stop-logging", |detail| {
        let d = detail.as_object_mut().unwrap();
        for key in [
            "userAgent",
            "sourceIPAddress",
            "requestID",
            "eventID",
            "eventTime",
            "userIdentity",
            "recipientAccountId",
            "awsRegion",
            "responseElements",
            "tlsDetails",
        ] {
            d.remove(key);
        }
    });
    let call = common::call_from(&event);
    assert_eq!(call.user_agent, None);
    assert_eq!(
        call.account.as_deref(),
        Some("111122223333"),
        "from the envelope"
    );
    assert_eq!(
        call.region.as_deref(),
        Some("us-east-1"),
        "from the envelope"
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let cases: Vec<(Value, &str)> = vec![
        (json!(null), "not a JSON object"),
        (json!(42), "not a JSON object"),
        (json!("StopLogging"), "not a JSON object"),
        (json!([{"detail": {}}]), "not a JSON object"),
        (json!({}), "no `detail`"),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail"}),
            "no `detail`",
        ),
        (json!({"detail": null}), "`detail` is not a JSON object"),
        (json!({"detail": "x"}), "`detail` is not a JSON object"),
        (
            json!({"detail": {}, "source": "aws.cloudtrail"}),
            "envelope is malformed",
        ),
        (
            json!({"detail": {}, "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail", "time": "yesterday"}),
            "CloudTrail record",
        ),
        (
            json!({"detail": {}, "trailwatch:unreadableInput": "the payload is not JSON: EOF"}),
            "the payload is not JSON",
        ),
        (
            json!({"detail": {"eventSource": "cloudtrail.amazonaws.com"}, "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail"}),
            "CloudTrail record",
        ),
        (
            json!({"detail": {"eventName": "", "eventSource": "cloudtrail.amazonaws.com"}, "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail"}),
            "CloudTrail record",
        ),
    ];
    for (input, expected) in cases {
        let err: InvalidEvent = parse_event(&input).expect_err(&input.to_string());
        assert!(err.to_string().contains(expected), "{input}: {err}");
    }
}

#[test]
fn a_malformed_envelope_costs_no_alert_and_is_stated() {
    for (field, value) in [
        ("time", json!("yesterday")),
        ("resources", json!([1, {"x": 2}])),
        ("account", json!(111122223333u64)),
    ] {
        let mut event = common::sample("stop-logging");
        event[field] = value;
        let call = common::call_from(&event);
        assert_eq!(call.name, "StopLogging", "{field}");
        assert_eq!(call.account.as_deref(), Some("111122223333"), "{field}");
        assert!(
            call.input_problems[0].contains("envelope is malformed"),
            "{field}: {:?}",
            call.input_problems
        );
    }
    let mut numbered = common::sample("stop-logging");
    numbered["detail-type"] = json!(7);
    assert!(
        matches!(parse_event(&numbered), Ok(Inbound::Other { detail_type, .. }) if detail_type == "7"),
        "a detail-type that is not text is not a CloudTrail call"
    );
    let mut noted = common::sample("stop-logging");
    noted["trailwatch:inputProblems"] = json!(["1 invalid \\u escape replaced"]);
    assert_eq!(
        common::call_from(&noted).input_problems,
        ["1 invalid \\u escape replaced"]
    );
}

#[test]
fn valid_eventbridge_events_of_other_kinds_are_not_errors() {
    let scheduled = json!({
        "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "111122223333", "time": "2026-11-28T00:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:111122223333:rule/posture"], "detail": {}
    });
    assert!(
        matches!(parse_event(&scheduled), Ok(Inbound::Scheduled(s)) if s.time.as_deref() == Some("2026-11-28T00:00:00Z") && !s.report_all),
        "the posture schedule"
    );
    let mut other = scheduled.clone();
    other["detail-type"] = json!("EC2 Instance State-change Notification");
    other["source"] = json!("aws.ec2");
    assert!(matches!(parse_event(&other), Ok(Inbound::Other { .. })));
}
