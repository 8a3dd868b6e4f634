//! What a call was about, and what that thing looks like now.
//!
//! A [`Resource`] is named by the request (a trail, an event data store, or a bucket, key or log
//! group a trail delivers through); a [`ResourceState`] is what the lookups found. Both go into
//! the alert as they are, so the JSON says `resource.kind` and `resourceState.type` instead of
//! one set of fields per service.

use serde::Serialize;

use crate::arn::Arn;
use crate::shape::{is_account, is_region, is_region_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Trail,
    EventDataStore,
    Bucket,
    Key,
    LogGroup,
    /// trailwatch's own plumbing: its EventBridge rules, SNS topics and function, the central
    /// bus, its queues of parked events, its alarms, the function's role and the heartbeat's
    /// parameter.
    Rule,
    Topic,
    Function,
    EventBus,
    Queue,
    Alarm,
    Role,
    Parameter,
    /// AWS Config: the configuration recorder, its delivery channel, its retention setting,
    /// and the rules, conformance packs and aggregators that evaluate what it records.
    ConfigRecorder,
    DeliveryChannel,
    ConfigRetention,
    ConfigRule,
    ConformancePack,
    ConfigAggregator,
    /// AWS Security Hub: the account's hub in a region, and its automation rules.
    SecurityHub,
    AutomationRule,
    /// GuardDuty: the region's detector (its filters, trusted lists, members and publishing
    /// destinations are named in the alert's reasons).
    #[serde(rename = "guardduty-detector")]
    Detector,
    /// AWS Organizations: the organization an account belongs to, and the services it trusts
    /// to work across its accounts. Named by the account that made the call.
    Organization,
}

