//! The KMS key a trail encrypts its log files with: disabling it stops delivery, deleting it
//! makes every encrypted log file unreadable, and its policy decides who may decrypt.

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command::{self, Arg};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::delivery::{first_trail, trails_using};
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::confirm;
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Kms;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DisableKey", succeeded: Critical,
        summary: "A trail's KMS key disabled",
        effect: "CloudTrail can no longer encrypt log files with the key, so it stops delivering them",
        reduces: true, ..Rule::BASE },
    Rule { event: "ScheduleKeyDeletion", succeeded: Critical,
        summary: "A trail's KMS key scheduled for deletion",
        effect: "once the key is deleted every log file it encrypted is unreadable for good, and delivery stops now",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutKeyPolicy", succeeded: High,
        summary: "A trail's KMS key policy changed",
        effect: "the key policy decides whether CloudTrail may encrypt and who may decrypt the log files",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "kms.amazonaws.com",
    bus_source: "aws.kms",
    name: "KMS (a trail's key)",
    rules: RULES,
    guard: &[Guard {
        events: &["DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"],
        path: &["keyId"],
        // The key's id, or its ARN, which ends with it.
        values: &[GuardValue::Wildcard("*${KeyId}")],
    }],
};

#[async_trait]
impl Monitor for Kms {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `keyId` is a key id or a key ARN for these calls.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let given = call.named_by(&["keyId"])?;
        let key_id = key_id(&given).to_string();
        // A bare key id is in the caller's account and region: give it the ARN it has there.
        let arn = Arn::parse(&given)
            .filter(|arn| arn.service == "kms")
            .or_else(|| {
                let implied = format!(
                    "arn:{}:kms:{}:{}:key/{key_id}",
                    call.partition(),
                    call.region.as_deref()?,
                    call.account.as_deref()?
                );
                Arn::parse(&implied).filter(|_| !key_id.starts_with("alias/"))
            });
        Some(Resource::named_in(
            ResourceKind::Key,
            call,
            given,
            key_id,
            arn,
        ))
    }

    fn watched(&self) -> Watched {
        Watched::WhenATrailUsesIt
    }

    async fn look_up(
        &self,
        _call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        let Some(region) = resource.lookup_region() else {
            return Enrichment::skipped("neither the key ARN nor the event gives a region");
        };
        let wanted = key_id(&resource.given);
        let account = resource.account.as_deref();
        trails_using(lookups, region, "key", |trail| {
            trail.kms_key_id.as_deref().is_some_and(|trail_key| {
                // Key ids are unique, but only the ARN says whose key it is: a trail's key in
                // another account is not the key the event's account touched.
                let trail_key_account = Arn::account_of(trail_key);
                key_id(trail_key) == wanted
                    && (trail_key_account.is_none() || trail_key_account.as_deref() == account)
            })
        })
        .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let (key, region) = key_and_region(facts);
        match facts.call.name.as_str() {
            "DisableKey" => Some(command::step(
                "Re-enable the key",
                format!("aws kms enable-key --key-id {key} --region {region}"),
                &[&key, &region],
            )),
            // The one step that saves every log file the key encrypted: a deleted key cannot be
            // brought back.
            "ScheduleKeyDeletion" => Some(command::step(
                "Cancel the deletion while it is pending (every file the key encrypted depends on it), then re-enable the key",
                format!("aws kms cancel-key-deletion --key-id {key} --region {region} && aws kms enable-key --key-id {key} --region {region}"),
                &[&key, &region],
            )),
            "PutKeyPolicy" => Some(command::step(
                "Put back the previous key policy (from your infrastructure as code, saved as PREVIOUS_POLICY.json)",
                format!("aws kms put-key-policy --key-id {key} --policy-name default --policy \"$(cat PREVIOUS_POLICY.json)\" --region {region}"),
                &[&key, &region],
            )),
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let (key, region) = key_and_region(facts);
        let review = command::step(
            if facts.own {
                "Review the policy: the function's role must keep kms:GenerateDataKey* and kms:Decrypt through SNS and SQS, as the template grants them"
            } else {
                "Review the policy: CloudTrail must keep kms:GenerateDataKey*, and only your log readers may decrypt"
            },
            format!(
                "aws kms get-key-policy --key-id {key} --policy-name default --region {region}"
            ),
            &[&key, &region],
        );
        if facts.own {
            let gap = NextStep::say("While the key cannot be used, trailwatch cannot publish to its alert topic or read its parked events: review CloudTrail event history for changes to your trails since this call.");
            return match facts.call.name.as_str() {
                "PutKeyPolicy" => vec![review, confirm(facts), gap],
                _ => vec![confirm(facts), gap],
            };
        }
        let trail_use = first_trail(facts.enrichment);
        let trail = command::trail(trail_use.map(|t| t.arn.as_deref().unwrap_or(&t.name)));
        let trail_region = command::region(trail_use.and_then(|t| t.home_region.as_deref()));
        let status = command::step(
            "Check that the trail delivers again (LatestDeliveryError empty)",
            format!("aws cloudtrail get-trail-status --name {trail} --region {trail_region}"),
            &[&trail, &trail_region],
        );
        match facts.call.name.as_str() {
            "PutKeyPolicy" => vec![review, confirm(facts), status],
            _ => vec![confirm(facts), status],
        }
    }
}

/// The key and its region, as a command may name them.
fn key_and_region(facts: &StepFacts<'_>) -> (Arg, Arg) {
    (
        command::key(facts.resource.map(|r| r.lookup_id())),
        command::region(facts.resource.and_then(|r| r.region.as_deref())),
    )
}

/// The key id in a key id, key ARN or alias: `arn:...:key/ID` and `ID` give `ID`.
fn key_id(text: &str) -> &str {
    text.split_once(":key/").map_or(text, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::key_id;

    #[test]
    fn key_ids_from_arns_and_ids() {
        assert_eq!(key_id("arn:aws:kms:us-east-1:1:key/abc-1"), "abc-1");
        assert_eq!(key_id("abc-1"), "abc-1");
        assert_eq!(key_id("alias/x"), "alias/x");
    }
}
