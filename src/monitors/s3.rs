//! The bucket a trail delivers its log files to: lifecycle rules that expire them, policy
//! changes that can block CloudTrail or expose the files, deleting the bucket, and the doors
//! that keep the files safe: versioning and MFA delete, replication, access logging, the
//! public access block and the ACL.
//!
//! S3 records its XML bodies in `requestParameters` under their element names (PascalCase,
//! e.g. `VersioningConfiguration.Status`), a repeated element that occurs once as an object
//! rather than a list, and the canned ACL as the `x-amz-acl` header.

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
use crate::resource::{BucketDoors, PublicAccessBlock, Resource, ResourceKind, ResourceState};
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
    Rule { event: "PutBucketVersioning", succeeded: Low, weakened: Some(High),
        summary: "Versioning changed on a trail's bucket",
        weakened_summary: "Versioning suspended on a trail's bucket",
        effect: "versioning stays enabled: an overwritten or deleted log file keeps its previous version",
        weakens_when: "versioning suspended, or MFA delete disabled", ..Rule::BASE },
    Rule { event: "PutBucketReplication", succeeded: Low, weakened: Some(High),
        summary: "Replication changed on a trail's bucket",
        weakened_summary: "A trail's log files replicated to another account",
        effect: "the log files are replicated within the account, or not at all",
        weakens_when: "a rule replicates to a bucket in another account", ..Rule::BASE },
    Rule { event: "PutBucketLogging", succeeded: Low, weakened: Some(Medium),
        summary: "Access logging changed on a trail's bucket",
        weakened_summary: "Access logging turned off on a trail's bucket",
        effect: "reads and deletions of the log files are still logged",
        weakens_when: "server access logging turned off", ..Rule::BASE },
    Rule { event: "PutBucketPublicAccessBlock", succeeded: Low, weakened: Some(High),
        summary: "Public access block changed on a trail's bucket",
        weakened_summary: "Public access block weakened on a trail's bucket",
        effect: "all four public access settings stay on",
        weakens_when: "any of BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets turned off", ..Rule::BASE },
    Rule { event: "DeleteBucketPublicAccessBlock", succeeded: High,
        summary: "Public access block deleted on a trail's bucket",
        effect: "only the account's own block, if any, still keeps a public policy or ACL off the log files",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutBucketAcl", succeeded: Low, weakened: Some(Critical),
        summary: "ACL changed on a trail's bucket",
        weakened_summary: "A trail's bucket made public",
        effect: "the ACL grants nothing to everyone or to every AWS user",
        weakens_when: "a grant to AllUsers or AuthenticatedUsers, or a public canned ACL", ..Rule::BASE },
];

