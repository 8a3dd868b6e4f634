//! The organization's posture run ([`crate::organization`]): started by the schedule, carried
//! out by the posture queue's consumers, one account per message, and summed up once.
//!
//! [`start`] lists the accounts, records the run and sends one check per account. [`on_batch`]
//! checks a batch of accounts at once (each through its read role, within one deadline),
//! records each result, and the check that completes the run claims and publishes its one
//! summary and writes the run's "finished" line. An account that cannot be read is a finding;
//! a result that cannot be recorded, or a summary that cannot be published, is a batch item
//! failure, so SQS delivers that check again (its result counts once however often it is
//! recorded) and, after the queue's redrive limit, parks it: the run then never finishes, and
//! the dead man's switch says so.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::SecondsFormat;
use futures_util::future::join_all;
use tracing::{error, info, warn, Instrument};

use crate::alert::posture::Finding;
use crate::import::PostureScope;
use crate::inspector::TrailInspector;
use crate::invocation::{
    BatchItemFailure, Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE,
};
use crate::lookup::Deadline;
use crate::members::Access;
use crate::metrics::alert_published;
use crate::organization::{run_id, AccountCheck, AccountResult, Begun};
use crate::parse::{QueuedMessage, Schedule};
use crate::posture::finished::RunLog;
use crate::posture::gather::{gather, POSTURE_BUDGET};
use crate::posture::judge;
use crate::posture::recorders;
use crate::posture::remind::Window;
use crate::posture::report;
use crate::posture::security_hub;
use crate::render::escape::LogText;
use crate::render::render;
use crate::shape::is_account;

/// What recording results and sending the summary need after the checks: reads of every
/// result, one publish, a few writes.
const SUMMARY_RESERVE: Duration = Duration::from_secs(10);

/// Lists the accounts, records the run once and sends one check per account.
pub async fn start(
    schedule: &Schedule,
    window: &Window,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let scheduled_at = window.now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let run = run_id(schedule.id.as_deref(), &scheduled_at);
    let span = tracing::info_span!("posture_run", run = %run);
    async {
        let accounts = match deps.accounts.accounts().await {
            Ok(accounts) => accounts,
            Err(problem) => return Err(not_started("the accounts could not be listed", problem)),
        };
        let (valid, invalid): (Vec<String>, Vec<String>) =
            accounts.into_iter().partition(|a| is_account(a));
        if !invalid.is_empty() {
            warn!(
                skipped = invalid.len(),
                "account ids that are not 12 digits were left out of the run"
            );
        }
        if valid.is_empty() {
            return Err(not_started("no account to check", String::new()));
        }
        let sent = match deps.runs.begin(&run, &valid).await {
            Ok(Begun::New) => false,
            Ok(Begun::Again { sent }) => sent,
            Err(problem) => return Err(not_started("the run could not be recorded", problem)),
        };
        if sent {
            info!("this run's checks were already sent (the schedule's event arrived again)");
            return Ok(Summary::nothing(
                Status::Duplicate,
                "this run's checks were already sent",
            ));
        }
        let checks: Vec<AccountCheck> = valid
            .iter()
            .map(|account| AccountCheck {
                posture_run: run.clone(),
                account: account.clone(),
                scheduled_at: scheduled_at.clone(),
                report_all: schedule.report_all,
            })
            .collect();
        if let Err(problem) = deps.posture_queue.send(&checks).await {
            return Err(not_started("its checks could not be sent", problem));
        }
        if let Err(problem) = deps.runs.mark_sent(&run).await {
            // Harmless: a second delivery of the schedule's event sends them again, and each
            // account counts once.
            warn!(problem = %LogText(Some(&problem)), "the run's checks were sent but not marked sent");
        }
        info!(
            check = "posture",
            outcome = "started",
            accounts = checks.len(),
            regions = deps.config.posture.regions.len(),
            "organization posture run started: one check per account on the posture queue"
        );
        Ok(Summary::nothing(
            Status::RunStarted,
            &format!("{} account check(s) sent", checks.len()),
        ))
    }
    .instrument(span)
    .await
}

fn not_started(what: &str, problem: String) -> HandlerError {
    let problem = if problem.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {problem}")
    };
    error!(
        check = "posture",
        outcome = "failed",
        error = %LogText(Some(&problem)),
        "the organization's posture run could not be started; Lambda retries the schedule's event"
    );
    HandlerError::RunNotStarted(problem)
}

