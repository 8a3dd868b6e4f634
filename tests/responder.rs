//! What the responder reads first: the actor in full, and the step that fits the principal.

mod common;

use serde_json::{json, Value};
use trailwatch::alert::Alert;
use trailwatch::assemble::alert_without_lookups;

fn alert(event: &Value) -> Alert {
    alert_without_lookups(&common::call_from(event)).expect("monitored")
}

fn commands(alert: &Alert) -> Vec<&str> {
    alert
        .next_steps
        .iter()
        .filter_map(|step| step.command.as_deref())
        .collect()
}

fn prose(alert: &Alert) -> String {
    alert
        .next_steps
        .iter()
        .map(|step| step.action.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_iam_user_is_told_apart_by_key_client_and_console_link() {
    let alert = alert(&common::sample("stop-logging"));
    let actor = alert.actor.as_ref().unwrap();
    assert_eq!(
        actor.client.summary,
        "aws-cli 2.22 (cloudtrail.stop-logging)"
    );
    assert!(alert
        .event
        .as_ref()
        .unwrap()
        .user_agent
        .as_deref()
        .unwrap()
        .starts_with("aws-cli/2.22.4 md/awscrt"));
    assert_eq!(
        alert.links.principal.as_deref(),
        Some("https://console.aws.amazon.com/iam/home#/users/details/alice")
    );
    let key = actor
        .access_key_id
        .as_deref()
        .expect("the sample has a key");
    assert!(commands(&alert).contains(
        &format!(
            "aws iam update-access-key --user-name alice --access-key-id {key} --status Inactive"
        )
        .as_str()
    ));
}

#[test]
fn an_assumed_role_is_revoked_and_traced_not_rotated() {
    let alert = alert(&common::sample("stop-logging-access-denied"));
    let all = commands(&alert).join("\n");
    assert!(
        all.contains(
            "aws iam put-role-policy --role-name ci-deploy --policy-name AWSRevokeOlderSessions"
        ),
        "{all}"
    );
    assert!(
        all.contains("\"aws:TokenIssueTime\":\"2026-11-28T09:07:03Z\""),
        "{all}"
    );
    assert!(all.contains("AttributeKey=AccessKeyId,AttributeValue=ASIACIDEPLOYEXAMPLE0"));
    assert!(!prose(&alert).contains("rotate"), "{}", prose(&alert));
    assert_eq!(
        alert.links.principal.as_deref(),
        Some("https://console.aws.amazon.com/iam/home#/roles/details/ci-deploy")
    );
}

#[test]
fn an_identity_center_user_is_named_with_the_permission_set() {
    let alert = alert(&common::sample("update-trail-weakens"));
    let actor = alert.actor.as_ref().unwrap();
    assert_eq!(actor.sso_user.as_deref(), Some("bob@example.com"));
    assert_eq!(actor.permission_set.as_deref(), Some("AdministratorAccess"));
    assert_eq!(
        actor.session_created.as_deref(),
        Some("2026-11-28T08:40:00Z")
    );
    assert!(prose(&alert).contains("IAM Identity Center"));
    assert!(!commands(&alert).join(" ").contains("put-role-policy"));
    assert_eq!(actor.client.summary, "AWS console (browser)");
}

#[test]
fn a_call_an_aws_service_made_points_at_that_services_history() {
    let alert = alert(&common::sample("service-stop-logging"));
    let text = prose(&alert);
    assert!(
        !text.contains("owner of `cloudformation.amazonaws.com`"),
        "{text}"
    );
    assert!(commands(&alert).iter().any(
        |c| c.contains("AttributeKey=EventSource,AttributeValue=cloudformation.amazonaws.com")
    ));
    assert_eq!(
        alert.actor.as_ref().unwrap().client.kind,
        trailwatch::client::ClientKind::Service
    );
}

#[test]
fn hostile_identity_text_never_reaches_a_command() {
    let event = common::edited("stop-logging-access-denied", |d| {
        d["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] = json!("ci;rm -rf /");
        d["userIdentity"]["accessKeyId"] = json!("ASIA$(reboot)");
        d["eventTime"] = json!("now'; curl evil");
    });
    let alert = alert(&event);
    let all = commands(&alert).join("\n");
    assert!(all.contains("--role-name ROLE_NAME"), "{all}");
    assert!(all.contains("\"aws:TokenIssueTime\":\"NOW_UTC\""), "{all}");
    assert!(
        !all.contains("reboot") && !all.contains("curl") && !all.contains("rm -rf"),
        "{all}"
    );
}

#[test]
fn a_deleted_trail_is_recreated_not_checked() {
    let alert = alert(&common::sample("delete-trail"));
    let first = alert.next_steps[0].command.as_deref().unwrap();
    assert!(first.starts_with("aws cloudtrail create-trail --name management-events --s3-bucket-name YOUR_TRAIL_BUCKET"), "{first}");
    assert!(first.contains("&& aws cloudtrail start-logging --name management-events"));
    assert!(!commands(&alert)
        .iter()
        .any(|c| c.contains("get-trail-status")));
    assert!(commands(&alert)
        .iter()
        .any(|c| c.starts_with("aws s3api get-bucket-lifecycle-configuration")));
}