/// The groups an ACL grant makes public.
const PUBLIC_GROUPS: [&str; 2] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
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
        match call.name.as_str() {
            "PutBucketLifecycle" => {}
            "PutBucketVersioning" => return versioning_weakenings(call),
            "PutBucketReplication" => return replication_weakenings(call),
            "PutBucketLogging" => return logging_weakenings(call),
            "PutBucketPublicAccessBlock" => return public_access_block_weakenings(call),
            "PutBucketAcl" => return acl_weakenings(call),
            _ => return Vec::new(),
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
        let mut enrichment = trails_using(lookups, region, "bucket", |trail| {
            trail.s3_bucket_name.as_deref() == Some(bucket)
        })
        .await;
        // A door of a bucket a trail uses: read back what protects it now.
        if let ResourceState::DeliveryChain {
            trails,
            bucket: doors,
        } = &mut enrichment.state
        {
            if !trails.is_empty() {
                *doors = read_doors(call, bucket, region, lookups, &mut enrichment.problems).await;
            }
        }
        enrichment
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        let ResourceState::DeliveryChain {
            bucket: Some(doors),
            ..
        } = &enrichment.state
        else {
            return Vec::new();
        };
        let mut notes = Vec::new();
        if let Some(versioning) = &doors.versioning {
            notes.push(match versioning.status.as_deref() {
                Some("Enabled") => "versioning is still enabled on the bucket".to_string(),
                Some(other) => format!("versioning is {} on the bucket now", code(other)),
                None => "versioning was never enabled on the bucket".to_string(),
            });
        }
        if let Some(block) = &doors.public_access_block {
            let off = block.off();
            notes.push(match (block.configured, off.as_slice()) {
                (false, _) => "the bucket has no public access block of its own now".to_string(),
                (true, []) => {
                    "the bucket's public access block has all four settings on".to_string()
                }
                (true, off) => format!(
                    "the bucket's public access block has {} off now",
                    off.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
                ),
            });
            if call.name == "PutBucketAcl" && block.ignore_public_acls {
                notes.push(
                    "IgnorePublicAcls is on: S3 ignores public grants in the ACL for now"
                        .to_string(),
                );
            }
        }
        notes
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
            "PutBucketVersioning"
                if facts.outcome == Outcome::Weakened
                    && versioning_weakenings(facts.call)
                        .iter()
                        .any(|w| w.reason.starts_with("versioning suspended")) =>
            {
                Some(command::step(
                    "Enable versioning again",
                    format!("aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"),
                    &[&bucket],
                ))
            }
            "PutBucketReplication" if facts.outcome == Outcome::Weakened => Some(command::step(
                "Stop the replication out of the account (this removes every replication rule of the bucket: put back your own afterwards)",
                format!("aws s3api delete-bucket-replication --bucket {bucket}"),
                &[&bucket],
            )),
            "PutBucketPublicAccessBlock" | "DeleteBucketPublicAccessBlock"
                if facts.outcome == Outcome::Weakened || facts.call.name.starts_with("Delete") =>
            {
                Some(command::step(
                    "Block public access again",
                    format!("aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"),
                    &[&bucket],
                ))
            }
            "PutBucketAcl" if facts.outcome == Outcome::Weakened => Some(command::step(
                "Make the bucket private again",
                format!("aws s3api put-bucket-acl --bucket {bucket} --acl private"),
                &[&bucket],
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
            "PutBucketVersioning" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::say("If MFA delete was disabled, only the bucket owner's root user can enable it again (put-bucket-versioning with --mfa)."),
                NextStep::say("Check whether log files were overwritten or deleted meanwhile: compare the bucket's objects with the trail's digest files."),
            ],
            "PutBucketReplication" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::say("Find out who controls the destination account: the log files replicated so far are there."),
            ],
            "PutBucketLogging" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::say("Turn server access logging on again, to the bucket it logged to (aws s3api put-bucket-logging with its LoggingEnabled target)."),
            ],
            "PutBucketAcl" | "PutBucketPublicAccessBlock" | "DeleteBucketPublicAccessBlock"
                if facts.outcome == Outcome::Weakened || facts.call.name.starts_with("Delete") =>
            {
                vec![
                    confirm(facts),
                    NextStep::say("Check the bucket's server access logs for reads of the log files by anyone outside the account while they were exposed."),
                ]
            }
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

/// What protects the bucket now, for the doors whose state S3 can tell: versioning after
/// PutBucketVersioning, the public access block after a call on it or on the ACL. Read
/// failures go into `problems`; the alert goes out regardless.
async fn read_doors(
    call: &ApiCall,
    bucket: &str,
    region: &str,
    lookups: &Lookups<'_>,
    problems: &mut Vec<String>,
) -> Option<BucketDoors> {
    let deadline = lookups.deadline;
    let mut doors = BucketDoors::default();
    match call.name.as_str() {
        "PutBucketVersioning" => {
            let answer = deadline
                .within(lookups.buckets.versioning(bucket, region))
                .await;
            doors.versioning = deadline.note(problems, "GetBucketVersioning", answer);
        }
        "PutBucketPublicAccessBlock" | "DeleteBucketPublicAccessBlock" | "PutBucketAcl" => {
            let answer = deadline
                .within(lookups.buckets.public_access_block(bucket, region))
                .await;
            doors.public_access_block = deadline.note(problems, "GetPublicAccessBlock", answer);
        }
        _ => return None,
    }
    (doors != BucketDoors::default()).then_some(doors)
}

