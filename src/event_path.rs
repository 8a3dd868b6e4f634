//! The event path: one CloudTrail-recorded call, from its monitor to a published alert.
//!
//! Read [`on_call`] top to bottom: find the monitor → judge → look up → judge with the state →
//! assemble → publish. Each step either hands the next one what it needs or ends the path with
//! an [`Ending`]; how every ending is logged and summarised is decided in one place,
//! [`conclude`].

use std::time::SystemTime;

use tracing::{debug, error, info, warn};

use crate::alert::restart::RestartOutcome;
use crate::alert::Alert;
use crate::arn::Arn;
use crate::assemble;
use crate::buckets::NoBuckets;
use crate::burst::{digest_delay, folds, BurstKey, DigestRequest, FoldedCall};
use crate::call::ApiCall;
use crate::classify::{classify, coverage_scope, escalate_own, state_can_raise, Assessment};
use crate::dedup::{claim_until, Claim};
use crate::enrichment::Enrichment;
use crate::heartbeat::{self, Heartbeat};
use crate::import;
use crate::invocation::{Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE};
use crate::lookup::{enrichment_budget, Deadline, Lookups};
use crate::members::Access;
use crate::metrics::{self, alert_published, since};
use crate::monitors;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Watched};
use crate::publish::PublishError;
use crate::recorders::NoRecorders;
use crate::render::escape::LogText;
use crate::render::{self, render};
use crate::resource::{Resource, ResourceState};
use crate::restart::answer_stop;
use crate::severity::Severity;
use crate::shape::{is_account, is_event_id};

/// Runs one call through the steps and returns what the function answers.
pub async fn on_call(
    call: &ApiCall,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let Some(watch) = find_monitor(call, deps) else {
        return conclude(call, None, Ending::NotMonitored, deps);
    };
    if let Some(heartbeat) = heartbeat::recognise(call, &deps.config.own) {
        let ending = beat(call, heartbeat, deps).await;
        return conclude(call, Some(&watch), ending, deps);
    }
    let ending = match judge_and_assemble(&watch, invocation, deps).await {
        Ok(alert) => publish(&watch, alert, invocation, deps).await,
        Err(ending) => ending,
    };
    conclude(call, Some(&watch), ending, deps)
}

/// The steps between finding the monitor and publishing.
async fn judge_and_assemble(
    watch: &Watch<'_>,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Alert, Ending> {
    let outcome = judge_before_lookup(watch, deps)?;
    let enrichment = look_up(watch, outcome, invocation, deps).await?;
    let assessment = judge_with_state(watch, &enrichment, deps)?;
    Ok(assemble(watch, assessment, enrichment, deps).await)
}

/// A monitored call and what the steps learn about it before the lookups.
struct Watch<'a> {
    call: &'a ApiCall,
    monitor: &'static dyn Monitor,
    rule: &'static Rule,
    /// What the request names, when it names something readable.
    resource: Option<Resource>,
    /// The resource is one of trailwatch's own key, rules, topics or function.
    own: bool,
    /// The TRUSTED_PRINCIPALS pattern the caller matched.
    trusted_by: Option<&'a str>,
}

impl Watch<'_> {
    fn own_resource(&self) -> Option<&Resource> {
        self.resource.as_ref().filter(|_| self.own)
    }

    /// The resource's kind for reasons ("not trailwatch's own EventBridge rule").
    fn kind(&self) -> &'static str {
        self.resource.as_ref().map_or("resource", |r| r.kind.noun())
    }

    /// The policy, the modifiers, and self-protection for trailwatch's own resources.
    fn assess(&self, enrichment: Option<&Enrichment>) -> Assessment {
        let assessment = classify(
            self.call,
            self.monitor,
            self.rule,
            enrichment,
            self.trusted_by,
        );
        match self.own_resource() {
            Some(resource) => escalate_own(assessment, self.rule.event, resource),
            None => assessment,
        }
    }
}