impl ResourceKind {
    /// How a sentence names this kind of resource.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::Trail => "trail",
            ResourceKind::EventDataStore => "event data store",
            ResourceKind::Bucket => "bucket",
            ResourceKind::Key => "KMS key",
            ResourceKind::LogGroup => "log group",
            ResourceKind::Rule => "EventBridge rule",
            ResourceKind::Topic => "SNS topic",
            ResourceKind::Function => "Lambda function",
            ResourceKind::EventBus => "event bus",
            ResourceKind::Queue => "SQS queue",
            ResourceKind::Alarm => "CloudWatch alarm",
            ResourceKind::Role => "IAM role",
            ResourceKind::Parameter => "SSM parameter",
            ResourceKind::ConfigRecorder => "Config recorder",
            ResourceKind::DeliveryChannel => "Config delivery channel",
            ResourceKind::ConfigRetention => "Config retention setting",
            ResourceKind::ConfigRule => "Config rule",
            ResourceKind::ConformancePack => "conformance pack",
            ResourceKind::ConfigAggregator => "Config aggregator",
            ResourceKind::SecurityHub => "Security Hub",
            ResourceKind::AutomationRule => "Security Hub automation rule",
            ResourceKind::Detector => "GuardDuty detector",
            ResourceKind::Organization => "organization",
        }
    }

    /// The noun at the start of a line or a label.
    pub fn title(self) -> &'static str {
        match self {
            ResourceKind::Trail => "Trail",
            ResourceKind::EventDataStore => "Event data store",
            ResourceKind::Bucket => "Bucket",
            ResourceKind::Key => "KMS key",
            ResourceKind::LogGroup => "Log group",
            ResourceKind::Rule => "EventBridge rule",
            ResourceKind::Topic => "SNS topic",
            ResourceKind::Function => "Lambda function",
            ResourceKind::EventBus => "Event bus",
            ResourceKind::Queue => "SQS queue",
            ResourceKind::Alarm => "CloudWatch alarm",
            ResourceKind::Role => "IAM role",
            ResourceKind::Parameter => "SSM parameter",
            ResourceKind::ConfigRecorder => "Config recorder",
            ResourceKind::DeliveryChannel => "Config delivery channel",
            ResourceKind::ConfigRetention => "Config retention setting",
            ResourceKind::ConfigRule => "Config rule",
            ResourceKind::ConformancePack => "Conformance pack",
            ResourceKind::ConfigAggregator => "Config aggregator",
            ResourceKind::SecurityHub => "Security Hub",
            ResourceKind::AutomationRule => "Security Hub automation rule",
            ResourceKind::Detector => "GuardDuty detector",
            ResourceKind::Organization => "Organization",
        }
    }

    /// Whether `name` obeys AWS's naming rules for this kind of resource. Only such names reach
    /// subjects, titles, chat thread keys and message attributes: in a denied or failed call the
    /// name is whatever the caller typed (`[LOW]_false_alarm`, an RFC 2047 encoded word, ...).
    pub fn is_valid_name(self, name: &str) -> bool {
        let all = |allowed: fn(char) -> bool| name.chars().all(allowed);
        let edges_alphanumeric = name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        match self {
            // CloudTrail: 3-128 of letters, digits, `.`, `_`, `-`; starts and ends with a letter
            // or digit; no two of `._-` next to each other; not an IP address.
            ResourceKind::Trail => {
                (3..=128).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    && edges_alphanumeric
                    && !name
                        .as_bytes()
                        .windows(2)
                        .any(|pair| pair.iter().all(|b| matches!(b, b'.' | b'_' | b'-')))
                    && name.parse::<std::net::Ipv4Addr>().is_err()
            }
            ResourceKind::Bucket => {
                (3..=63).contains(&name.len())
                    && all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')
                    })
                    && edges_alphanumeric
            }
            // A key id (a UUID, or `mrk-` and 32 hex digits for a multi-Region key) or an
            // alias (`alias/` and letters, digits, `/`, `_`, `-`).
            ResourceKind::Key => match name.strip_prefix("alias/") {
                Some(alias) => {
                    (1..=250).contains(&alias.len())
                        && alias
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
                }
                None => match name.strip_prefix("mrk-") {
                    Some(hex) => hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
                    None => is_uuid(name, |b| b.is_ascii_hexdigit()),
                },
            },
            ResourceKind::LogGroup => {
                (1..=512).contains(&name.len())
                    && all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '#')
                    })
            }
            // The id at the end of the store's ARN: UUID-shaped (AWS's own examples put
            // letters in it: `EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE`).
            ResourceKind::EventDataStore => is_uuid(name, |b| b.is_ascii_alphanumeric()),
            ResourceKind::Rule => {
                (1..=64).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            }
            ResourceKind::Topic => {
                let base = name.strip_suffix(".fifo").unwrap_or(name);
                (1..=256).contains(&name.len())
                    && base
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            }
            ResourceKind::Function => {
                (1..=64).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            }
            ResourceKind::EventBus => {
                (1..=256).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            }
            // SQS: 1-80 letters, digits, `-`, `_`, and `.fifo` at the end of a FIFO queue.
            ResourceKind::Queue => {
                let base = name.strip_suffix(".fifo").unwrap_or(name);
                (1..=80).contains(&name.len())
                    && base
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            }
            // CloudWatch allows any printable ASCII but `:`-free-ness is not required; headlines
            // take only the plain ones.
            ResourceKind::Alarm => {
                (1..=255).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
            }
            ResourceKind::Role => crate::shape::is_iam_name(name) && name.len() <= 64,
            // Parameter Store: letters, digits, `. - _ /`, at most 2048 with the path.
            ResourceKind::Parameter => {
                (1..=2048).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
            }
            // AWS Config takes any non-blank text of 1-256 characters (rules 1-128); headlines
            // take only the plain names that everyone uses (`default`, `securityhub-...`).
            ResourceKind::ConfigRecorder
            | ResourceKind::DeliveryChannel
            | ResourceKind::ConfigRetention
            | ResourceKind::ConfigAggregator => {
                (1..=256).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            }
            ResourceKind::ConfigRule => {
                (1..=128).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            }
            // The hub is the account's one (`default`); rule names are free text of up to 256
            // characters, of which headlines take only the plain ones.
            ResourceKind::SecurityHub => name == "default",
            ResourceKind::AutomationRule => {
                (1..=256).contains(&name.len())
                    && all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            }
            // GuardDuty's detector ids: 1-300 lowercase letters and digits (32 hex in practice).
            ResourceKind::Detector => {
                (1..=300).contains(&name.len())
                    && all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            }
            // The account that made the call: twelve digits.
            ResourceKind::Organization => is_account(name),
            // A letter, then letters, digits and `-`.
            ResourceKind::ConformancePack => {
                (1..=256).contains(&name.len())
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && all(|c| c.is_ascii_alphanumeric() || c == '-')
            }
        }
    }

    /// The attribute value subscribers filter on (`resourceKind`).
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Trail => "trail",
            ResourceKind::EventDataStore => "event-data-store",
            ResourceKind::Bucket => "bucket",
            ResourceKind::Key => "key",
            ResourceKind::LogGroup => "log-group",
            ResourceKind::Rule => "rule",
            ResourceKind::Topic => "topic",
            ResourceKind::Function => "function",
            ResourceKind::EventBus => "event-bus",
            ResourceKind::Queue => "queue",
            ResourceKind::Alarm => "alarm",
            ResourceKind::Role => "role",
            ResourceKind::Parameter => "parameter",
            ResourceKind::ConfigRecorder => "config-recorder",
            ResourceKind::DeliveryChannel => "delivery-channel",
            ResourceKind::ConfigRetention => "config-retention",
            ResourceKind::ConfigRule => "config-rule",
            ResourceKind::ConformancePack => "conformance-pack",
            ResourceKind::ConfigAggregator => "config-aggregator",
            ResourceKind::SecurityHub => "security-hub",
            ResourceKind::AutomationRule => "automation-rule",
            ResourceKind::Detector => "guardduty-detector",
            ResourceKind::Organization => "organization",
        }
    }
}

