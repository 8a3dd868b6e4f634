//! CloudTrail Lake event data stores: deleting one, stopping its ingestion, updating it to keep
//! less for less time with less protection, or configuring it to keep less of each event
//! (PutEventConfiguration, which also sets a trail's event aggregation: for a trail, the
//! [`CloudTrail`] monitor finds and reads the trail).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command::{self, Arg};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::cloudtrail::{CloudTrail, SOURCE};
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Weakening};
use crate::monitors::selectors::{advanced_from_request, ManagementRecording};
use crate::monitors::steps::{confirm, MIN_RETENTION_DAYS};
use crate::resource::{Resource, ResourceKind, ResourceState};
use crate::severity::Severity::*;

pub struct Lake;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DeleteEventDataStore", succeeded: Critical,
        summary: "CloudTrail Lake event data store deleted",
        effect: "the store stops ingesting and its events are deleted after the 7-day wait unless it is restored",
        reduces: true, ..Rule::BASE },
    Rule { event: "StopEventDataStoreIngestion", succeeded: Critical,
        summary: "CloudTrail Lake ingestion stopped",
        effect: "the event data store no longer records events",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateEventDataStore", succeeded: Low, weakened: Some(High),
        summary: "CloudTrail Lake event data store changed",
        weakened_summary: "CloudTrail Lake event data store weakened",
        effect: "retention, selectors and protection were not reduced",
        weakens_when: "retention under 365 days, management events dropped, termination protection, multi-region or organization collection turned off", ..Rule::BASE },
    Rule { event: "PutEventConfiguration", succeeded: Low, weakened: Some(Medium),
        summary: "CloudTrail event configuration changed",
        weakened_summary: "CloudTrail keeps less of each event",
        effect: "events are kept as large and as enriched as before (a trail's aggregation adds summaries, it removes no event)",
        weakens_when: "maxEventSize set to Standard (events over 256 KB no longer kept whole), or the context key selectors emptied", ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.cloudtrail",
    name: "CloudTrail Lake",
    rules: RULES,
    guard: &[],
};

const FLAGS: [(&str, &str); 3] = [
    (
        "terminationProtectionEnabled",
        "the store can now be deleted in one call",
    ),
    (
        "multiRegionEnabled",
        "events from other regions are no longer collected",
    ),
    (
        "organizationEnabled",
        "the organization's member accounts are no longer collected",
    ),
];