/// How the event path ended.
enum Ending {
    /// No monitor watches the call.
    NotMonitored,
    /// A watched call on a resource the monitor does not care about, and why.
    NotOurs(String),
    /// Judged below MIN_SEVERITY.
    BelowThreshold(Severity),
    Published {
        severity: Severity,
        topic: &'static str,
        message_id: String,
    },
    PublishFailed {
        severity: Severity,
        failure: PublishError,
    },
    /// Counted in its principal's burst, to be told in the window's digest.
    Folded { severity: Severity, burst: BurstKey },
    /// Another delivery of the same event was published: nothing more to do.
    Duplicate { severity: Severity },
    /// Another delivery of the same event is being published right now and may still fail:
    /// end in an error so Lambda retries, when the ledger will know.
    InFlight { severity: Severity },
    /// trailwatch's own heartbeat, counted; whether its probe reached the alert topic.
    Heartbeat {
        region: String,
        probe: Result<String, PublishError>,
    },
}

/// Step 1: the monitor and rule that watch the call, what the call is about, and who made it.
/// A call that names several resources (DeleteAlarms) is about the first of trailwatch's own
/// among them, else the first.
fn find_monitor<'a>(call: &'a ApiCall, deps: &Dependencies<'a>) -> Option<Watch<'a>> {
    let (monitor, rule) = monitors::find(call)?;
    let mut resources = monitor.resources(call);
    let own_at = resources.iter().position(|r| deps.config.own.owns(r));
    let own = own_at.is_some();
    let resource = match own_at {
        Some(at) => Some(resources.swap_remove(at)),
        None => resources.into_iter().next(),
    };
    Some(Watch {
        call,
        monitor,
        rule,
        resource,
        own,
        trusted_by: deps.config.trusted.matching(&call.actor),
    })
}

/// Step 2: judge without the lookups. The outcome (succeeded, weakened, ...) does not depend on
/// them: it is decided once here, and the lookups only add modifiers. A call that cannot matter
/// ends here, before anything is looked up.
fn judge_before_lookup(watch: &Watch<'_>, deps: &Dependencies<'_>) -> Result<Outcome, Ending> {
    if watch.monitor.watched() == Watched::WhenTrailwatchOwnsIt && !watch.own {
        return Err(Ending::NotOurs(format!(
            "not trailwatch's own {}",
            watch.kind()
        )));
    }
    let before_lookup = watch.assess(None);
    if before_lookup.severity < deps.config.min_severity
        && !state_can_raise(watch.call, watch.rule, before_lookup.outcome)
    {
        return Err(Ending::BelowThreshold(before_lookup.severity));
    }
    Ok(before_lookup.outcome)
}