/// Five groups of 8, 4, 4, 4 and 12 characters of `digit`, joined by `-`.
fn is_uuid(text: &str, digit: fn(&u8) -> bool) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| digit(&b)))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub kind: ResourceKind,
    pub name: Option<String>,
    pub arn: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The name, id or ARN exactly as the request gave it: what lookups are made with.
    #[serde(skip)]
    pub given: String,
}

impl Resource {
    /// A resource a call names: region and account from its ARN when it has one, else the
    /// call's own (a bare name is in the caller's account and region).
    pub fn named_in(
        kind: ResourceKind,
        call: &crate::call::ApiCall,
        given: String,
        name: String,
        arn: Option<crate::arn::Arn>,
    ) -> Resource {
        Resource {
            kind,
            name: Some(name),
            region: arn
                .as_ref()
                .and_then(|a| a.region.clone())
                .or_else(|| call.region.clone()),
            account: arn
                .as_ref()
                .and_then(|a| a.account.clone())
                .or_else(|| call.account.clone()),
            arn: arn.map(|a| a.to_string()),
            given,
        }
    }

    /// The resource's short name, as given (for logs and the email body, escaped there).
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.given)
    }

    /// The name when it obeys the kind's naming rules: what headlines and attributes may show.
    pub fn valid_name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .filter(|name| self.kind.is_valid_name(name))
    }

    /// The ARN, when its name is valid and its region and account (when it has them) are in
    /// AWS's shapes: an ARN is only text between colons, and one built around an attacker's
    /// text is not one.
    pub fn valid_arn(&self) -> Option<&str> {
        let arn = self.arn.as_deref()?;
        let parts = Arn::parse(arn)?;
        let shaped = parts
            .region
            .as_deref()
            .is_none_or(|region| is_region_of(region, Some(&parts.partition)))
            && parts.account.as_deref().is_none_or(is_account);
        self.valid_name().filter(|_| shaped).map(|_| arn)
    }

    /// The region to look the resource up in: its region when it has a region's shape (an ARN's
    /// region part is only text between colons).
    pub fn lookup_region(&self) -> Option<&str> {
        self.region.as_deref().filter(|region| is_region(region))
    }

    /// What to hand a lookup: the ARN when known (it carries the region), else as given.
    pub fn lookup_id(&self) -> &str {
        self.arn.as_deref().unwrap_or(&self.given)
    }
}

