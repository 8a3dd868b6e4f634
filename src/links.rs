//! Console links for an alert: the trail, and the event in CloudTrail event history.
//!
//! Everything put into a URL comes from the event, so regions are checked against the shape of a
//! real region and every other part is percent-encoded: a crafted trail name cannot turn a link
//! into one that points elsewhere.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

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
    pub trail: Option<String>,
    pub event: Option<String>,
}

pub fn console_links(
    partition: Option<&str>,
    trail_region: Option<&str>,
    trail_arn: Option<&str>,
    event_region: Option<&str>,
    event_id: Option<&str>,
) -> Links {
    let host = console_host(partition.unwrap_or("aws"));
    let page = |region: &str, fragment: String| {
        format!("https://{host}/cloudtrailv2/home?region={region}#/{fragment}")
    };
    // Real trail ARNs and event ids are short; anything longer is crafted and gets no link.
    let trail = match (trail_region.filter(|r| is_region(r)), trail_arn) {
        (Some(region), Some(arn)) if arn.len() <= MAX_ARN_LEN => {
            Some(page(region, format!("trails/{}", encode(arn))))
        }
        _ => None,
    };
    let event = match (event_region.filter(|r| is_region(r)), event_id) {
        (Some(region), Some(id)) if !id.is_empty() && id.len() <= MAX_EVENT_ID_LEN => {
            Some(page(region, format!("events/{}", encode(id))))
        }
        _ => None,
    };
    Links { trail, event }
}

fn console_host(partition: &str) -> &'static str {
    match partition {
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        "aws-cn" => "console.amazonaws.cn",
        _ => "console.aws.amazon.com",
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: lowercase words and a number.
pub fn is_region(region: &str) -> bool {
    let mut parts = region.split('-');
    let ok_word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let count = region.split('-').count();
    (3..=4).contains(&count)
        && region.len() <= 32
        && parts.next().is_some_and(ok_word)
        && region
            .rsplit('-')
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && region.split('-').skip(1).take(count - 2).all(ok_word)
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_cloudtrail_console() {
        let links = console_links(
            Some("aws"),
            Some("eu-west-1"),
            Some("arn:aws:cloudtrail:eu-west-1:111122223333:trail/main"),
            Some("us-east-1"),
            Some("6f3c1b2a-0000-4000-8000-000000000001"),
        );
        assert_eq!(
            links.trail.as_deref(),
            Some("https://console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/trails/arn%3Aaws%3Acloudtrail%3Aeu-west-1%3A111122223333%3Atrail%2Fmain")
        );
        assert_eq!(
            links.event.as_deref(),
            Some("https://console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/6f3c1b2a-0000-4000-8000-000000000001")
        );
    }

    #[test]
    fn other_partitions_use_their_console() {
        let links = console_links(
            Some("aws-us-gov"),
            None,
            None,
            Some("us-gov-west-1"),
            Some("e"),
        );
        assert!(links
            .event
            .unwrap()
            .starts_with("https://console.amazonaws-us-gov.com/"));
    }

    #[test]
    fn crafted_values_cannot_escape_the_link() {
        let links = console_links(
            None,
            Some("evil.com/x?"),
            Some("a"),
            Some("us-east-1"),
            Some(") [click](https://evil.example) \n@here"),
        );
        assert_eq!(
            links.trail, None,
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
