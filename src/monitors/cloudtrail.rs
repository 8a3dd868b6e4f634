//! Trails: the five CIS 4.5 calls, plus the event and insight selectors that decide what a
//! logging trail actually records.

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::{cap, ApiCall};
use crate::command::{self, Arg};
use crate::coverage::{Candidate, Coverage, Verdict};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::coverage::assess;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Weakening};
use crate::monitors::selectors::{advanced_from_request, basic_from_request, ManagementRecording};
use crate::monitors::steps::{confirm, principal};
use crate::prose::code;
use crate::resource::{Resource, ResourceKind, ResourceState, TrailConfig};
use crate::severity::Severity::*;

pub const SOURCE: &str = "cloudtrail.amazonaws.com";

pub struct CloudTrail;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "StopLogging", succeeded: Critical,
        summary: "CloudTrail logging stopped",
        effect: "the trail no longer records API activity",
        reduces: true, checks_coverage: true, ..Rule::BASE },
    Rule { event: "DeleteTrail", succeeded: Critical,
        summary: "CloudTrail trail deleted",
        effect: "the trail no longer records API activity (log files it already delivered stay in its bucket)",
        reduces: true, checks_coverage: true, ..Rule::BASE },
    Rule { event: "UpdateTrail", succeeded: Medium, weakened: Some(High),
        summary: "CloudTrail trail changed", weakened_summary: "CloudTrail trail weakened",
        effect: "the trail's configuration changed without reducing coverage",
        weakens_when: "isMultiRegionTrail, includeGlobalServiceEvents, enableLogFileValidation or isOrganizationTrail set to false; s3BucketName, s3KeyPrefix or cloudWatchLogsLogGroupArn set; the log group, its role or kmsKeyId cleared; kmsKeyId in another account",
        checks_coverage: true, ..Rule::BASE },
    Rule { event: "CreateTrail", succeeded: Low, denied: Low,
        summary: "CloudTrail trail created",
        effect: "a new trail exists; it records nothing until StartLogging", ..Rule::BASE },
    Rule { event: "StartLogging", succeeded: Informational, denied: Low,
        summary: "CloudTrail logging started",
        effect: "the trail records API activity again", ..Rule::BASE },
    Rule { event: "PutEventSelectors", succeeded: Low, weakened: Some(High),
        summary: "Trail event selectors changed",
        weakened_summary: "Trail stopped recording management events",
        effect: "the trail still records all management events",
        weakens_when: "management events excluded, read-only or write-only, or sources excluded (basic or advanced selectors)",
        checks_coverage: true, ..Rule::BASE },
    Rule { event: "PutInsightSelectors", succeeded: Low, weakened: Some(Medium), denied: Medium,
        summary: "Trail Insights selectors changed", weakened_summary: "CloudTrail Insights turned off",
        effect: "CloudTrail Insights still analyses the trail",
        weakens_when: "the list of insight types is empty", ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.cloudtrail",
    name: "CloudTrail",
    rules: RULES,
    guard: &[],
};

/// Flags whose `false` reduces what the trail records or how well it protects it, and the
/// `update-trail` flag that turns each back on.
#[rustfmt::skip]
const WEAKENING_FLAGS: [(&str, &str, &str); 4] = [
    ("isMultiRegionTrail", "calls in other regions are no longer recorded", "--is-multi-region-trail"),
    ("includeGlobalServiceEvents", "IAM, STS and other global-service calls are no longer recorded", "--include-global-service-events"),
    ("enableLogFileValidation", "log files can now be altered or deleted without detection", "--enable-log-file-validation"),
    ("isOrganizationTrail", "the organization's member accounts are no longer covered", "--is-organization-trail"),
];

const UNDO_LOG_GROUP: &str =
    "--cloud-watch-logs-log-group-arn PREVIOUS_LOG_GROUP_ARN --cloud-watch-logs-role-arn PREVIOUS_ROLE_ARN";

