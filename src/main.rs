//! The Lambda entry point, and `bootstrap --preview EVENT.json` for trying alerts locally.

use std::process::ExitCode;

use lambda_runtime::{layers, service_fn, LambdaEvent, Runtime};
use serde_json::Value;
use trailwatch::asff::Hub;
use trailwatch::aws::buckets::AwsBuckets;
use trailwatch::aws::recorders::AwsRecorders;
use trailwatch::aws::{
    self, cloudtrail::CloudTrailInspector, dynamodb::DynamoLedger,
    organizations::OrganizationAccounts, plumbing::Plumbing, runs::DynamoRuns,
    securityhub::SecurityHub, sns::SnsPublisher, sqs::DigestQueue, sqs::PostureChecks,
    sts::ReadRole,
};
use trailwatch::burst::{BurstTally, DigestScheduler, NoBursts};
use trailwatch::config::{AccountSource, Config};
use trailwatch::dedup::{EventLedger, NoLedger};
use trailwatch::handler::{handle, Dependencies};
use trailwatch::hub::{FindingsHub, NoHub};
use trailwatch::input::SanitizingLayer;
use trailwatch::inspector::TrailInspector;
use trailwatch::members::{AssumedRoles, MemberAccess, NoMemberAccess};
use trailwatch::metrics::Emf;
use trailwatch::organization::{
    AccountDirectory, ListedAccounts, NoOrganization, PostureQueue, RunLedger,
};
use trailwatch::preview::{describe, preview, preview_findings};
use trailwatch::publish::AlertPublisher;
use trailwatch::restart::NoRestart;

const USAGE: &str =
    "usage: bootstrap                                   run as an AWS Lambda function
       bootstrap --event-patterns    print the alert rules' EventBridge patterns (every monitored call)
       bootstrap --guard-patterns    print the guard rules' patterns (placeholders for !Sub)
       bootstrap --policy-table      print the severity policy as a Markdown table
       bootstrap --preview EVENT.json [--with-trail-state] [--json | --asff]
                 render the alert for EVENT.json without publishing it;
                 --with-trail-state  look the trail up with the usual AWS settings
                                     (read-only CloudTrail calls; AWS_ENDPOINT_URL is honoured)
                 --json              print one JSON object instead of the readable layout
                 --asff              print, as one JSON array, the Security Hub findings the
                                     event would import (a posture event: every finding of
                                     the run; needs --with-trail-state)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => run_lambda().await,
        Some("--preview") => run_preview(&args[1..]).await,
        Some("--event-patterns") => {
            println!(
                "{}",
                serde_json::to_string_pretty(&trailwatch::monitors::event_patterns())
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Some("--guard-patterns") => {
            println!(
                "{}",
                serde_json::to_string_pretty(&trailwatch::monitors::guard_patterns())
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Some("--policy-table") => {
            print!("{}", trailwatch::monitors::policy_table());
            ExitCode::SUCCESS
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown argument {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn run_lambda() -> ExitCode {
    trailwatch::logging::init(std::io::stdout);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(variable = e.variable, error = ?e.to_string(), "cannot start: fix the function's environment");
            return ExitCode::FAILURE;
        }
    };
    let clients = aws::clients(config.trusted_roots).await;
    let inspector = CloudTrailInspector::new(clients.cloudtrail);
    // Central mode reads member accounts through trailwatch's read role in each.
    // With findings on, a finding about a member account is imported there, through the same
    // role.
    let members: Box<dyn MemberAccess> = match &config.member_role {
        Some(role) => {
            let read = ReadRole::new(
                clients.sts,
                clients.cloudtrail_config,
                &role.partition,
                &role.name,
            );
            Box::new(AssumedRoles::new(
                match (config.security_hub, Hub::of(&config)) {
                    (true, Some(home)) => {
                        read.with_findings(clients.securityhub_config.clone(), home)
                    }
                    _ => read,
                },
            ))
        }
        None => Box::new(NoMemberAccess),
    };
    let ledger: Box<dyn EventLedger> = match &config.dedup_table {
        Some(table) => Box::new(DynamoLedger::new(clients.dynamodb.clone(), table.clone())),
        None => Box::new(NoLedger),
    };
    // Bursts are folded only with a threshold, the table that tallies them and the queue that
    // sends their digests.
    let (bursts, digests): (Box<dyn BurstTally>, Box<dyn DigestScheduler>) = match (
        &config.dedup_table,
        &config.digest_queue_url,
    ) {
        (Some(table), Some(queue)) if config.burst.threshold > 0 => (
            Box::new(DynamoLedger::new(clients.dynamodb, table.clone())),
            Box::new(DigestQueue::new(clients.sqs.clone(), queue.clone())),
        ),
        _ => {
            if config.burst.threshold > 0 {
                tracing::warn!("BURST_THRESHOLD is set but DEDUP_TABLE or DIGEST_QUEUE_URL is not: every alert is published on its own");
            }
            (Box::new(NoBursts), Box::new(NoBursts))
        }
    };
    // An organization's posture run: its accounts, its queue and its record (the config
    // refuses POSTURE_ACCOUNTS without the table and the queue).
    let (accounts, posture_queue, runs): (
        Box<dyn AccountDirectory>,
        Box<dyn PostureQueue>,
        Box<dyn RunLedger>,
    ) = match (
        &config.posture.accounts,
        &config.posture_queue_url,
        &config.dedup_table,
    ) {
        (Some(source), Some(queue), Some(table)) => (
            match source {
                AccountSource::Organization => {
                    Box::new(OrganizationAccounts::new(clients.organizations.clone()))
                }
                AccountSource::Listed(accounts) => Box::new(ListedAccounts(accounts.clone())),
            },
            Box::new(PostureChecks::new(clients.sqs.clone(), queue.clone())),
            Box::new(DynamoRuns::new(clients.posture_dynamodb, table.clone())),
        ),
        _ => (
            Box::new(NoOrganization),
            Box::new(NoOrganization),
            Box::new(NoOrganization),
        ),
    };
    // Findings in Security Hub, in the function's own account and region, when asked for.
    let hub: Box<dyn FindingsHub> = match (config.security_hub, Hub::of(&config)) {
        (true, Some(home)) => Box::new(SecurityHub::new(clients.securityhub.clone(), home)),
        _ => Box::new(NoHub),
    };
    let plumbing = Plumbing::new(clients.events, clients.sns.clone(), clients.cloudwatch);
    let health = config
        .health_topic_arn
        .clone()
        .map(|topic| SnsPublisher::new(clients.sns.clone(), topic));
    let publisher = SnsPublisher::new(clients.sns, config.topic_arn.clone());
    let emf = Emf {
        level: config.signal_level,
    };
    let buckets = AwsBuckets::new(clients.s3.clone());
    let recorders = AwsRecorders::new(
        clients.config.clone(),
        clients.securityhub.clone(),
        clients.guardduty.clone(),
        clients.organizations.clone(),
    );
    let deps = Dependencies {
        config: &config,
        inspector: Some(&inspector),
        recorders: &recorders,
        buckets: &buckets,
        members: members.as_ref(),
        ledger: ledger.as_ref(),
        bursts: bursts.as_ref(),
        digests: digests.as_ref(),
        publisher: &publisher,
        health: health
            .as_ref()
            .map_or(&publisher, |h| h as &dyn AlertPublisher),
        // StartLogging is possible only when asked for (and granted only then, in the template).
        restarter: if config.auto_restart {
            &inspector
        } else {
            &NoRestart
        },
        metrics: &emf,
        accounts: accounts.as_ref(),
        posture_queue: posture_queue.as_ref(),
        runs: runs.as_ref(),
        hub: hub.as_ref(),
        plumbing: &plumbing,
    };
    let deps = &deps;
    // The payload is cleaned before the runtime parses it, so no input it would refuse (a lone
    // surrogate escape, deep nesting, invalid UTF-8) can keep an event from the handler.
    let result = Runtime::new(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event, deps).await
    }))
    .layer(layers::TracingLayer::new())
    .layer(SanitizingLayer)
    .run()
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e.to_string(), "the Lambda runtime loop ended");
            ExitCode::FAILURE
        }
    }
}

