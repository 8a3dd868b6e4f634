//! The bucket a trail delivers its log files to: lifecycle rules that expire them, policy
//! changes that can block CloudTrail or expose the files, and deleting the bucket.

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::{code, NextStep};
use crate::arn::Arn;
use crate::call::{number, ApiCall};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::delivery::{first_trail, trails_using};
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Watched, Weakening};
use crate::monitors::steps::{
    confirm, shell_region, shell_safe, CRITICAL_RETENTION_DAYS, MIN_RETENTION_DAYS,
};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct S3;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "PutBucketLifecycle", succeeded: Low, weakened: Some(High),
        summary: "Lifecycle rules changed on a trail's bucket",
        weakened_summary: "Lifecycle rule expires a trail's log files",
        effect: "no enabled rule expires objects within a year",
        weakens_when: "an enabled rule expires objects in under 365 days (under 7 days: CRITICAL)", ..Rule::BASE },
    Rule { event: "PutBucketPolicy", succeeded: High,
        summary: "Bucket policy changed on a trail's bucket",
        effect: "the bucket policy decides whether CloudTrail can deliver and who can read or delete the log files",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteBucketPolicy", succeeded: High,
        summary: "Bucket policy deleted on a trail's bucket",
        effect: "without its bucket policy CloudTrail cannot write to the bucket, so delivery fails",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteBucket", succeeded: Critical,
        summary: "A trail's bucket deleted",
        effect: "the trail's delivered log files are gone and CloudTrail cannot deliver new ones",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "s3.amazonaws.com",
    bus_source: "aws.s3",
    name: "S3 (a trail's bucket)",
    rules: RULES,
};

#[async_trait]
impl Monitor for S3 {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let bucket = call.named_by(&["bucketName"])?;
        // Bucket ARNs carry no region or account; the call's are the bucket's.
        let arn = Arn::parse(&format!("arn:{}:s3:::{bucket}", call.partition()));
        Some(Resource::named_in(
            ResourceKind::Bucket,
            call,
            bucket.clone(),
            bucket,
            arn,
        ))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        if call.name != "PutBucketLifecycle" {
            return Vec::new();
        }
        let Some(rules) = call
            .parameter("LifecycleConfiguration")
            .and_then(|config| config.get("Rule"))
        else {
            return vec![Weakening::new(
                "the request records no LifecycleConfiguration rules, so the expirations cannot be checked",
            )];
        };
        // One rule is recorded as an object, several as a list.
        let rules: Vec<&Value> = match rules {
            Value::Array(list) => list.iter().collect(),
            single => vec![single],
        };
        rules
            .into_iter()
            .filter(|rule| rule.get("Status").and_then(Value::as_str) == Some("Enabled"))
            .filter_map(expiry_finding)
            .collect()
    }

    fn watched(&self) -> Watched {
        Watched::WhenATrailUsesIt
    }

    async fn look_up(
        &self,
        call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        let Some(region) = call.region.as_deref() else {
            return Enrichment::skipped("the event gives no region to list the trails in");
        };
        // Bucket names are global: the name alone identifies the bucket, in any account.
        let bucket = resource.given.as_str();
        trails_using(lookups, region, "bucket", |trail| {
            trail.s3_bucket_name.as_deref() == Some(bucket)
        })
        .await
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let bucket = shell_safe(facts.resource.map(|r| r.given.as_str())).unwrap_or("BUCKET");
        let trail_use = first_trail(facts.enrichment);
        let trail =
            shell_safe(trail_use.map(|t| t.arn.as_deref().unwrap_or(&t.name))).unwrap_or("TRAIL");
        let region = shell_region(trail_use.and_then(|t| t.home_region.as_deref()));
        let status = NextStep::run(
            "Check that the trail still delivers (LatestDeliveryError empty)",
            format!("aws cloudtrail get-trail-status --name {trail} --region {region}"),
        );
        match facts.call.name.as_str() {
            "PutBucketLifecycle" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::run("Review the rules; remove the expiring one before it runs (S3 applies lifecycle rules daily), then put back your own rules", format!("aws s3api get-bucket-lifecycle-configuration --bucket {bucket}")),
                NextStep::run("Or remove every lifecycle rule at once", format!("aws s3api delete-bucket-lifecycle --bucket {bucket}")),
                NextStep::say("Check whether log files were already removed: compare the bucket's objects with the trail's digest files, or use S3 server access logs."),
            ],
            "PutBucketLifecycle" => vec![NextStep::run("Check the rules are what you expect", format!("aws s3api get-bucket-lifecycle-configuration --bucket {bucket}"))],
            "PutBucketPolicy" => vec![
                confirm(facts),
                NextStep::run("Review the policy: CloudTrail must keep s3:PutObject, and no one outside your log readers may read or delete objects", format!("aws s3api get-bucket-policy --bucket {bucket}")),
                status,
            ],
            "DeleteBucketPolicy" => vec![
                confirm(facts),
                NextStep::say("Restore the CloudTrail bucket policy from your infrastructure as code: until then the trail cannot deliver."),
                status,
            ],
            "DeleteBucket" => vec![
                confirm(facts),
                NextStep::run(format!("Give the trail a bucket again: recreate {} with its CloudTrail bucket policy, or use another", code(bucket)), format!("aws cloudtrail update-trail --name {trail} --s3-bucket-name NEW_BUCKET --region {region}")),
                NextStep::say("The deleted log files are gone unless replicated; CloudTrail event history still holds the last 90 days of management events."),
            ],
            _ => vec![confirm(facts)],
        }
    }
}

/// What one enabled lifecycle rule does to log files, when it expires them within a year.
fn expiry_finding(rule: &Value) -> Option<Weakening> {
    let id = rule
        .get("ID")
        .and_then(Value::as_str)
        .map_or_else(|| "(no id)".to_string(), |id| format!("{id:?}"));
    let days = [
        rule.get("Expiration").and_then(|e| e.get("Days")),
        rule.get("NoncurrentVersionExpiration")
            .and_then(|e| e.get("NoncurrentDays")),
    ]
    .into_iter()
    .flatten()
    .filter_map(number)
    .min();
    if let Some(days) = days.filter(|days| *days < MIN_RETENTION_DAYS) {
        let reason = format!(
            "lifecycle rule {id} expires objects after {days} day{}: log files are deleted before anyone reviews them",
            if days == 1 { "" } else { "s" }
        );
        return Some(if days < CRITICAL_RETENTION_DAYS {
            Weakening::at(Critical, reason)
        } else {
            Weakening::new(reason)
        });
    }
    let date = rule
        .get("Expiration")
        .and_then(|e| e.get("Date"))
        .and_then(Value::as_str)?;
    Some(Weakening::new(format!(
        "lifecycle rule {id} expires objects on {date}: log files are deleted on that date"
    )))
}