#[async_trait]
impl Monitor for CloudTrail {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// CloudTrail's calls name their trail in `name` (UpdateTrail, StopLogging, ...) or
    /// `trailName` (the selector calls), as a name or an ARN.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let given = call.named_by(&["name", "trailName"])?;
        let confirmed_arn = call
            .response_elements
            .as_ref()
            .and_then(|r| r.get("trailARN"))
            .and_then(|a| a.as_str());
        Some(trail_resource(&given, confirmed_arn, call))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        match call.name.as_str() {
            "UpdateTrail" => update_trail_weakenings(call),
            "PutEventSelectors" => selector_weakenings(call),
            "PutInsightSelectors" => insight_weakenings(call),
            _ => Vec::new(),
        }
    }

    fn harmless_failure(&self, call: &ApiCall) -> Option<&'static str> {
        let code = call.error.as_ref()?.code.as_str();
        (call.name == "CreateTrail" && code == "TrailAlreadyExistsException").then_some(
            "a trail of that name already exists, so nothing changed (a redeploy, usually)",
        )
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        let mut notes = Vec::new();
        if !call.succeeded() {
            return notes;
        }
        if let (Some(bucket), Some(config)) = (
            call.string_parameter("s3BucketName"),
            enrichment.state.trail_config(),
        ) {
            match config.s3_bucket_name.as_deref() {
                Some(now) if now == bucket => notes.push(format!(
                    "the trail delivers to {} now, as the update set",
                    code(bucket)
                )),
                Some(now) => notes.push(format!(
                    "the update set {}, but the trail reports bucket {}",
                    code(bucket),
                    code(now)
                )),
                None => {}
            }
        }
        if call.name == "DeleteTrail" {
            let named = self.resource(call);
            let last_known = named
                .as_ref()
                .map(|trail| {
                    format!(
                        "{} in {} of account {}",
                        code(trail.arn.as_deref().unwrap_or(&trail.given)),
                        trail
                            .region
                            .as_deref()
                            .map_or("an unknown region".to_string(), code),
                        trail.account.as_deref().map_or("unknown".to_string(), code)
                    )
                })
                .unwrap_or_else(|| "no trail".to_string());
            notes.push(format!(
                "lost: everything this trail would record from now on; its past log files stay in its bucket. CloudTrail keeps no settings of a deleted trail, and the event names only {last_known}"
            ));
        }
        if call.name == "StartLogging" {
            if let ResourceState::Trail {
                status: Some(status),
                ..
            } = &enrichment.state
            {
                if let Some(gap) = logging_gap(
                    status.stop_logging_time.as_deref(),
                    call.time
                        .as_deref()
                        .or(status.start_logging_time.as_deref()),
                ) {
                    notes.push(gap);
                }
            }
        }
        notes
    }

    async fn look_up(
        &self,
        call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        let Some(region) = resource.lookup_region() else {
            return Enrichment::skipped("neither the trail ARN nor the event gives a region");
        };
        let id = resource.lookup_id();
        let deadline = lookups.deadline;
        let inspector = lookups.inspector;
        let (status, trails, selectors) = tokio::join!(
            deadline.within(inspector.trail_status(id, region)),
            deadline.within(inspector.trails(region)),
            deadline.within(inspector.event_selectors(id, region)),
        );
        let mut problems = Vec::new();
        let status = deadline.note(&mut problems, "GetTrailStatus", status);
        let trails = deadline.note(&mut problems, "DescribeTrails", trails);
        let selectors = deadline.note(&mut problems, "GetEventSelectors", selectors);
        let config = trails
            .iter()
            .flatten()
            .find(|t| t.is_named(id) || t.is_named(&resource.given))
            .cloned();
        if trails.is_some() && config.is_none() {
            problems.push(format!(
                "DescribeTrails found no trail named {} in {region}",
                resource.given
            ));
        }
        if let Some(mismatch) = someone_elses_trail(resource, config.as_ref()) {
            return Enrichment::skipped(mismatch);
        }
        let coverage = match (lookups.coverage, &trails) {
            (None, _) => None,
            (Some(_), None) => Some(Coverage {
                verdict: Verdict::Unknown,
                covering_trails: Vec::new(),
                detail: "the account's trails could not be listed (DescribeTrails failed)".into(),
            }),
            (Some(scope), Some(list)) => {
                let affected = config.as_ref().map(|own| {
                    (
                        own,
                        Candidate::from_state(own, status.as_ref(), selectors.as_ref()),
                    )
                });
                Some(
                    assess(
                        lookups,
                        scope,
                        list,
                        affected,
                        id,
                        call.account.as_deref(),
                        region,
                    )
                    .await,
                )
            }
        };
        Enrichment {
            state: ResourceState::Trail {
                status,
                config,
                event_selectors: selectors,
            },
            coverage,
            problems,
        }
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let (trail, region) = trail_and_region(facts);
        match facts.call.name.as_str() {
            "StopLogging" => Some(restart_logging(&trail, &region)),
            // A deleted trail has no settings left to read, and the event carries only its name:
            // the bucket is whatever your infrastructure as code says.
            "DeleteTrail" => {
                let name = command::trail_name(facts.resource.and_then(|r| r.name.as_deref()));
                Some(create_trail(
                    "Recreate the trail (with the settings your infrastructure as code keeps for it) and start logging; what it already delivered is still in its bucket",
                    &name,
                    &region,
                ))
            }
            "UpdateTrail" => {
                let mut undo: Vec<&str> = Vec::new();
                for flags in self.weakenings(facts.call).iter().filter_map(|w| w.undo) {
                    if !undo.contains(&flags) {
                        undo.push(flags);
                    }
                }
                (!undo.is_empty()).then(|| {
                    command::step(
                        "Undo the weakening (replace the CAPITALISED values with what your infrastructure as code says)",
                        format!("aws cloudtrail update-trail --name {trail} --region {region} {}", undo.join(" ")),
                        &[&trail, &region],
                    )
                })
            }
            "PutEventSelectors" => Some(record_management_events(&trail, &region)),
            "PutInsightSelectors" => Some(command::step(
                "Turn CloudTrail Insights back on (keep only the insight types you used)",
                format!("aws cloudtrail put-insight-selectors --trail-name {trail} --region {region} --insight-selectors '[{{\"InsightType\":\"ApiCallRateInsight\"}},{{\"InsightType\":\"ApiErrorRateInsight\"}}]'"),
                &[&trail, &region],
            )),
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let (trail, region) = trail_and_region(facts);
        let weakened = facts.outcome == Outcome::Weakened;
        let describe = || {
            command::step(
                "Check the result",
                format!(
                    "aws cloudtrail describe-trails --trail-name-list {trail} --region {region}"
                ),
                &[&trail, &region],
            )
        };
        let mut steps: Vec<NextStep> = match facts.call.name.as_str() {
            "StopLogging" => vec![
                confirm(facts),
                NextStep::say(format!("Review what {} did while logging was off; other trails and CloudTrail event history still record management events.", principal(facts))),
            ],
            "DeleteTrail" => vec![
                confirm(facts),
                NextStep::run(
                    "Check the trail's bucket for new lifecycle rules and deleted log files: whoever deletes a trail often cleans up its logs next",
                    "aws s3api get-bucket-lifecycle-configuration --bucket YOUR_TRAIL_BUCKET",
                ),
            ],
            "UpdateTrail" if weakened => vec![confirm(facts), describe()],
            "UpdateTrail" => vec![
                confirm(facts),
                command::step(
                    "Compare the trail with your infrastructure as code",
                    format!("aws cloudtrail describe-trails --trail-name-list {trail} --region {region}"),
                    &[&trail, &region],
                ),
            ],
            "CreateTrail" => vec![
                NextStep::say("Confirm the new trail is expected: a trail you did not create can copy your logs to someone else's bucket."),
                NextStep::say("Check who owns the trail's S3 bucket and KMS key."),
            ],
            "StartLogging" => vec![
                NextStep::say("No action needed if this restarts logging on purpose; find out why it had stopped."),
            ],
            "PutEventSelectors" if weakened => vec![
                confirm(facts),
                command::step("Check the result", format!("aws cloudtrail get-event-selectors --trail-name {trail} --region {region}"), &[&trail, &region]),
            ],
            "PutEventSelectors" => vec![
                command::step("Check the selectors are what you expect", format!("aws cloudtrail get-event-selectors --trail-name {trail} --region {region}"), &[&trail, &region]),
            ],
            "PutInsightSelectors" => vec![
                confirm(facts),
                command::step("Check the result", format!("aws cloudtrail get-insight-selectors --trail-name {trail} --region {region}"), &[&trail, &region]),
            ],
            _ => vec![confirm(facts)],
        };
        // After a delete there is no trail to check: the failed lookup is expected.
        if !facts.enrichment.problems.is_empty() && facts.call.name != "DeleteTrail" {
            steps.push(command::step(
                "The trail's state could not be read; check it",
                format!("aws cloudtrail get-trail-status --name {trail} --region {region}"),
                &[&trail, &region],
            ));
        }
        steps
    }
}