async fn run_preview(args: &[String]) -> ExitCode {
    trailwatch::logging::init(std::io::stderr);
    let Some((path, flags)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (mut with_trail_state, mut as_json, mut as_asff) = (false, false, false);
    for flag in flags {
        match flag.as_str() {
            "--with-trail-state" => with_trail_state = true,
            "--json" => as_json = true,
            "--asff" => as_asff = true,
            _ => {
                eprintln!("unknown preview option {flag:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    // The same cleaning as the Lambda payload gets, so any file the function would alert on
    // previews the same alert.
    let payload: Value = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|body| {
            let cleaned = trailwatch::input::prepare(&body);
            serde_json::from_slice(cleaned.as_deref().unwrap_or(&body)).map_err(|e| e.to_string())
        }) {
        Ok(payload) => payload,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The function's own settings, so a preview shows what the function would do; only the
    // topic may be missing, since nothing is published.
    let config = match Config::for_preview(|name| std::env::var(name).ok()) {
        // Findings are imported in the function's account and region (its topic's); without a
        // topic, the event's stand in for them.
        Ok(mut config) if as_asff && config.topic_arn.is_empty() => {
            let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or("");
            config.topic_arn = format!(
                "arn:aws:sns:{}:{}:trailwatch-preview",
                field("region"),
                field("account")
            );
            config
        }
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let inspector = if with_trail_state {
        let clients = aws::clients(config.trusted_roots).await;
        Some(CloudTrailInspector::new(clients.cloudtrail))
    } else {
        None
    };
    let inspector = inspector.as_ref().map(|i| i as &dyn TrailInspector);
    if as_asff {
        return match preview_findings(&payload, &config, inspector).await {
            Ok(findings) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&findings).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    match preview(&payload, &config, inspector).await {
        Ok((summary, alert)) if as_json => {
            println!("{}", preview_json(&summary, alert.as_ref()));
            ExitCode::SUCCESS
        }
        Ok((summary, alert)) => {
            println!(
                "Result: {}",
                serde_json::to_string(&summary).unwrap_or_default()
            );
            match alert {
                Some(alert) => print!("\n{}", describe(&alert)),
                None => println!("(no alert: the event would not be published)"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn preview_json(
    summary: &trailwatch::handler::Summary,
    alert: Option<&trailwatch::render::RenderedAlert>,
) -> Value {
    let alert = alert.map(|alert| {
        let attributes: serde_json::Map<String, Value> = alert
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(v.as_str())))
            .collect();
        serde_json::json!({
            "subject": alert.subject,
            "attributes": attributes,
            "message": serde_json::from_str::<Value>(&alert.message).unwrap_or(Value::Null),
        })
    });
    serde_json::json!({ "result": summary, "alert": alert })
}