/// Checks every account of the batch at once, records each, and sends the run's summary when
/// a check completes it; answers with the checks SQS should deliver again.
pub async fn on_batch(
    batch: &[QueuedMessage],
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Summary {
    let deadline = Deadline::after(checks_budget(invocation));
    let checked = join_all(batch.iter().map(|message| async move {
        let span = tracing::info_span!(
            "posture_account",
            message_id = %LogText(Some(&message.message_id))
        );
        let check = match AccountCheck::from_body(&message.body) {
            Some(Ok(check)) if is_account(&check.account) => check,
            Some(Ok(_)) | Some(Err(_)) | None => {
                span.in_scope(|| {
                    error!(
                        outcome = "rejected",
                        "a posture-queue message that is not an account check; dropped"
                    )
                });
                return (message, None);
            }
        };
        let result = check_account(&check, deadline, deps)
            .instrument(tracing::info_span!(
                "posture_account",
                run = %LogText(Some(&check.posture_run)),
                account = %check.account
            ))
            .await;
        (message, Some((check, result)))
    }))
    .await;

    let mut failures = Vec::new();
    let mut summaries = 0;
    for (message, checked) in checked {
        let Some((check, result)) = checked else {
            continue;
        };
        let span = tracing::info_span!(
            "posture_account",
            run = %LogText(Some(&check.posture_run)),
            account = %check.account
        );
        match record(&check, &result, invocation, deps)
            .instrument(span)
            .await
        {
            Ok(summarised) => summaries += usize::from(summarised),
            Err(()) => failures.push(BatchItemFailure {
                item_identifier: message.message_id.clone(),
            }),
        }
    }
    Summary {
        batch_item_failures: Some(failures),
        ..Summary::nothing(
            Status::AccountsChecked,
            &format!(
                "{} account check(s) handled{}",
                batch.len(),
                if summaries > 0 {
                    "; the run is complete and its summary handled"
                } else {
                    ""
                }
            ),
        )
    }
}

/// The checks' share of the invocation: [`POSTURE_BUDGET`], less what recording and the
/// summary need.
fn checks_budget(invocation: &Invocation) -> Duration {
    match invocation.time_left {
        Some(left) => POSTURE_BUDGET.min(left.saturating_sub(SUMMARY_RESERVE + PUBLISH_RESERVE)),
        None => POSTURE_BUDGET,
    }
}

/// One account in every region of POSTURE_REGIONS: through its read role, or the function's
/// own role for its own account. An account that cannot be read at all is one finding.
async fn check_account(
    check: &AccountCheck,
    deadline: Deadline,
    deps: &Dependencies<'_>,
) -> AccountResult {
    let config = deps.config;
    let window = Window::at(Some(&check.scheduled_at), &config.posture);
    let own = config.home_account.as_deref() == Some(check.account.as_str());
    let member: Arc<dyn TrailInspector>;
    let inspector: &dyn TrailInspector = match (own, deps.inspector) {
        (true, Some(inspector)) => inspector,
        _ => match deadline.within(deps.members.access(&check.account)).await {
            Some(Access::Member(inspector)) => {
                member = inspector;
                member.as_ref()
            }
            Some(Access::NotConfigured) => {
                return unreadable(check, "no read role is configured (MEMBER_ROLE_NAME)", deps)
            }
            Some(Access::Failed(problem)) => return unreadable(check, &problem.to_string(), deps),
            None => return unreadable(check, "assuming its read role timed out", deps),
        },
    };
    let gathered = gather(inspector, &config.posture.regions, deadline).await;
    let mut findings = judge::at_or_above(&gathered, &window, config.min_severity);
    // The other recorders are read in the function's own account only (the read role reads
    // CloudTrail).
    if own {
        let checks = recorders::RecorderChecks::of(&config.posture);
        let recorder_findings =
            recorders::recorder_findings(deps.recorders, &config.posture.regions, checks, deadline)
                .await;
        judge::add_at_or_above(
            &mut findings,
            recorder_findings,
            &window,
            config.min_severity,
        );
    }
    for finding in &mut findings {
        finding.account = Some(check.account.clone());
    }
    // Security Hub holds the account's findings in the account itself, kept current here.
    security_hub::keep_current(
        &check.account,
        &findings,
        &gathered.trails,
        PostureScope::Trails,
        deadline,
        deps,
    )
    .await;
    let home_region = config.posture.regions.first().cloned().unwrap_or_default();
    let next_steps = judge::next_steps(&findings, &gathered.trails, &home_region, None);
    let trails_checked = gathered.trails.len();
    let trails = gathered
        .trails
        .into_iter()
        .filter(|trail| {
            findings.iter().any(|f| {
                f.trail.as_deref() == trail.config.arn.as_deref()
                    || f.trail.as_deref() == Some(trail.config.label())
            })
        })
        .collect();
    info!(
        trails = trails_checked,
        findings = findings.len(),
        "account checked"
    );
    AccountResult {
        account: check.account.clone(),
        trails_checked,
        findings,
        next_steps,
        trails,
    }
}

fn unreadable(check: &AccountCheck, problem: &str, deps: &Dependencies<'_>) -> AccountResult {
    warn!(
        problem = %LogText(Some(problem)),
        "the account could not be read: a finding in the run's summary"
    );
    let mut finding = judge::account_not_read(&check.account, problem);
    // Whether it is new is not known (nothing records when the role went missing): it is told
    // in the summary of every run that repeats open findings, like any finding without a start.
    finding.new = false;
    let findings: Vec<Finding> = if finding.severity >= deps.config.min_severity {
        vec![finding]
    } else {
        Vec::new()
    };
    let next_steps = judge::next_steps(&findings, &[], "", None);
    AccountResult {
        account: check.account.clone(),
        trails_checked: 0,
        findings,
        next_steps,
        trails: Vec::new(),
    }
}

/// Records the account's result; when that completes the run, sends its summary. `Ok(true)`
/// when this call handled the summary, `Err` when SQS should deliver the check again.
async fn record(
    check: &AccountCheck,
    result: &AccountResult,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<bool, ()> {
    let run = &check.posture_run;
    let progress = match deps.runs.record(run, result).await {
        Ok(progress) => progress,
        Err(problem) => {
            warn!(problem = %LogText(Some(&problem)), "the account's result could not be recorded; SQS delivers its check again");
            return Err(());
        }
    };
    if !progress.complete() {
        return Ok(false);
    }
    summarise(check, progress.expected, invocation, deps).await
}

/// The run's one summary, by whichever check claims it first.
async fn summarise(
    check: &AccountCheck,
    accounts: usize,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<bool, ()> {
    let started = Instant::now();
    let config = deps.config;
    let run = &check.posture_run;
    let until = SystemTime::now() + invocation.time_left.unwrap_or(Duration::from_secs(60));
    match deps.runs.claim_summary(run, until).await {
        Ok(true) => {}
        Ok(false) => {
            info!("the run's summary was sent, or is being sent by another invocation");
            return Ok(false);
        }
        Err(problem) => {
            warn!(problem = %LogText(Some(&problem)), "the run's summary could not be claimed; SQS delivers the check again");
            return Err(());
        }
    }
    let results = match deps.runs.results(run).await {
        Ok(results) => results,
        Err(problem) => {
            warn!(problem = %LogText(Some(&problem)), "the run's results could not be read; SQS delivers the check again");
            release(run, deps).await;
            return Err(());
        }
    };
    let window = Window::at(Some(&check.scheduled_at), &config.posture);
    let findings = || results.iter().flat_map(|r| &r.findings);
    let log = RunLog {
        started,
        accounts: accounts.max(results.len()),
        regions: config.posture.regions.len(),
        trails: results.iter().map(|r| r.trails_checked).sum(),
        findings: findings().count(),
        new_findings: findings().filter(|f| f.new).count(),
        worst: findings().map(|f| f.severity).max(),
        level: config.signal_level,
    };
    let due = window.is_digest_run() || check.report_all || findings().any(|f| f.new);
    if log.findings == 0 || !due {
        log.finished(
            if log.findings == 0 {
                "healthy"
            } else {
                "already-reported"
            },
            None,
        );
        sent(run, deps).await;
        return Ok(true);
    }
    let alert = report::organization_alert(results, &window, config);
    let severity = alert.severity;
    match deps.publisher.publish(&render(alert)).await {
        Ok(message_id) => {
            log.finished("published", Some(&message_id));
            deps.metrics.record(&alert_published(severity, None));
            sent(run, deps).await;
            Ok(true)
        }
        Err(failure) => {
            error!(
                check = "posture",
                outcome = "publish-failed",
                error = %LogText(Some(&failure.0)),
                "the organization's posture summary NOT published; SQS delivers the check again"
            );
            release(run, deps).await;
            Err(())
        }
    }
}

async fn sent(run: &str, deps: &Dependencies<'_>) {
    if let Err(problem) = deps.runs.summary_sent(run).await {
        warn!(problem = %LogText(Some(&problem)), "the summary was handled but not marked sent: a second delivery of this check could send it again");
    }
}

async fn release(run: &str, deps: &Dependencies<'_>) {
    if let Err(problem) = deps.runs.release_summary(run).await {
        warn!(problem = %LogText(Some(&problem)), "the summary's claim could not be released: the next delivery waits for it to lapse");
    }
}