/// The trail and its region, as a command may name them.
fn trail_and_region(facts: &StepFacts<'_>) -> (Arg, Arg) {
    (
        command::trail(facts.resource.map(Resource::lookup_id)),
        command::region(facts.resource.and_then(|r| r.region.as_deref())),
    )
}

/// A trail as a request names it: by name (in the event's account and region) or by ARN
/// (which may point to another region). A confirmed ARN from the response fills in a name.
pub fn trail_resource(given: &str, confirmed_arn: Option<&str>, call: &ApiCall) -> Resource {
    let trail_arn = |text: &str| {
        Arn::parse(text)
            .filter(|arn| arn.service == "cloudtrail" && arn.resource_after("trail/").is_some())
    };
    let arn = trail_arn(given).or_else(|| confirmed_arn.map(cap).as_deref().and_then(trail_arn));
    let name = arn
        .as_ref()
        .and_then(|arn| arn.resource_after("trail/").map(str::to_string))
        .unwrap_or_else(|| given.to_string());
    Resource::named_in(ResourceKind::Trail, call, given.to_string(), name, arn)
}

/// A bare trail name is looked up in the function's own account. When the event came from
/// another account (forwarded to a central bus), a trail of the same name here is a different
/// trail: showing its state would mislead, so none is shown.
fn someone_elses_trail(resource: &Resource, found: Option<&TrailConfig>) -> Option<String> {
    let named_by_arn = Arn::parse(&resource.given).is_some();
    let event_account = resource.account.as_deref()?;
    let found_account = Arn::account_of(found?.arn.as_deref()?)?;
    (!named_by_arn && found_account != event_account).then(|| {
        format!(
            "the trail found under that name belongs to account {found_account}, but the event is from account {event_account}; its state is not shown"
        )
    })
}

