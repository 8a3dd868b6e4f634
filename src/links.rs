//! Console links for an alert: the resource's page, and the event in CloudTrail event history.
//!
//! Everything put into a URL comes from the event, so regions are checked against the shape of a
//! real region and every other part is percent-encoded: a crafted trail name cannot turn a link
//! into one that points elsewhere.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::resource::{Resource, ResourceKind};
use crate::shape::{is_region, region_in_partition};

/// Encode all but the unreserved characters of RFC 3986.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const MAX_ARN_LEN: usize = 300;
const MAX_EVENT_ID_LEN: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Links {
    /// The resource's page in its service's console.
    pub resource: Option<String>,
    /// The event in CloudTrail event history.
    pub event: Option<String>,
    /// The IAM user or role that made the call, in the IAM console.
    pub principal: Option<String>,
}

pub fn console_links(
    partition: Option<&str>,
    resource: Option<&Resource>,
    event_region: Option<&str>,
    event_id: Option<&str>,
) -> Links {
    let partition = partition.unwrap_or("aws");
    let host = console_host(partition);
    let in_partition = |region: &&str| is_region(region) && region_in_partition(region, partition);
    let event = match (event_region.filter(in_partition), event_id) {
        // Real event ids are short; anything longer is crafted and gets no link.
        (Some(region), Some(id)) if !id.is_empty() && id.len() <= MAX_EVENT_ID_LEN => {
            Some(format!(
                "https://{host}/cloudtrailv2/home?region={region}#/events/{}",
                encode(id)
            ))
        }
        _ => None,
    };
    Links {
        principal: None,
        resource: resource
            .filter(|r| {
                r.region
                    .as_deref()
                    .is_some_and(|region| in_partition(&region))
            })
            .and_then(|r| resource_page(host, r)),
        event,
    }
}

/// The console page of a resource; `None` for anything crafted (a region that is not a region,
/// an over-long ARN) or without a page worth linking.
fn resource_page(host: &str, resource: &Resource) -> Option<String> {
    let region = resource.region.as_deref().filter(|r| is_region(r))?;
    let name = resource
        .name
        .as_deref()
        .filter(|n| n.len() <= MAX_ARN_LEN)?;
    match resource.kind {
        ResourceKind::Trail => {
            let arn = resource.arn.as_deref().filter(|a| a.len() <= MAX_ARN_LEN)?;
            Some(format!(
                "https://{host}/cloudtrailv2/home?region={region}#/trails/{}",
                encode(arn)
            ))
        }
        ResourceKind::Bucket => Some(format!(
            "https://{host}/s3/buckets/{}?region={region}",
            encode(name)
        )),
        ResourceKind::Key => Some(format!(
            "https://{host}/kms/home?region={region}#/kms/keys/{}",
            encode(name)
        )),
        ResourceKind::LogGroup => Some(format!(
            "https://{host}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}",
            encode(name)
        )),
        ResourceKind::EventDataStore => Some(format!(
            "https://{host}/cloudtrailv2/home?region={region}#/lake"
        )),
        ResourceKind::Rule => Some(format!("https://{host}/events/home?region={region}#/rules")),
        ResourceKind::Topic => Some(format!(
            "https://{host}/sns/v3/home?region={region}#/topics"
        )),
        ResourceKind::Function => Some(format!(
            "https://{host}/lambda/home?region={region}#/functions/{}",
            encode(name)
        )),
        ResourceKind::EventBus => Some(format!(
            "https://{host}/events/home?region={region}#/eventbuses"
        )),
        ResourceKind::Queue => Some(format!(
            "https://{host}/sqs/v3/home?region={region}#/queues"
        )),
        ResourceKind::Alarm => Some(format!(
            "https://{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            encode(name)
        )),
        ResourceKind::Role => Some(format!(
            "https://{host}/iam/home#/roles/details/{}",
            encode(name)
        )),
        ResourceKind::Parameter => Some(format!(
            "https://{host}/systems-manager/parameters?region={region}"
        )),
        ResourceKind::ConfigRecorder
        | ResourceKind::DeliveryChannel
        | ResourceKind::ConfigRetention => Some(format!(
            "https://{host}/config/home?region={region}#/settings"
        )),
        ResourceKind::ConfigRule => {
            Some(format!("https://{host}/config/home?region={region}#/rules"))
        }
        ResourceKind::ConformancePack => Some(format!(
            "https://{host}/config/home?region={region}#/conformance-packs"
        )),
        ResourceKind::ConfigAggregator => Some(format!(
            "https://{host}/config/home?region={region}#/aggregators"
        )),
        ResourceKind::SecurityHub => Some(format!(
            "https://{host}/securityhub/home?region={region}#/summary"
        )),
        ResourceKind::AutomationRule => Some(format!(
            "https://{host}/securityhub/home?region={region}#/automations"
        )),
        ResourceKind::Detector => Some(format!(
            "https://{host}/guardduty/home?region={region}#/settings"
        )),
        ResourceKind::Organization => {
            Some(format!("https://{host}/organizations/v2/home/services"))
        }
    }
}