/// Step 3: the resource's state, within the deadline. trailwatch's own resources are not a
/// trail's: there is nothing to look up. A bucket, key or log group no trail uses ends here.
async fn look_up(
    watch: &Watch<'_>,
    outcome: Outcome,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Enrichment, Ending> {
    if watch.own {
        return Ok(Enrichment::default());
    }
    let enrichment = look_up_within_deadline(watch, outcome, invocation, deps).await;
    if watch.monitor.watched() == Watched::WhenATrailUsesIt && enrichment.found_no_trail_using_it()
    {
        return Err(Ending::NotOurs(format!(
            "no trail uses this {}",
            watch.kind()
        )));
    }
    if let Some(problem) = enrichment.error_summary() {
        warn!(
            event_id = %LogText(watch.call.id.as_deref()),
            problem = %LogText(Some(&problem)),
            "resource state only partly known; alerting anyway"
        );
    }
    Ok(enrichment)
}

/// The monitor's lookup, bounded by ENRICH_TIMEOUT_MS and the Lambda deadline (less what
/// publishing needs); whatever stops it is written into the enrichment, never an error.
async fn look_up_within_deadline(
    watch: &Watch<'_>,
    outcome: Outcome,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Enrichment {
    if deps.config.enrich_timeout.is_zero() {
        return Enrichment::skipped("enrichment is turned off (ENRICH_TIMEOUT_MS=0)");
    }
    let Some(inspector) = deps.inspector else {
        return Enrichment::skipped(
            "the resource's state was not looked up (no AWS access in this mode)",
        );
    };
    let Some(resource) = watch.resource.as_ref() else {
        return Enrichment::skipped(
            "the request names no resource (requestParameters missing or unreadable), so nothing was looked up",
        );
    };
    let budget = enrichment_budget(
        deps.config.enrich_timeout,
        invocation.time_left,
        PUBLISH_RESERVE,
    );
    if budget.is_zero() {
        return Enrichment::skipped(
            "no time left before the Lambda deadline to look the resource up",
        );
    }
    let deadline = Deadline::after(budget);
    let coverage = coverage_scope(watch.rule, outcome);
    let Some(member) = member_account(watch.call, deps) else {
        let lookups = Lookups {
            inspector,
            recorders: deps.recorders,
            buckets: deps.buckets,
            deadline,
            coverage,
            home_account: deps.config.home_account.as_deref(),
        };
        return watch.monitor.look_up(watch.call, resource, &lookups).await;
    };
    // A member account's resources are looked up through trailwatch's read role there, as if
    // the function ran in that account; assuming it counts against the same deadline.
    match deadline.within(deps.members.access(member)).await {
        Some(Access::Member(member_inspector)) => {
            let lookups = Lookups {
                inspector: member_inspector.as_ref(),
                recorders: &NoRecorders {
                    why: "a member account's recorders are not read: trailwatch's read role there reads CloudTrail only",
                },
                buckets: &NoBuckets {
                    why: "a member account's buckets are not read: trailwatch's read role there reads CloudTrail only",
                },
                deadline,
                coverage,
                home_account: Some(member),
            };
            watch.monitor.look_up(watch.call, resource, &lookups).await
        }
        Some(Access::NotConfigured) => {
            let lookups = Lookups {
                inspector,
                recorders: deps.recorders,
                buckets: deps.buckets,
                deadline,
                coverage,
                home_account: deps.config.home_account.as_deref(),
            };
            watch.monitor.look_up(watch.call, resource, &lookups).await
        }
        Some(Access::Failed(error)) => Enrichment::skipped(format!(
            "account {member}'s resources could not be read: {error}; deploy the forwarder StackSet with OrganizationId so the account has trailwatch's read role"
        )),
        None => Enrichment::skipped(format!(
            "account {member}'s resources could not be read: assuming trailwatch's read role there timed out after {} ms",
            budget.as_millis()
        )),
    }
}

/// The event's account when it is an account other than the function's own: a member account
/// of an organization, in central mode.
fn member_account<'c>(call: &'c ApiCall, deps: &Dependencies<'_>) -> Option<&'c str> {
    let account = call
        .account
        .as_deref()
        .filter(|account| is_account(account))?;
    let home = deps.config.home_account.as_deref()?;
    (account != home).then_some(account)
}

/// Step 4: judge again with the state, which can raise the severity (a trail left stopped, no
/// trail left recording the account).
fn judge_with_state(
    watch: &Watch<'_>,
    enrichment: &Enrichment,
    deps: &Dependencies<'_>,
) -> Result<Assessment, Ending> {
    let assessment = watch.assess(Some(enrichment));
    if assessment.severity < deps.config.min_severity {
        return Err(Ending::BelowThreshold(assessment.severity));
    }
    Ok(assessment)
}

/// Step 5: the alert document, with self-healing's answer to a StopLogging.
async fn assemble(
    watch: &Watch<'_>,
    assessment: Assessment,
    enrichment: Enrichment,
    deps: &Dependencies<'_>,
) -> Alert {
    let restart = answer_stop(
        deps.config.auto_restart,
        watch.call,
        watch.resource.as_ref(),
        &enrichment,
        watch.trusted_by,
        member_account(watch.call, deps),
        deps.restarter,
    )
    .await;
    let subject = assemble::Subject {
        monitor: watch.monitor,
        rule: watch.rule,
        resource: watch.resource.clone(),
        own: watch.own,
    };
    let mut alert = assemble::for_call(watch.call, subject, assessment, enrichment)
        .with_account_name(&deps.config.account_names);
    if let Some(restart) = restart {
        info!(
            event_id = %LogText(watch.call.id.as_deref()),
            auto_restart = ?restart.outcome,
            detail = %LogText(Some(&restart.detail)),
            "self-healing answered StopLogging"
        );
        assemble::with_restart(&mut alert, restart);
    }
    alert
}

/// The account and ARN of the trail self-healing started again, whose not-logging posture
/// finding is then archived at once.
fn restarted_trail(alert: &Alert) -> Option<(String, String)> {
    let restart = alert.auto_restart.as_ref()?;
    if restart.outcome != RestartOutcome::Restarted {
        return None;
    }
    // The ARN DescribeTrails gave, as the posture check names the trail; else the call's.
    let described = match &alert.resource_state {
        ResourceState::Trail {
            config: Some(config),
            ..
        } => config.arn.as_deref(),
        _ => None,
    };
    let arn = Arn::parse(described.or(alert.resource.as_ref()?.valid_arn())?)?;
    if arn.service != "cloudtrail" || arn.resource_after("trail/").is_none() {
        return None;
    }
    let account = arn.account.clone().filter(|account| is_account(account))?;
    Some((account, arn.to_string()))
}

/// Step 6: publish once, to the health topic for trailwatch's own resources (it depends on
/// none of them), else to the alert topic. The event is claimed in the ledger first, so a
/// second delivery of it publishes nothing ([`crate::dedup`]).
async fn publish(
    watch: &Watch<'_>,
    alert: Alert,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Ending {
    let severity = alert.severity;
    let claimed = match claim(watch.call, invocation, deps).await {
        Ok(claimed) => claimed,
        Err(ending) => return ending(severity),
    };
    if let Some(burst) = fold(watch, &alert, invocation, deps).await {
        if let Some(event_id) = claimed {
            // A second delivery of a folded call must not be counted (or published) again.
            if let Err(problem) = deps
                .ledger
                .published(event_id, &format!("folded:{}", burst.id()))
                .await
            {
                warn!(
                    event_id = %LogText(Some(event_id)),
                    problem = %LogText(Some(&problem)),
                    "folded, but not recorded: another delivery of this event would be counted again"
                );
            }
        }
        return Ending::Folded { severity, burst };
    }
    let (publisher, topic) = match watch.own {
        true => (deps.health, "health"),
        false => (deps.publisher, "alert"),
    };
    let findings = import::prepare(&alert, deps);
    let restarted = restarted_trail(&alert);
    let published = publisher.publish(&render(alert)).await;
    // Security Hub after SNS, whatever SNS answered: a finding is a second record, never a
    // reason to hold the alert back.
    import::send(findings, deps, import::deadline(invocation)).await;
    if let Some((account, trail)) = restarted {
        import::trail_restarted(&account, &trail, deps, invocation).await;
    }
    let Some(event_id) = claimed else {
        return match published {
            Ok(message_id) => Ending::Published {
                severity,
                topic,
                message_id,
            },
            Err(failure) => Ending::PublishFailed { severity, failure },
        };
    };
    let logged_id = LogText(Some(event_id));
    match published {
        Ok(message_id) => {
            if let Err(problem) = deps.ledger.published(event_id, &message_id).await {
                warn!(
                    event_id = %logged_id,
                    problem = %LogText(Some(&problem)),
                    "published, but not recorded as published: another delivery of this event after this invocation's deadline would publish it again"
                );
            }
            Ending::Published {
                severity,
                topic,
                message_id,
            }
        }
        Err(failure) => {
            if let Err(problem) = deps.ledger.release(event_id).await {
                warn!(
                    event_id = %logged_id,
                    problem = %LogText(Some(&problem)),
                    "the claim on this event could not be released: its retry publishes once the claim ends at this invocation's deadline"
                );
            }
            Ending::PublishFailed { severity, failure }
        }
    }
}

/// Folds the alert into its principal's burst when the window already had its share of alerts
/// ([`crate::burst`]): `Some(key)` when it was counted for the digest, `None` when it is to be
/// published on its own (not folded, or anything kept it from being counted).
async fn fold(
    watch: &Watch<'_>,
    alert: &Alert,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Option<BurstKey> {
    let settings = &deps.config.burst;
    // trailwatch's own resources go to the health topic one by one; CRITICAL is never folded.
    if settings.threshold == 0 || watch.own || alert.severity == Severity::Critical {
        return None;
    }
    let now = SystemTime::now();
    let key = BurstKey::of(watch.call, now, settings.window)?;
    let logged_id = LogText(watch.call.id.as_deref());
    let not_folded = |problem: String| {
        warn!(
            event_id = %logged_id,
            problem = %LogText(Some(&problem)),
            "the burst tally could not be kept; publishing this alert on its own"
        );
    };
    let seen = match deps
        .bursts
        .count(&key, claim_until(now, invocation.time_left))
        .await
    {
        Ok(seen) => seen,
        Err(problem) => {
            not_folded(problem);
            return None;
        }
    };
    if !folds(alert.severity, seen, settings) {
        return None;
    }
    let call = FoldedCall {
        name: watch.rule.event,
        severity: alert.severity,
        resource: alert
            .resource
            .as_ref()
            .map(|_| alert.resource_label().to_string()),
        actor: alert
            .actor
            .as_ref()
            .map(|actor| actor.arn.clone().unwrap_or_else(|| actor.name.clone()))
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect(),
        at: now,
    };
    match deps.bursts.fold(&key, &call).await {
        Ok(false) => Some(key),
        // The window's first folded call: its digest is due when the window closes.
        Ok(true) => {
            let request = DigestRequest { key };
            let delay = digest_delay(&request.key, now, settings);
            match deps.digests.schedule(&request, delay).await {
                Ok(()) => Some(request.key),
                Err(problem) => {
                    // Without a digest on its way the call must not be counted: take it back
                    // out, so the next folded call tries to schedule the digest again.
                    if let Err(undo) = deps.bursts.unfold(&request.key, &call).await {
                        not_folded(undo);
                    }
                    not_folded(problem);
                    None
                }
            }
        }
        Err(problem) => {
            not_folded(problem);
            None
        }
    }
}

/// The event's claim in the ledger: `Ok(Some(id))` when this invocation holds it, `Ok(None)`
/// when no claim could be made (no usable eventID, or the ledger is unreachable: published
/// anyway), or the ending when another delivery published it or is publishing it.
async fn claim<'c>(
    call: &'c ApiCall,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Option<&'c str>, fn(Severity) -> Ending> {
    let Some(event_id) = call.id.as_deref().filter(|id| is_event_id(id)) else {
        return Ok(None);
    };
    let until = claim_until(SystemTime::now(), invocation.time_left);
    match deps.ledger.claim(event_id, until).await {
        Claim::New => Ok(Some(event_id)),
        Claim::Published { message_id } => {
            info!(
                event_id = %LogText(Some(event_id)),
                message_id = %LogText(message_id.as_deref()),
                "this event was already published"
            );
            Err(|severity| Ending::Duplicate { severity })
        }
        Claim::InFlight => Err(|severity| Ending::InFlight { severity }),
        Claim::Unavailable(problem) => {
            warn!(
                event_id = %LogText(Some(event_id)),
                problem = %LogText(Some(&problem)),
                "the duplicate check could not be made; publishing anyway"
            );
            Ok(None)
        }
    }
}

/// trailwatch's own heartbeat: counted (with its latency from the call), and a probe published
/// to the alert topic that every subscription's filter policy leaves out, so the publish path is
/// proven too without telling anyone.
async fn beat(call: &ApiCall, heartbeat: Heartbeat, deps: &Dependencies<'_>) -> Ending {
    let latency = since(call.time.as_deref(), SystemTime::now());
    deps.metrics
        .record(&metrics::heartbeat(&heartbeat.region, latency));
    let probe = deps
        .publisher
        .publish(&render::heartbeat_probe(call, &heartbeat.region))
        .await;
    if probe.is_ok() {
        deps.metrics.record(&metrics::heartbeat_probe());
    }
    Ending::Heartbeat {
        region: heartbeat.region,
        probe,
    }
}

/// Every ending's log line and answer: the one place the event path's outcome is decided.
fn conclude(
    call: &ApiCall,
    watch: Option<&Watch<'_>>,
    ending: Ending,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let event_id = LogText(call.id.as_deref());
    let event_name = watch.map_or("", |w| w.rule.event);
    let resource = LogText(watch.and_then(|w| w.resource.as_ref()).map(Resource::label));
    match ending {
        // A record without an eventSource is a valid event no monitor can watch.
        Ending::NotMonitored if call.source.is_empty() => {
            warn!(
                outcome = "ignored",
                event_id = %event_id,
                event_name = %LogText(Some(&call.name)),
                "the CloudTrail record has no eventSource; no monitor can watch it"
            );
            Ok(Summary::ignored(
                call.id.clone(),
                "the CloudTrail record has no eventSource, so no monitor can watch it",
            ))
        }
        Ending::NotMonitored => {
            warn!(
                outcome = "ignored",
                event_id = %event_id,
                event_name = %LogText(Some(&call.name)),
                event_source = %LogText(Some(&call.source)),
                "event is not a monitored call; check the EventBridge rule's pattern"
            );
            Ok(Summary::ignored(call.id.clone(), "not a monitored call"))
        }
        // Routine (a rule, topic or bucket that is not trailwatch's or a trail's): debug.
        Ending::NotOurs(why) => {
            debug!(
                outcome = "ignored",
                event_id = %event_id,
                event_name,
                resource = %resource,
                "{why}"
            );
            Ok(Summary::ignored(call.id.clone(), &why))
        }
        Ending::BelowThreshold(severity) => {
            info!(
                outcome = "below-threshold",
                event_id = %event_id,
                event_name,
                severity = %severity,
                min_severity = %deps.config.min_severity,
                "below MIN_SEVERITY; not published"
            );
            Ok(Summary::below_threshold(
                call.id.clone(),
                severity,
                deps.config.min_severity,
            ))
        }
        Ending::Published {
            severity,
            topic,
            message_id,
        } => {
            let latency = since(call.time.as_deref(), SystemTime::now());
            deps.metrics.record(&alert_published(severity, latency));
            info!(
                outcome = "published",
                event_id = %event_id,
                event_name,
                severity = %severity,
                topic,
                resource = %resource,
                message_id = %LogText(Some(&message_id)),
                "alert published"
            );
            Ok(Summary::published(
                call.id.clone(),
                severity,
                message_id,
                None,
            ))
        }
        Ending::Heartbeat { region, probe } => {
            match &probe {
                Ok(message_id) => info!(
                    outcome = "heartbeat",
                    event_id = %event_id,
                    region = %LogText(Some(&region)),
                    probe_message_id = %LogText(Some(message_id)),
                    "trailwatch's own heartbeat received; nothing published to people"
                ),
                Err(failure) => error!(
                    outcome = "heartbeat",
                    event_id = %event_id,
                    region = %LogText(Some(&region)),
                    error = %LogText(Some(&failure.0)),
                    "heartbeat received, but its probe did NOT reach the alert topic: alerts may not either"
                ),
            }
            Ok(Summary {
                message_id: probe.ok(),
                ..Summary::ignored(call.id.clone(), "trailwatch's own heartbeat")
            }
            .with_status(Status::Heartbeat))
        }
        Ending::PublishFailed { severity, failure } => {
            error!(
                outcome = "publish-failed",
                event_id = %event_id,
                event_name,
                severity = %severity,
                resource = %resource,
                error = %LogText(Some(&failure.0)),
                "alert NOT published; returning an error so Lambda retries"
            );
            Err(failure.into())
        }
        Ending::Folded { severity, burst } => {
            info!(
                outcome = "folded",
                event_id = %event_id,
                event_name,
                severity = %severity,
                resource = %resource,
                burst = %LogText(Some(&burst.id())),
                "part of a burst: counted for the window's digest, not published on its own"
            );
            Ok(Summary {
                severity: Some(severity),
                event_id: call.id.clone(),
                ..Summary::nothing(
                    Status::Folded,
                    "part of a burst from one principal: counted in the window's digest",
                )
            })
        }
        Ending::Duplicate { severity } => {
            info!(
                outcome = "duplicate",
                event_id = %event_id,
                event_name,
                severity = %severity,
                resource = %resource,
                "a second delivery of an event already published; not published again"
            );
            Ok(Summary {
                severity: Some(severity),
                event_id: call.id.clone(),
                ..Summary::nothing(
                    Status::Duplicate,
                    "already published for an earlier delivery of this event",
                )
            })
        }
        Ending::InFlight { severity } => {
            warn!(
                outcome = "in-flight",
                event_id = %event_id,
                event_name,
                severity = %severity,
                resource = %resource,
                "another delivery of this event is being published; returning an error so Lambda retries"
            );
            Err(HandlerError::InFlight(call.id.clone().unwrap_or_default()))
        }
    }
}