/// What the lookups found, by kind; `notLookedUp` when nothing was asked.
// One value per invocation, moved a couple of times: boxing the trail's state would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ResourceState {
    Trail {
        status: Option<TrailStatus>,
        config: Option<TrailConfig>,
        event_selectors: Option<SelectorSummary>,
    },
    EventDataStore(EventDataStoreState),
    /// The trails that deliver through the bucket, key or log group the call touched.
    DeliveryChain {
        trails: Vec<TrailUse>,
        /// The bucket's protections read back after a call on one of its doors (versioning,
        /// the public access block); absent for other calls.
        #[serde(skip_serializing_if = "Option::is_none")]
        bucket: Option<BucketDoors>,
    },
    /// Every trail the posture check looked at.
    Trails {
        trails: Vec<TrailSnapshot>,
    },
    /// AWS Config's recorders in the region of the call (`DescribeConfigurationRecorderStatus`):
    /// whether Config still records there.
    ConfigRecorders {
        region: String,
        recorders: Vec<RecorderStatus>,
    },
    /// Whether Security Hub is enabled in the region of the call (`DescribeHub`).
    SecurityHub {
        region: String,
        enabled: bool,
    },
    /// GuardDuty's detectors in the region of the call (`ListDetectors`, `GetDetector`): none
    /// when GuardDuty is off there.
    GuardDuty {
        region: String,
        detectors: Vec<DetectorStatus>,
    },
    /// The service principals the organization trusts (`ListAWSServiceAccessForOrganization`).
    TrustedAccess {
        services: Vec<String>,
    },
    #[default]
    NotLookedUp,
}

/// One trail as the posture check found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrailSnapshot {
    pub config: TrailConfig,
    pub status: Option<TrailStatus>,
    pub event_selectors: Option<SelectorSummary>,
}

impl ResourceState {
    /// Whether the trail is logging, when the state is a trail's and says so.
    pub fn trail_is_logging(&self) -> Option<bool> {
        match self {
            ResourceState::Trail {
                status: Some(status),
                ..
            } => status.is_logging,
            _ => None,
        }
    }

    pub fn trail_config(&self) -> Option<&TrailConfig> {
        match self {
            ResourceState::Trail { config, .. } => config.as_ref(),
            _ => None,
        }
    }
}

/// The trail's live status (`GetTrailStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrailStatus {
    pub is_logging: Option<bool>,
    pub latest_delivery_error: Option<String>,
    pub latest_delivery_time: Option<String>,
    pub start_logging_time: Option<String>,
    pub stop_logging_time: Option<String>,
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    pub latest_digest_delivery_error: Option<String>,
}

/// The trail's configuration (`DescribeTrails`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrailConfig {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub home_region: Option<String>,
    pub s3_bucket_name: Option<String>,
    pub is_multi_region_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    pub log_file_validation_enabled: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub kms_key_id: Option<String>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
}

impl TrailConfig {
    /// Whether this is the trail a request named, by name or by ARN.
    pub fn is_named(&self, given: &str) -> bool {
        self.name.as_deref() == Some(given)
            || self.arn.as_deref() == Some(given)
            || crate::arn::Arn::parse(given)
                .and_then(|arn| arn.resource_after("trail/").map(str::to_string))
                .is_some_and(|name| self.name.as_deref() == Some(name.as_str()))
    }

    /// The name to show, then the ARN, then a placeholder.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.arn.as_deref())
            .unwrap_or("(unnamed trail)")
    }
}

/// Which management events the trail records (`GetEventSelectors`), summarised for a reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SelectorSummary {
    /// "basic", "advanced", or "none".
    pub style: String,
    /// Management events recorded: "All", "WriteOnly", "ReadOnly", "None", or null when it
    /// cannot be told.
    pub management_events: Option<String>,
    pub selector_count: usize,
}

impl SelectorSummary {
    /// Whether write management events (every tampering call is one) are recorded.
    pub fn records_writes(&self) -> Option<bool> {
        match self.management_events.as_deref() {
            Some("All" | "WriteOnly") => Some(true),
            Some("ReadOnly" | "None") => Some(false),
            _ => None,
        }
    }
}

/// A CloudTrail Lake event data store (`GetEventDataStore`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDataStoreState {
    pub name: Option<String>,
    pub arn: Option<String>,
    /// ENABLED, PENDING_DELETION, STOPPED_INGESTION, ...
    pub status: Option<String>,
    pub retention_period: Option<i32>,
    pub termination_protection_enabled: Option<bool>,
    pub multi_region_enabled: Option<bool>,
    pub organization_enabled: Option<bool>,
}