fn update_trail_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let mut found = Vec::new();
    for (flag, effect, undo) in WEAKENING_FLAGS {
        if call.bool_parameter(flag) == Some(false) {
            found.push(Weakening::new(format!("{flag}=false: {effect}")).undone_by(undo));
        }
    }
    if let Some(bucket) = call.string_parameter("s3BucketName") {
        // CloudTrail does not record the previous bucket, and IaC tools resend the current
        // one: say what was set, not that it changed.
        found.push(
            Weakening::new(format!(
                "s3BucketName set to {}: CloudTrail does not record the previous bucket, so check that this is the one you expect",
                code(bucket)
            ))
            .undone_by("--s3-bucket-name PREVIOUS_BUCKET"),
        );
    }
    if let Some(prefix) = call.string_parameter("s3KeyPrefix") {
        found.push(
            Weakening::new(format!(
                "s3KeyPrefix set to {}: log files now land under that prefix, where readers, lifecycle rules and digest checks may not look",
                code(prefix)
            ))
            .undone_by("--s3-key-prefix PREVIOUS_PREFIX"),
        );
    }
    match call.string_parameter("cloudWatchLogsLogGroupArn") {
        Some("") => found.push(
            Weakening::new(
                "cloudWatchLogsLogGroupArn cleared: delivery to CloudWatch Logs (and its metric filters) stopped",
            )
            .undone_by(UNDO_LOG_GROUP),
        ),
        Some(group) => found.push(
            Weakening::new(format!(
                "cloudWatchLogsLogGroupArn set to {}: events go to that log group, and metric filters and subscriptions on any other group see nothing",
                code(group)
            ))
            .undone_by(UNDO_LOG_GROUP),
        ),
        None => {}
    }
    if call.string_parameter("cloudWatchLogsRoleArn") == Some("") {
        found.push(
            Weakening::new(
                "cloudWatchLogsRoleArn cleared: CloudTrail can no longer deliver to CloudWatch Logs",
            )
            .undone_by(UNDO_LOG_GROUP),
        );
    }
    match call.string_parameter("kmsKeyId") {
        Some("") => found.push(
            Weakening::new(
                "kmsKeyId cleared: log files are no longer encrypted with a customer-managed KMS key",
            )
            .undone_by("--kms-key-id YOUR_KEY_ARN"),
        ),
        Some(key) => {
            let key_account = Arn::account_of(key);
            if let (Some(key_account), Some(event_account)) = (key_account, call.account.as_deref())
            {
                if key_account != event_account {
                    found.push(
                        Weakening::new(format!(
                            "kmsKeyId set to a key in account {}: whoever controls that account can decrypt the log files, or disable the key and stop delivery",
                            code(&key_account)
                        ))
                        .undone_by("--kms-key-id YOUR_KEY_ARN"),
                    );
                }
            }
        }
        None => {}
    }
    found
}

