//! AWS's own shapes: what an account id, a region, an event id, an IAM name or an access key id
//! looks like when AWS wrote it.
//!
//! Everything in an event can be written by whoever made the call, and an ARN's parts are only
//! text between colons. A value reaches a subject, a title, a chat thread id, a message
//! attribute or a command only when it has its kind's shape; anything else is shown as
//! `unknown` (or a placeholder) there, and stays escaped in the body and intact in the JSON.
//! Resource names have their kind's rules in [`crate::resource::ResourceKind::is_valid_name`].

/// A 12-digit account id.
pub fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `eusc-de-east-1`: two or three
/// lowercase words and a number (the looser form AWS's own KMS API documents for regions,
/// `^([a-z]+-){2,3}\d+$`, which every partition's region names fit).
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

/// Regions belong to one partition (botocore's partitions.json gives each its region prefix):
/// a China or GovCloud region is not a region of the commercial partition, nor the other way
/// round. Unknown partitions have no region trailwatch vouches for.
pub fn region_in_partition(region: &str, partition: &str) -> bool {
    let isolated = ["us-iso-", "us-isob-", "eu-isoe-", "us-isof-"];
    match partition {
        "aws-cn" => region.starts_with("cn-"),
        "aws-us-gov" => region.starts_with("us-gov-"),
        "aws-iso" => region.starts_with("us-iso-"),
        "aws-iso-b" => region.starts_with("us-isob-"),
        "aws-iso-e" => region.starts_with("eu-isoe-"),
        "aws-iso-f" => region.starts_with("us-isof-"),
        "aws-eusc" => region.starts_with("eusc-"),
        "aws" => {
            !region.starts_with("cn-")
                && !region.starts_with("us-gov-")
                && !region.starts_with("eusc-")
                && !isolated.iter().any(|prefix| region.starts_with(prefix))
        }
        _ => false,
    }
}

/// A region with the shape of one, in the partition when it is known.
pub fn is_region_of(region: &str, partition: Option<&str>) -> bool {
    is_region(region) && partition.is_none_or(|partition| region_in_partition(region, partition))
}

/// A CloudTrail `eventID`: a UUID in practice; letters, digits and `-`, at most 64.
pub fn is_event_id(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// IAM user and role names: 1 to 64 (128 for some calls on existing users) of letters, digits
/// and `+=,.@_-` (IAM's `userNameType`, `existingUserNameType` and `roleNameType`).
pub fn is_iam_name(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// An access key id (`AKIA…` for users, `ASIA…` for sessions): 16 to 128 letters and digits.
pub fn is_access_key_id(text: &str) -> bool {
    (16..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An AWS service principal as `invokedBy` names it: `cloudformation.amazonaws.com`,
/// `config.amazonaws.com.cn`. Anything else is a claim, not a service.
pub fn is_service_principal(text: &str) -> bool {
    let Some(service) = text
        .strip_suffix(".amazonaws.com")
        .or_else(|| text.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    (1..=64).contains(&service.len())
        && service.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_partitions() {
        for region in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "eusc-de-east-1",
            "ap-southeast-10",
        ] {
            assert!(is_region(region), "{region}");
        }
        for not_region in [
            "",
            "us-east",
            "[LOW] resolved - no action needed",
            "US-EAST-1",
            "us-east-1;x",
            "global",
        ] {
            assert!(!is_region(not_region), "{not_region}");
        }
        assert!(is_region_of("us-east-1", Some("aws")));
        assert!(!is_region_of("cn-north-1", Some("aws")));
        assert!(is_region_of("cn-north-1", Some("aws-cn")));
        assert!(!is_region_of("us-east-1", Some("aws-us-gov")));
        assert!(!is_region_of("us-east-1", Some("not-a-partition")));
        assert!(is_region_of("us-east-1", None));
    }

    #[test]
    fn accounts_ids_names_and_principals() {
        assert!(is_account("111122223333"));
        assert!(!is_account("11112222333"));
        assert!(!is_account("111122223333 [LOW]"));
        assert!(is_event_id("6f3c1b2a-8e4d-4c1f-a7b9-000000000001"));
        assert!(!is_event_id("a b"));
        assert!(is_iam_name("deploy+ci=x,y.z@corp_1-2"));
        assert!(!is_iam_name("https://evil.example/login"));
        assert!(is_access_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_access_key_id("AKIA-IOSFODNN7"));
        assert!(is_service_principal("cloudformation.amazonaws.com"));
        assert!(is_service_principal("config.amazonaws.com.cn"));
        assert!(!is_service_principal("evil.example"));
        assert!(!is_service_principal("x amazonaws.com"));
        assert!(!is_service_principal(".amazonaws.com"));
    }
}