/// One AWS Config recorder's status (`DescribeConfigurationRecorderStatus`): AWS's answer, not
/// the caller's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecorderStatus {
    pub name: String,
    pub recording: Option<bool>,
    /// Success, Failure or Pending: the last time it delivered what it recorded.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
}

/// A trail bucket's protections as S3 answers (GetBucketVersioning, GetPublicAccessBlock);
/// each `None` when it was not read for this call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketDoors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versioning: Option<BucketVersioning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketVersioning {
    /// Enabled or Suspended; `None` when versioning was never enabled.
    pub status: Option<String>,
    /// Enabled or Disabled; `None` when never configured.
    pub mfa_delete: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicAccessBlock {
    /// The bucket has a block of its own (false: NoSuchPublicAccessBlockConfiguration, every
    /// setting off at the bucket's level).
    pub configured: bool,
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// The four settings, as S3 names them in requests and answers.
    pub const SETTINGS: [&'static str; 4] = [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ];

    /// The settings that are off.
    pub fn off(&self) -> Vec<&'static str> {
        let on = [
            self.block_public_acls,
            self.ignore_public_acls,
            self.block_public_policy,
            self.restrict_public_buckets,
        ];
        Self::SETTINGS
            .into_iter()
            .zip(on)
            .filter(|(_, on)| !on)
            .map(|(name, _)| name)
            .collect()
    }
}

/// One GuardDuty detector (`GetDetector`): AWS's answer, not the caller's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DetectorStatus {
    pub id: String,
    /// `Status` ENABLED; `None` when the answer did not say.
    pub enabled: Option<bool>,
    /// The protection plans (`Features`) that are DISABLED.
    pub disabled_features: Vec<String>,
}

/// Whether any of `detectors` is enabled: `None` when no answer says.
pub fn guardduty_watches(detectors: &[DetectorStatus]) -> Option<bool> {
    if detectors.iter().any(|d| d.enabled == Some(true)) {
        Some(true)
    } else if detectors.iter().all(|d| d.enabled == Some(false)) {
        // No detector at all is GuardDuty off too.
        Some(false)
    } else {
        None
    }
}

/// Whether any of `recorders` records: `None` when no answer says.
pub fn config_records(recorders: &[RecorderStatus]) -> Option<bool> {
    if recorders.iter().any(|r| r.recording == Some(true)) {
        Some(true)
    } else if recorders.iter().all(|r| r.recording == Some(false)) {
        // No recorder at all is "not recording" too.
        Some(false)
    } else {
        None
    }
}

/// A trail that delivers through the resource a call touched, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
/// (Its fields come from DescribeTrails: AWS's answer, not the caller's text.)
pub struct TrailUse {
    pub name: String,
    pub arn: Option<String>,
    pub home_region: Option<String>,
    /// "bucket", "key" or "log-group".
    pub uses: &'static str,
}

#[cfg(test)]
mod tests {
    use super::ResourceKind::*;

    #[test]
    fn trail_names_follow_cloudtrails_rules() {
        for ok in ["management-events", "org_audit.trail", "abc", "a1-b2_c3.d4"] {
            assert!(Trail.is_valid_name(ok), "{ok}");
        }
        for bad in [
            "[LOW]_false_alarm",
            "=?UTF-8?B?4pyFIHJlc29sdmVkIOKArg==?=",
            "ab",
            "-abc",
            "abc.",
            "a..b",
            "a_-b",
            "192.168.0.1",
            "manage\u{ad}ment-events",
            &"a".repeat(129),
        ] {
            assert!(!Trail.is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn other_kinds_have_their_own_rules() {
        assert!(Bucket.is_valid_name("cloudtrail-logs-111122223333"));
        assert!(!Bucket.is_valid_name("Upper_Case"));
        assert!(Key.is_valid_name("4d6e8f10-1a2b-4c3d-9e8f-0123456789ab"));
        assert!(Key.is_valid_name("alias/trail-key"));
        assert!(!Key.is_valid_name("<!channel>"));
        assert!(LogGroup.is_valid_name("/aws/cloudtrail/org#1"));
        assert!(!LogGroup.is_valid_name("group name"));
        assert!(EventDataStore.is_valid_name("a1b2c3d4-5e6f-4a7b-8c9d-0123456789ab"));
    }
}
