//! The bucket a trail delivers its log files to: lifecycle rules that expire them, policy
//! changes that can block CloudTrail or expose the files, and deleting the bucket.

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::{number, ApiCall};
use crate::command;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::delivery::{first_trail, trails_using};
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Watched, Weakening};
use crate::monitors::steps::{confirm, CRITICAL_RETENTION_DAYS, MIN_RETENTION_DAYS};
use crate::prose::code;
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;
use crate::shape::is_region;

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
    guard: &[],
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
        let Some(region) = call.region.as_deref().filter(|r| is_region(r)) else {
            return Enrichment::skipped("the event gives no region to list the trails in");
        };
        // Bucket names are global: the name alone identifies the bucket, in any account.
        let bucket = resource.given.as_str();
        trails_using(lookups, region, "bucket", |trail| {
            trail.s3_bucket_name.as_deref() == Some(bucket)
        })
        .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let bucket = command::bucket(facts.resource.map(|r| r.given.as_str()));
        let previous_policy = |action: &str| {
            command::step(
                action,
                format!("aws s3api put-bucket-policy --bucket {bucket} --policy \"$(cat PREVIOUS_POLICY.json)\""),
                &[&bucket],
            )
        };
        match facts.call.name.as_str() {
            // S3 applies lifecycle rules once a day: removing the rules today keeps tomorrow's
            // log files.
            "PutBucketLifecycle" => Some(command::step(
                "Remove the expiring rule before S3 applies it (lifecycle rules run daily): this removes every lifecycle rule of the bucket, so put back your own rules afterwards",
                format!("aws s3api delete-bucket-lifecycle --bucket {bucket}"),
                &[&bucket],
            )),
            "PutBucketPolicy" => Some(previous_policy(
                "Put back the previous bucket policy (from your infrastructure as code, saved as PREVIOUS_POLICY.json)",
            )),
            "DeleteBucketPolicy" => Some(previous_policy(
                "Put the CloudTrail bucket policy back (from your infrastructure as code, saved as PREVIOUS_POLICY.json): until then the trail cannot deliver",
            )),
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let bucket = command::bucket(facts.resource.map(|r| r.given.as_str()));
        let trail_use = first_trail(facts.enrichment);
        let trail = command::trail(trail_use.map(|t| t.arn.as_deref().unwrap_or(&t.name)));
        let region = command::region(trail_use.and_then(|t| t.home_region.as_deref()));
        let status = command::step(
            "Check that the trail still delivers (LatestDeliveryError empty)",
            format!("aws cloudtrail get-trail-status --name {trail} --region {region}"),
            &[&trail, &region],
        );
        let lifecycle = |action: &str| {
            command::step(
                action,
                format!("aws s3api get-bucket-lifecycle-configuration --bucket {bucket}"),
                &[&bucket],
            )
        };
        match facts.call.name.as_str() {
            "PutBucketLifecycle" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                lifecycle("Review the rules you put back: none may expire log files within a year"),
                NextStep::say("Check whether log files were already removed: compare the bucket's objects with the trail's digest files, or use S3 server access logs."),
            ],
            "PutBucketLifecycle" => vec![lifecycle("Check the rules are what you expect")],
            "PutBucketPolicy" => vec![
                confirm(facts),
                command::step(
                    "Review the policy: CloudTrail must keep s3:PutObject, and no one outside your log readers may read or delete objects",
                    format!("aws s3api get-bucket-policy --bucket {bucket}"),
                    &[&bucket],
                ),
                status,
            ],
            "DeleteBucketPolicy" => vec![confirm(facts), status],
            "DeleteBucket" => vec![
                confirm(facts),
                command::step(
                    format!("Give the trail a bucket again: recreate {} with its CloudTrail bucket policy, or use another", code(bucket.as_str())),
                    format!("aws cloudtrail update-trail --name {trail} --s3-bucket-name NEW_BUCKET --region {region}"),
                    &[&trail, &region],
                ),
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
        .map_or_else(|| "(no id)".to_string(), code);
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
        "lifecycle rule {id} expires objects on {}: log files are deleted on that date",
        code(date)
    )))
}
