//! Which tool made a call, read from its user agent: a short form a responder takes in at a
//! glance (`aws-cli 2.22 (cloudtrail.stop-logging)`); the full string stays in the JSON.
//!
//! The user agent is written by whoever made the call, so what it says is a claim. The CLI
//! command it names is shown as fact only when it agrees with the call CloudTrail recorded;
//! otherwise as what the user agent claims.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    Console,
    Cli,
    Sdk,
    Iac,
    Service,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub kind: ClientKind,
    pub summary: String,
}

/// The call CloudTrail recorded, to hold a user agent's claims against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded<'a> {
    /// `eventSource`, e.g. `cloudtrail.amazonaws.com`.
    pub source: &'a str,
    /// `eventName`, e.g. `StopLogging`.
    pub name: &'a str,
}

/// The client from the user agent, or the AWS service that made the call for someone.
pub fn client_of(
    user_agent: Option<&str>,
    invoked_by: Option<&str>,
    recorded: Option<Recorded<'_>>,
) -> Client {
    let client = |kind, summary: String| Client { kind, summary };
    if let Some(service) = invoked_by {
        return client(ClientKind::Service, service.to_string());
    }
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return client(ClientKind::Unknown, "no user agent".to_string());
    };
    // S3 records the whole user agent in brackets, and the console's several agents joined by
    // `, ` inside them: the first is the client.
    let agent = match agent.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(inner) => inner.split(", ").next().unwrap_or(inner).trim(),
        None => agent,
    };
    let tokens: Vec<&str> = agent.split_whitespace().collect();
    let named = |name: &str| {
        tokens
            .iter()
            .find_map(|token| token.strip_prefix(name)?.strip_prefix('/'))
            .map(short_version)
    };
    if let Some(version) = named("aws-cli") {
        let command = tokens
            .iter()
            .find_map(|token| token.strip_prefix("md/command#"));
        return client(
            ClientKind::Cli,
            match command {
                Some(command) if recorded.is_some_and(|call| agrees(command, call)) => {
                    format!("aws-cli {version} ({command})")
                }
                Some(command) => format!("aws-cli {version} (user agent claims {command})"),
                None => format!("aws-cli {version}"),
            },
        );
    }
    let lowered = agent.to_ascii_lowercase();
    if lowered.contains("console.amazonaws.com")
        || lowered.contains("signin.amazonaws.com")
        || agent == "AWS Internal"
        || agent.starts_with("Mozilla/")
        || agent.starts_with("S3Console/")
    {
        return client(ClientKind::Console, "AWS console (browser)".to_string());
    }
    if let Some(version) = named("Terraform") {
        return client(ClientKind::Iac, format!("Terraform {version}"));
    }
    if lowered.contains("aws-cdk") {
        return client(ClientKind::Iac, "AWS CDK".to_string());
    }
    if let Some(version) = named("Boto3") {
        return client(ClientKind::Sdk, format!("boto3 {version}"));
    }
    let first = tokens.first().copied().unwrap_or(agent);
    match first.split_once('/') {
        Some((name, version)) if name.to_ascii_lowercase().contains("sdk") => client(
            ClientKind::Sdk,
            format!("{name} {}", short_version(version)),
        ),
        _ => client(ClientKind::Unknown, first.chars().take(64).collect()),
    }
}

/// Whether the CLI command a user agent names (`cloudtrail.stop-logging`) is the call recorded:
/// the CLI's service is the event source's (`s3api` is S3's, `cloudwatch` is `monitoring`'s),
/// and its operation, in PascalCase, is the event's name or one of them a prefix of the other
/// (CloudTrail records `PutBucketLifecycle` for `put-bucket-lifecycle-configuration`, and
/// Lambda's names carry an API version: `UpdateFunctionConfiguration20150331v2`).
fn agrees(command: &str, recorded: Recorded<'_>) -> bool {
    let Some((service, operation)) = command.split_once('.') else {
        return false;
    };
    let service = match service {
        "s3api" => "s3",
        "cloudwatch" => "monitoring",
        "configservice" => "config",
        other => other,
    };
    let operation: String = operation
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    recorded.source.strip_suffix(".amazonaws.com") == Some(service)
        && !operation.is_empty()
        && (recorded.name.starts_with(&operation) || operation.starts_with(recorded.name))
}

/// `2.22.4` → `2.22`: what a reader needs to tell tools apart.
fn short_version(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((second_dot, _)) => &version[..second_dot],
        None => version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_clients_are_named_shortly() {
        let cases = [
            (
                "aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.1 os/linux#6.8 md/command#cloudtrail.stop-logging",
                ClientKind::Cli,
                "aws-cli 2.22 (cloudtrail.stop-logging)",
            ),
            ("console.amazonaws.com", ClientKind::Console, "AWS console (browser)"),
            (
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0",
                ClientKind::Console,
                "AWS console (browser)",
            ),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0",
                ClientKind::Iac,
                "Terraform 1.9",
            ),
            (
                "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux",
                ClientKind::Sdk,
                "boto3 1.35",
            ),
            ("aws-sdk-go-v2/1.32.7 os/linux", ClientKind::Sdk, "aws-sdk-go-v2 1.32"),
            ("curl/8.5.0", ClientKind::Unknown, "curl/8.5.0"),
        ];
        let stop_logging = Recorded {
            source: "cloudtrail.amazonaws.com",
            name: "StopLogging",
        };
        for (agent, kind, summary) in cases {
            let client = client_of(Some(agent), None, Some(stop_logging));
            assert_eq!(
                (client.kind, client.summary.as_str()),
                (kind, summary),
                "{agent}"
            );
        }
        let service = client_of(
            Some("cloudformation.amazonaws.com"),
            Some("cloudformation.amazonaws.com"),
            None,
        );
        assert_eq!(service.kind, ClientKind::Service);
        assert_eq!(client_of(None, None, None).kind, ClientKind::Unknown);
    }

    #[test]
    fn a_command_the_call_does_not_match_is_only_claimed() {
        let agent = "aws-cli/2.0.0 ua/2.1 md/command#cloudtrail.start-logging";
        let stop = Recorded {
            source: "cloudtrail.amazonaws.com",
            name: "StopLogging",
        };
        assert_eq!(
            client_of(Some(agent), None, Some(stop)).summary,
            "aws-cli 2.0 (user agent claims cloudtrail.start-logging)"
        );
        assert_eq!(
            client_of(Some(agent), None, None).summary,
            "aws-cli 2.0 (user agent claims cloudtrail.start-logging)",
            "nothing to agree with"
        );
        let lifecycle = Recorded {
            source: "s3.amazonaws.com",
            name: "PutBucketLifecycle",
        };
        assert_eq!(
            client_of(
                Some("[aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.1 md/command#s3api.put-bucket-lifecycle-configuration]"),
                None,
                Some(lifecycle)
            )
            .summary,
            "aws-cli 2.22 (s3api.put-bucket-lifecycle-configuration)",
            "S3's brackets are not part of the client"
        );
        let lambda = Recorded {
            source: "lambda.amazonaws.com",
            name: "UpdateFunctionConfiguration20150331v2",
        };
        assert!(!client_of(
            Some("aws-cli/2.22.4 md/command#lambda.update-function-configuration"),
            None,
            Some(lambda)
        )
        .summary
        .contains("claims"));
        let console = client_of(
            Some("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.1030 Linux/5.4]"),
            None,
            None,
        );
        assert_eq!(console.kind, ClientKind::Console);
    }
}