fn selector_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let Some(parameters) = call.request_parameters.as_ref() else {
        return Vec::new();
    };
    // Advanced selectors replace basic ones when both are given.
    let recording = if let Some(advanced) = advanced_from_request(parameters) {
        ManagementRecording::of_advanced(&advanced)
    } else if let Some(basic) = basic_from_request(parameters) {
        ManagementRecording::of_basic(&basic)
    } else {
        return vec![Weakening::new(
            "the request records neither eventSelectors nor advancedEventSelectors, so the new selectors cannot be checked",
        )];
    };
    recording
        .reductions()
        .into_iter()
        .map(Weakening::new)
        .collect()
}

fn insight_weakenings(call: &ApiCall) -> Vec<Weakening> {
    match call.parameter("insightSelectors").map(|v| v.as_array()) {
        Some(Some(types)) if types.is_empty() => vec![Weakening::new(
            "insightSelectors is empty: CloudTrail Insights no longer flags unusual API call or error rates",
        )],
        Some(Some(_)) => Vec::new(),
        _ => vec![Weakening::new(
            "the request records no readable insightSelectors, so the change cannot be checked",
        )],
    }
}

// Steps the posture check shares: it finds the same states without an event.

/// Turn logging back on.
pub fn restart_logging(trail: &Arg, region: &Arg) -> NextStep {
    command::step(
        "Restart logging now (safe to run: it only turns logging back on)",
        format!("aws cloudtrail start-logging --name {trail} --region {region}"),
        &[trail, region],
    )
}

/// Create a multi-region trail that records everything, and start it.
pub fn create_trail(action: &str, name: &Arg, region: &Arg) -> NextStep {
    command::step(
        action,
        format!("aws cloudtrail create-trail --name {name} --s3-bucket-name YOUR_TRAIL_BUCKET --is-multi-region-trail --include-global-service-events --enable-log-file-validation --region {region} && aws cloudtrail start-logging --name {name} --region {region}"),
        &[name, region],
    )
}

/// Record every management event again.
pub fn record_management_events(trail: &Arg, region: &Arg) -> NextStep {
    command::step(
        "Record all management events again (add back any data event selectors you use)",
        format!("aws cloudtrail put-event-selectors --trail-name {trail} --region {region} --event-selectors '[{{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}}]'"),
        &[trail, region],
    )
}

/// Turn log file integrity validation back on.
pub fn enable_validation(trail: &Arg, region: &Arg) -> NextStep {
    command::step(
        "Turn log file validation back on, so altered or deleted log files are detected",
        format!("aws cloudtrail update-trail --name {trail} --enable-log-file-validation --region {region}"),
        &[trail, region],
    )
}

/// How long logging was off, from the trail's last stop to this start: the window in which
/// nothing was recorded.
fn logging_gap(stopped: Option<&str>, started: Option<&str>) -> Option<String> {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let (stopped_at, started_at) = (parse(stopped?)?, parse(started?)?);
    let off = started_at.signed_duration_since(stopped_at);
    if off <= chrono::TimeDelta::zero() {
        return None;
    }
    let minutes = off.num_minutes();
    let length = match (minutes / 60, minutes % 60) {
        (0, 0) => format!("{} s", off.num_seconds()),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    };
    Some(format!(
        "logging was off for {length}, from {} (the trail's last stop) to {}: nothing this trail would have recorded in that window was recorded",
        stopped?, started?
    ))
}

#[cfg(test)]
mod tests {
    use super::logging_gap;

    #[test]
    fn the_gap_is_measured_from_the_last_stop() {
        let gap = logging_gap(Some("2026-11-28T09:01:03Z"), Some("2026-11-28T10:15:03Z")).unwrap();
        assert!(gap.starts_with("logging was off for 1 h 14 min"), "{gap}");
        assert_eq!(
            logging_gap(Some("2026-11-28T10:00:00Z"), Some("2026-11-28T09:00:00Z")),
            None
        );
        assert_eq!(logging_gap(None, Some("2026-11-28T09:00:00Z")), None);
        assert_eq!(
            logging_gap(Some("not a time"), Some("2026-11-28T09:00:00Z")),
            None
        );
    }
}