/// The IAM console page of a user or role; `None` for names that break IAM's rules.
pub fn principal_page(partition: Option<&str>, kind: &str, name: &str) -> Option<String> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    let path = match kind {
        "user" => "users",
        "role" => "roles",
        _ => return None,
    };
    valid.then(|| {
        format!(
            "https://{}/iam/home#/{path}/details/{}",
            console_host(partition.unwrap_or("aws")),
            encode(name)
        )
    })
}

fn console_host(partition: &str) -> &'static str {
    match partition {
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        "aws-cn" => "console.amazonaws.cn",
        _ => "console.aws.amazon.com",
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(region: &str, arn: &str) -> Resource {
        Resource {
            kind: ResourceKind::Trail,
            name: Some("main".into()),
            arn: Some(arn.into()),
            region: Some(region.into()),
            account: Some("111122223333".into()),
            given: "main".into(),
        }
    }

    #[test]
    fn links_point_at_the_cloudtrail_console() {
        let links = console_links(
            Some("aws"),
            Some(&trail(
                "eu-west-1",
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
            )),
            Some("us-east-1"),
            Some("6f3c1b2a-0000-4000-8000-000000000001"),
        );
        assert_eq!(
            links.resource.as_deref(),
            Some("https://console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/trails/arn%3Aaws%3Acloudtrail%3Aeu-west-1%3A111122223333%3Atrail%2Fmain")
        );
        assert_eq!(
            links.event.as_deref(),
            Some("https://console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/6f3c1b2a-0000-4000-8000-000000000001")
        );
    }

    #[test]
    fn delivery_chain_resources_link_to_their_own_console() {
        let bucket = Resource {
            kind: ResourceKind::Bucket,
            name: Some("logs".into()),
            arn: Some("arn:aws:s3:::logs".into()),
            region: Some("us-east-1".into()),
            account: None,
            given: "logs".into(),
        };
        let links = console_links(None, Some(&bucket), None, None);
        assert_eq!(
            links.resource.as_deref(),
            Some("https://console.aws.amazon.com/s3/buckets/logs?region=us-east-1")
        );
    }

    #[test]
    fn other_partitions_use_their_console() {
        let links = console_links(Some("aws-us-gov"), None, Some("us-gov-west-1"), Some("e"));
        assert!(links
            .event
            .unwrap()
            .starts_with("https://console.amazonaws-us-gov.com/"));
    }

    #[test]
    fn china_and_govcloud_arns_link_to_their_own_console_and_region() {
        let china = trail(
            "cn-north-1",
            "arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/main",
        );
        let links = console_links(Some("aws-cn"), Some(&china), Some("cn-north-1"), Some("e"));
        assert!(links
            .resource
            .unwrap()
            .starts_with("https://console.amazonaws.cn/cloudtrailv2/home?region=cn-north-1#"));
        let mismatched = console_links(Some("aws-cn"), Some(&trail("us-east-1", "x")), None, None);
        assert_eq!(
            mismatched.resource, None,
            "a commercial region in the China partition"
        );
        let commercial = console_links(Some("aws"), None, Some("us-gov-west-1"), Some("e"));
        assert_eq!(commercial.event, None);
    }

    #[test]
    fn crafted_values_cannot_escape_the_link() {
        let links = console_links(
            None,
            Some(&trail("evil.com/x?", "a")),
            Some("us-east-1"),
            Some(") [click](https://evil.example) \n@here"),
        );
        assert_eq!(
            links.resource, None,
            "a region that is not a region gives no link"
        );
        let event = links.event.unwrap();
        assert!(
            !event.contains(' ')
                && !event.contains('(')
                && !event.contains('\n')
                && !event.contains('@')
        );
    }

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-1",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-northwest-1",
            "eu-central-2",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-1a",
            "us--1",
            "a-b-c-d-1",
            "evil.com-x-1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