/// One element or several: S3 records a repeated XML element that occurs once as an object.
fn elements(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// A boolean S3 recorded as XML text (`"false"`) or as JSON.
fn is_false(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => !flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

fn versioning_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let Some(config) = call.parameter("VersioningConfiguration") else {
        return vec![Weakening::new(
            "the request records no VersioningConfiguration, so what it changed cannot be checked",
        )];
    };
    let mut found = Vec::new();
    if config.get("Status").and_then(Value::as_str) == Some("Suspended") {
        found.push(Weakening::new(
            "versioning suspended: an overwritten or deleted log file no longer keeps its previous version",
        ));
    }
    if config.get("MfaDelete").and_then(Value::as_str) == Some("Disabled") {
        found.push(Weakening::new(
            "MFA delete disabled: versions of the log files can be deleted without a second factor",
        ));
    }
    found
}

fn replication_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let Some(config) = call.parameter("ReplicationConfiguration") else {
        return vec![Weakening::new(
            "the request records no ReplicationConfiguration, so where it replicates cannot be checked",
        )];
    };
    let own = call.account.as_deref();
    elements(config.get("Rule"))
        .into_iter()
        .filter(|rule| rule.get("Status").and_then(Value::as_str) != Some("Disabled"))
        .filter_map(|rule| {
            let destination = rule.get("Destination")?;
            let account = destination.get("Account").and_then(Value::as_str)?;
            (Some(account) != own).then(|| {
                let bucket = destination
                    .get("Bucket")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                Weakening::new(format!(
                    "a rule replicates the log files to {} in account {}: a copy outside this account's control",
                    code(bucket),
                    code(account)
                ))
            })
        })
        .collect()
}

fn logging_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let Some(status) = call.parameter("BucketLoggingStatus") else {
        return vec![Weakening::new(
            "the request records no BucketLoggingStatus, so whether logging stays on cannot be checked",
        )];
    };
    match status.get("LoggingEnabled") {
        Some(_) => Vec::new(),
        None => vec![Weakening::new(
            "server access logging turned off: reads and deletions of the log files are no longer logged",
        )],
    }
}

fn public_access_block_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let Some(config) = call.parameter("PublicAccessBlockConfiguration") else {
        return vec![Weakening::new(
            "the request records no PublicAccessBlockConfiguration, so what it turned off cannot be checked",
        )];
    };
    // A setting left out of the request is turned off.
    let off: Vec<String> = PublicAccessBlock::SETTINGS
        .iter()
        .filter(|setting| config.get(**setting).is_none() || is_false(config.get(**setting)))
        .map(|setting| code(setting))
        .collect();
    match off.as_slice() {
        [] => Vec::new(),
        settings => vec![Weakening::new(format!(
            "{} off: a public bucket policy or ACL can expose the log files",
            settings.join(", ")
        ))],
    }
}

fn acl_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let mut found = Vec::new();
    if let Some(canned @ ("public-read" | "public-read-write" | "authenticated-read")) =
        call.string_parameter("x-amz-acl")
    {
        found.push(Weakening::new(format!(
            "canned ACL {}: the log files can be listed by anyone it names",
            code(canned)
        )));
    }
    let grants = call
        .parameter("AccessControlPolicy")
        .and_then(|policy| policy.get("AccessControlList"))
        .and_then(|list| list.get("Grant"));
    for grant in elements(grants) {
        let uri = grant
            .get("Grantee")
            .and_then(|grantee| grantee.get("URI"))
            .and_then(Value::as_str);
        if let Some(group) = uri.filter(|uri| PUBLIC_GROUPS.contains(uri)) {
            let permission = grant
                .get("Permission")
                .and_then(Value::as_str)
                .unwrap_or("?");
            found.push(Weakening::new(format!(
                "{} granted to {}",
                code(permission),
                code(group.rsplit('/').next().unwrap_or(group))
            )));
        }
    }
    found
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
