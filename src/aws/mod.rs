//! Adapters from the pipeline's traits to the AWS SDK. Nothing outside this module names an
//! AWS SDK type.

pub mod buckets;
pub mod cloudtrail;
pub mod dynamodb;
pub mod organizations;
pub mod plumbing;
pub mod recorders;
pub mod roots;
pub mod runs;
pub mod securityhub;
pub mod sns;
pub mod sqs;
pub mod sts;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::TrustedRoots;
use crate::inspector::LookupError;

/// An SDK error as (code, message), short enough for an alert and a log line: the service's
/// error code and message when it answered, otherwise what went wrong on the way.
pub fn describe_sdk_error<E, R>(error: &SdkError<E, R>) -> (Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (error, error.code()) {
        (_, Some(code)) => (
            Some(code.to_string()),
            error.message().unwrap_or("no message").to_string(),
        ),
        (SdkError::ServiceError(service), None) => (None, service.err().to_string()),
        (SdkError::TimeoutError(_), None) => (None, "the request timed out".to_string()),
        (SdkError::DispatchFailure(failure), None) if failure.is_timeout() => {
            (None, "the connection timed out".to_string())
        }
        // The whole chain names every layer of the HTTP stack; the innermost cause (connection
        // refused, a name that does not resolve) is what a reader needs.
        (SdkError::DispatchFailure(failure), None) => (
            None,
            format!(
                "could not reach the endpoint: {}",
                failure.as_connector_error().map_or_else(
                    || DisplayErrorContext(error).to_string(),
                    |connector| innermost_cause(connector),
                )
            ),
        ),
        _ => (None, DisplayErrorContext(error).to_string()),
    }
}

/// An SDK error as one line naming the call: `CALL failed: CODE: message` (or without a code
/// when the service did not answer).
pub fn call_failed<E, R>(call: &str, error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match describe_sdk_error(error) {
        (Some(code), message) => format!("{call} failed: {code}: {message}"),
        (None, message) => format!("{call} failed: {message}"),
    }
}

/// An SDK error as a lookup's failure.
pub fn lookup_error<E, R>(error: &SdkError<E, R>) -> LookupError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = describe_sdk_error(error);
    LookupError { code, message }
}

fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Lookups (the trail's state, trailwatch's own plumbing) are cut off by their deadline anyway;
/// one quick retry covers a blip.
fn lookup_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(2)
}

fn lookup_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_millis(1500))
        .operation_timeout(Duration::from_millis(3000))
        .build()
}

/// The duplicate check and a digest's scheduling sit on the publish path: short limits, and a
/// failure only means publishing the alert on its own.
fn publish_path_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_millis(1000))
        .operation_timeout(Duration::from_millis(2000))
        .build()
}

/// Builds the clients once, at init. The shared config honours the standard AWS variables
/// (AWS_REGION, AWS_ENDPOINT_URL, credentials) and trusts `roots`; each service gets its own
/// time limits.
pub async fn clients(roots: TrustedRoots) -> Clients {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .http_client(roots::https_client(roots))
        .load()
        .await;

    // The trail lookups, bounded by the enrichment deadline.
    let cloudtrail = aws_sdk_cloudtrail::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // Publishing is the one thing that must happen: three attempts, all within the time the
    // handler reserves for it.
    let sns = aws_sdk_sns::config::Builder::from(&shared)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(1000))
                .operation_attempt_timeout(Duration::from_millis(1500))
                .operation_timeout(Duration::from_millis(4500))
                .build(),
        )
        .build();

    // AssumeRole into a member account's read role (central mode), bounded like the lookups
    // it serves: it runs inside their deadline.
    let sts = aws_sdk_sts::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // The duplicate check sits on the publish path: short limits, and a failure only means
    // publishing without it.
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(publish_path_timeouts())
        .build();

    // Scheduling a burst's digest: on the publish path like the ledger, bounded the same way.
    let sqs = aws_sdk_sqs::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(publish_path_timeouts())
        .build();

    // An organization's posture run: its record and every account's result (BatchGetItem of up
    // to a hundred results), off the publish path, so bounded like the lookups but longer.
    let posture_dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(1000))
                .operation_attempt_timeout(Duration::from_millis(3000))
                .operation_timeout(Duration::from_millis(8000))
                .build(),
        )
        .build();

    // ... and its accounts (ListAccounts, a page of 20 at a time): bounded the same way.
    let organizations = aws_sdk_organizations::config::Builder::from(&shared)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(lookup_timeouts())
        .build();

    // Findings in Security Hub (opt-in), after the alert is published: throttling is retried
    // with the standard retries' backoff, bounded like the publish.
    let securityhub = aws_sdk_securityhub::config::Builder::from(&shared)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(1000))
                .operation_attempt_timeout(Duration::from_millis(2000))
                .operation_timeout(Duration::from_millis(5000))
                .build(),
        )
        .build();

    // Whether AWS Config still records, for a Config call's alert: bounded like the trail
    // lookups, within the same deadline.
    let config = aws_sdk_config::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // ... and whether GuardDuty's detector is still enabled, for a GuardDuty call's alert.
    let guardduty = aws_sdk_guardduty::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // ... and a trail bucket's versioning and public access block. Path-style addressing only
    // where an endpoint is set (a local emulator), whose host cannot take the bucket's name.
    let s3 = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(shared.endpoint_url().is_some())
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // The posture check's reads of trailwatch's own rules: bounded like the trail lookups.
    let events = aws_sdk_eventbridge::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    // ... and its count of each watched region's heartbeats: bounded the same way.
    let cloudwatch = aws_sdk_cloudwatch::config::Builder::from(&shared)
        .retry_config(lookup_retries())
        .timeout_config(lookup_timeouts())
        .build();

    Clients {
        cloudtrail: aws_sdk_cloudtrail::Client::from_conf(cloudtrail.clone()),
        cloudtrail_config: cloudtrail,
        config: aws_sdk_config::Client::from_conf(config),
        guardduty: aws_sdk_guardduty::Client::from_conf(guardduty),
        s3: aws_sdk_s3::Client::from_conf(s3),
        sts: aws_sdk_sts::Client::from_conf(sts),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
        posture_dynamodb: aws_sdk_dynamodb::Client::from_conf(posture_dynamodb),
        organizations: aws_sdk_organizations::Client::from_conf(organizations),
        securityhub: aws_sdk_securityhub::Client::from_conf(securityhub.clone()),
        securityhub_config: securityhub,
        sqs: aws_sdk_sqs::Client::from_conf(sqs),
        sns: aws_sdk_sns::Client::from_conf(sns),
        events: aws_sdk_eventbridge::Client::from_conf(events),
        cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
    }
}

/// The function's clients, built once at init.
pub struct Clients {
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    /// The lookups' CloudTrail settings, from which a member account's client is built.
    pub cloudtrail_config: aws_sdk_cloudtrail::Config,
    pub config: aws_sdk_config::Client,
    pub guardduty: aws_sdk_guardduty::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub posture_dynamodb: aws_sdk_dynamodb::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub securityhub: aws_sdk_securityhub::Client,
    /// Security Hub's settings, from which a member account's client is built.
    pub securityhub_config: aws_sdk_securityhub::Config,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}
