//! Which tool made a call, read from its user agent: a short form a responder takes in at a
//! glance (`aws-cli 2.22 (cloudtrail.stop-logging)`); the full string stays in the JSON.

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

/// The client from the user agent, or the AWS service that made the call for someone.
pub fn client_of(user_agent: Option<&str>, invoked_by: Option<&str>) -> Client {
    let client = |kind, summary: String| Client { kind, summary };
    if let Some(service) = invoked_by {
        return client(ClientKind::Service, service.to_string());
    }
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return client(ClientKind::Unknown, "no user agent".to_string());
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
                Some(command) => format!("aws-cli {version} ({command})"),
                None => format!("aws-cli {version}"),
            },
        );
    }
    let lowered = agent.to_ascii_lowercase();
    if lowered.contains("console.amazonaws.com")
        || lowered.contains("signin.amazonaws.com")
        || agent == "AWS Internal"
        || agent.starts_with("Mozilla/")
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
        for (agent, kind, summary) in cases {
            let client = client_of(Some(agent), None);
            assert_eq!(
                (client.kind, client.summary.as_str()),
                (kind, summary),
                "{agent}"
            );
        }
        let service = client_of(
            Some("cloudformation.amazonaws.com"),
            Some("cloudformation.amazonaws.com"),
        );
        assert_eq!(service.kind, ClientKind::Service);
        assert_eq!(client_of(None, None).kind, ClientKind::Unknown);
    }
}
