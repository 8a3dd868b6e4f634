//! The KMS key a trail encrypts its log files with: disabling it stops delivery, deleting it
//! makes every encrypted log file unreadable, and its policy decides who may decrypt.

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::delivery::{first_trail, trails_using};
use crate::monitors::monitor::{Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, shell_region, shell_safe};
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
        let Some(region) = resource.region.as_deref() else {
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

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let key = shell_safe(facts.resource.map(|r| r.lookup_id())).unwrap_or("KEY_ID");
        let region = shell_region(facts.resource.and_then(|r| r.region.as_deref()));
        let trail_use = first_trail(facts.enrichment);
        let trail =
            shell_safe(trail_use.map(|t| t.arn.as_deref().unwrap_or(&t.name))).unwrap_or("TRAIL");
        let trail_region = shell_region(trail_use.and_then(|t| t.home_region.as_deref()));
        let status = NextStep::run(
            "Check that the trail delivers again (LatestDeliveryError empty)",
            format!("aws cloudtrail get-trail-status --name {trail} --region {trail_region}"),
        );
        match facts.call.name.as_str() {
            "DisableKey" => vec![
                confirm(facts),
                NextStep::run("Re-enable the key", format!("aws kms enable-key --key-id {key} --region {region}")),
                status,
            ],
            "ScheduleKeyDeletion" => vec![
                confirm(facts),
                NextStep::run("Cancel the deletion while it is pending, then re-enable the key", format!("aws kms cancel-key-deletion --key-id {key} --region {region} && aws kms enable-key --key-id {key} --region {region}")),
                status,
            ],
            "PutKeyPolicy" => vec![
                confirm(facts),
                NextStep::run("Review the policy: CloudTrail must keep kms:GenerateDataKey*, and only your log readers may decrypt", format!("aws kms get-key-policy --key-id {key} --policy-name default --region {region}")),
                status,
            ],
            _ => vec![confirm(facts)],
        }
    }
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
