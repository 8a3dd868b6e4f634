//! The one ARN type: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
//!
//! ARNs reach trailwatch from events, where anyone can write anything, and from AWS answers.
//! Parsing is lenient (empty region or account, as S3 and IAM ARNs have, are kept as absent),
//! and never fails loudly: text that is not an ARN is simply `None`, and callers treat it as a
//! name.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: Option<String>,
    pub account: Option<String>,
    /// Everything after the fifth colon, colons included (`log-group:NAME:*`, `trail/NAME`).
    pub resource: String,
}

impl Arn {
    /// Reads an ARN; `None` for anything without the `arn:` prefix, a partition, a service and
    /// a resource.
    pub fn parse(text: &str) -> Option<Arn> {
        let rest = text.trim().strip_prefix("arn:")?;
        let mut parts = rest.splitn(5, ':');
        let partition = parts.next().filter(|p| !p.is_empty())?;
        let service = parts.next().filter(|s| !s.is_empty())?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next().filter(|r| !r.is_empty())?;
        let present = |part: &str| (!part.is_empty()).then(|| part.to_string());
        Some(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: present(region),
            account: present(account),
            resource: resource.to_string(),
        })
    }

    /// The resource's name after a type prefix: `trail/NAME` with `"trail/"` gives `NAME`.
    pub fn resource_after<'a>(&'a self, type_prefix: &str) -> Option<&'a str> {
        self.resource
            .strip_prefix(type_prefix)
            .filter(|name| !name.is_empty())
    }

    /// The account an SNS topic, trail or any other ARN belongs to, straight from text.
    pub fn account_of(text: &str) -> Option<String> {
        Arn::parse(text)?.account
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition,
            self.service,
            self.region.as_deref().unwrap_or(""),
            self.account.as_deref().unwrap_or(""),
            self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_part() {
        let arn = Arn::parse("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org").unwrap();
        assert_eq!(arn.partition, "aws");
        assert_eq!(arn.service, "cloudtrail");
        assert_eq!(arn.region.as_deref(), Some("eu-west-1"));
        assert_eq!(arn.account.as_deref(), Some("111122223333"));
        assert_eq!(arn.resource_after("trail/"), Some("org"));
        assert_eq!(
            arn.to_string(),
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org"
        );
    }

    #[test]
    fn keeps_colons_in_the_resource_and_empty_parts_as_absent() {
        let group = Arn::parse("arn:aws:logs:us-east-1:111122223333:log-group:ct/logs:*").unwrap();
        assert_eq!(group.resource, "log-group:ct/logs:*");
        let bucket = Arn::parse("arn:aws-cn:s3:::my-bucket").unwrap();
        assert_eq!(bucket.partition, "aws-cn");
        assert_eq!(bucket.region, None);
        assert_eq!(bucket.account, None);
        assert_eq!(bucket.resource, "my-bucket");
    }

    #[test]
    fn what_is_not_an_arn_is_none() {
        for text in [
            "",
            "management-events",
            "arn:",
            "arn:aws",
            "arn:aws:s3",
            "arn:aws:s3:::",
            "arn::s3:::b",
            "arn:aws::r:a:x",
        ] {
            assert_eq!(Arn::parse(text), None, "{text:?}");
        }
    }
}