#[async_trait]
impl Monitor for Lake {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `eventDataStore` is the store's ARN or its id.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let Some(given) = call.named_by(&["eventDataStore"]) else {
            // PutEventConfiguration names a trail (trailName) or a store.
            return match call.name.as_str() {
                "PutEventConfiguration" => CloudTrail.resource(call),
                _ => None,
            };
        };
        let arn = Arn::parse(&given).filter(|arn| arn.service == "cloudtrail");
        let id = arn
            .as_ref()
            .and_then(|a| a.resource_after("eventdatastore/"))
            .unwrap_or(&given)
            .to_string();
        Some(Resource::named_in(
            ResourceKind::EventDataStore,
            call,
            given,
            id,
            arn,
        ))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        if call.name == "PutEventConfiguration" {
            return event_configuration_weakenings(call);
        }
        if call.name != "UpdateEventDataStore" {
            return Vec::new();
        }
        let mut found = Vec::new();
        if let Some(days) = call
            .number_parameter("retentionPeriod")
            .filter(|days| *days < MIN_RETENTION_DAYS)
        {
            found.push(Weakening::new(format!(
                "retentionPeriod set to {days} days: older events are deleted from the store"
            )));
        }
        for (flag, effect) in FLAGS {
            if call.bool_parameter(flag) == Some(false) {
                found.push(Weakening::new(format!("{flag}=false: {effect}")));
            }
        }
        if let Some(advanced) = call
            .request_parameters
            .as_ref()
            .and_then(advanced_from_request)
        {
            found.extend(
                ManagementRecording::of_advanced(&advanced)
                    .reductions()
                    .into_iter()
                    .map(Weakening::new),
            );
        }
        found
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        match enrichment.state {
            // PutEventConfiguration on a trail: read as the trail's own calls are.
            ResourceState::Trail { .. } => CloudTrail.state_notes(call, enrichment),
            _ => Vec::new(),
        }
    }

    async fn look_up(
        &self,
        call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        if resource.kind == ResourceKind::Trail {
            return CloudTrail.look_up(call, resource, lookups).await;
        }
        let Some(region) = resource.lookup_region() else {
            return Enrichment::skipped("neither the store's ARN nor the event gives a region");
        };
        let deadline = lookups.deadline;
        let answer = deadline
            .within(
                lookups
                    .inspector
                    .event_data_store(resource.lookup_id(), region),
            )
            .await;
        let mut problems = Vec::new();
        // Like a trail's, the state keeps its type when the lookup fails: every field unknown.
        let state = ResourceState::EventDataStore(
            deadline
                .note(&mut problems, "GetEventDataStore", answer)
                .unwrap_or_default(),
        );
        Enrichment {
            state,
            coverage: None,
            problems,
        }
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let (store, region) = store_and_region(facts);
        match facts.call.name.as_str() {
            "DeleteEventDataStore" => Some(command::step(
                "Restore it within the 7-day wait",
                format!("aws cloudtrail restore-event-data-store --event-data-store {store} --region {region}"),
                &[&store, &region],
            )),
            "StopEventDataStoreIngestion" => Some(command::step(
                "Restart ingestion",
                format!("aws cloudtrail start-event-data-store-ingestion --event-data-store {store} --region {region}"),
                &[&store, &region],
            )),
            "PutEventConfiguration"
                if facts.outcome == Outcome::Weakened
                    && facts.call.string_parameter("maxEventSize") == Some("Standard") =>
            {
                Some(command::step(
                    "Keep large events whole again (context key selectors need it too)",
                    format!("aws cloudtrail put-event-configuration --event-data-store {store} --max-event-size Large --region {region}"),
                    &[&store, &region],
                ))
            }
            "UpdateEventDataStore" => Some(command::step(
                "Revert the changes listed above, for example",
                format!("aws cloudtrail update-event-data-store --event-data-store {store} --termination-protection-enabled --retention-period 2557 --region {region}"),
                &[&store, &region],
            )),
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let (store, region) = store_and_region(facts);
        let check = |action: &str| {
            command::step(
                action,
                format!("aws cloudtrail get-event-data-store --event-data-store {store} --region {region}"),
                &[&store, &region],
            )
        };
        match facts.call.name.as_str() {
            "DeleteEventDataStore" => vec![
                confirm(facts),
                command::step("Then protect it", format!("aws cloudtrail update-event-data-store --event-data-store {store} --termination-protection-enabled --region {region}"), &[&store, &region]),
            ],
            "StopEventDataStoreIngestion" => vec![confirm(facts)],
            "UpdateEventDataStore" if facts.outcome == Outcome::Weakened => {
                vec![confirm(facts), check("Check the result")]
            }
            "PutEventConfiguration" => {
                let trail = facts.resource.filter(|r| r.kind == ResourceKind::Trail);
                match trail {
                    Some(_) => vec![confirm(facts)],
                    None => vec![
                        confirm(facts),
                        command::step(
                            "Read the store's event configuration now",
                            format!("aws cloudtrail get-event-configuration --event-data-store {store} --region {region}"),
                            &[&store, &region],
                        ),
                    ],
                }
            }
            _ => vec![check("Check the store is what you expect")],
        }
    }
}

/// What a PutEventConfiguration keeps less of: each event cut at 256 KB (`maxEventSize`
/// Standard, where Large keeps up to 1 MB), or no context keys any more (`contextKeySelectors`
/// recorded empty). Aggregation (a trail's) adds summaries and removes no event.
fn event_configuration_weakenings(call: &ApiCall) -> Vec<Weakening> {
    let mut found = Vec::new();
    if call.string_parameter("maxEventSize") == Some("Standard") {
        found.push(Weakening::new(
            "maxEventSize set to Standard: events over 256 KB are no longer kept whole",
        ));
    }
    if call
        .parameter("contextKeySelectors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|selectors| selectors.is_empty())
    {
        found.push(Weakening::new(
            "contextKeySelectors emptied: events no longer carry the request context and tags they were enriched with",
        ));
    }
    found
}

/// The store and its region, as a command may name them.
fn store_and_region(facts: &StepFacts<'_>) -> (Arg, Arg) {
    (
        command::event_data_store(facts.resource.map(|r| r.lookup_id())),
        command::region(facts.resource.and_then(|r| r.region.as_deref())),
    )
}
