//! [`TrailInspector`] on the CloudTrail API: GetTrailStatus, DescribeTrails, GetEventSelectors.

use async_trait::async_trait;
use aws_sdk_cloudtrail::config::Region;
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, ReadWriteType};
use aws_sdk_cloudtrail::Client;

use crate::aws::describe_sdk_error;
use crate::enrich::{LookupError, SelectorSummary, TrailConfig, TrailInspector, TrailStatus};

/// One client for every region: each request names the trail's home region, so a trail that
/// lives elsewhere is asked about where it lives.
pub struct CloudTrailInspector {
    client: Client,
}

impl CloudTrailInspector {
    pub fn new(client: Client) -> CloudTrailInspector {
        CloudTrailInspector { client }
    }
}

fn in_region(region: &str) -> aws_sdk_cloudtrail::config::Builder {
    aws_sdk_cloudtrail::config::Builder::default().region(Region::new(region.to_string()))
}

fn lookup_error<E, R>(error: SdkError<E, R>) -> LookupError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = describe_sdk_error(&error);
    LookupError { code, message }
}

fn time(value: Option<&DateTime>) -> Option<String> {
    value.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

#[async_trait]
impl TrailInspector for CloudTrailInspector {
    async fn trail_status(&self, trail: &str, region: &str) -> Result<TrailStatus, LookupError> {
        let out = self
            .client
            .get_trail_status()
            .name(trail)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(lookup_error)?;
        Ok(TrailStatus {
            is_logging: out.is_logging,
            latest_delivery_error: out.latest_delivery_error.filter(|e| !e.is_empty()),
            latest_delivery_time: time(out.latest_delivery_time.as_ref()),
            start_logging_time: time(out.start_logging_time.as_ref()),
            stop_logging_time: time(out.stop_logging_time.as_ref()),
            latest_cloud_watch_logs_delivery_error: out
                .latest_cloud_watch_logs_delivery_error
                .filter(|e| !e.is_empty()),
            latest_digest_delivery_error: out
                .latest_digest_delivery_error
                .filter(|e| !e.is_empty()),
        })
    }

    async fn trail_config(
        &self,
        trail: &str,
        region: &str,
    ) -> Result<Option<TrailConfig>, LookupError> {
        let out = self
            .client
            .describe_trails()
            .trail_name_list(trail)
            .include_shadow_trails(true)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(lookup_error)?;
        let found = out.trail_list.unwrap_or_default().into_iter().find(|t| {
            t.name.as_deref() == Some(trail)
                || t.trail_arn.as_deref() == Some(trail)
                || trail.rsplit_once(":trail/").map(|(_, name)| name) == t.name.as_deref()
        });
        Ok(found.map(|t| TrailConfig {
            name: t.name,
            arn: t.trail_arn,
            home_region: t.home_region,
            s3_bucket_name: t.s3_bucket_name,
            is_multi_region_trail: t.is_multi_region_trail,
            include_global_service_events: t.include_global_service_events,
            log_file_validation_enabled: t.log_file_validation_enabled,
            is_organization_trail: t.is_organization_trail,
            kms_key_id: t.kms_key_id.filter(|k| !k.is_empty()),
            cloud_watch_logs_log_group_arn: t
                .cloud_watch_logs_log_group_arn
                .filter(|a| !a.is_empty()),
        }))
    }

    async fn event_selectors(
        &self,
        trail: &str,
        region: &str,
    ) -> Result<SelectorSummary, LookupError> {
        let out = self
            .client
            .get_event_selectors()
            .trail_name(trail)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(lookup_error)?;
        let advanced = out.advanced_event_selectors.unwrap_or_default();
        let basic = out.event_selectors.unwrap_or_default();
        Ok(if !advanced.is_empty() {
            SelectorSummary {
                style: "advanced".into(),
                management_events: advanced_management(&advanced),
                selector_count: advanced.len(),
            }
        } else if !basic.is_empty() {
            SelectorSummary {
                style: "basic".into(),
                management_events: Some(basic_management(&basic).into()),
                selector_count: basic.len(),
            }
        } else {
            SelectorSummary {
                style: "none".into(),
                management_events: None,
                selector_count: 0,
            }
        })
    }
}

/// Basic selectors record management events unless told not to, with their read/write filter.
fn basic_management(selectors: &[EventSelector]) -> &'static str {
    let (mut reads, mut writes) = (false, false);
    for selector in selectors
        .iter()
        .filter(|s| s.include_management_events != Some(false))
    {
        match selector.read_write_type {
            Some(ReadWriteType::ReadOnly) => reads = true,
            Some(ReadWriteType::WriteOnly) => writes = true,
            _ => (reads, writes) = (true, true),
        }
    }
    match (reads, writes) {
        (true, true) => "All",
        (true, false) => "ReadOnly",
        (false, true) => "WriteOnly",
        (false, false) => "None",
    }
}

/// Advanced selectors record management events where `eventCategory` equals `Management`,
/// narrowed by an optional `readOnly` field.
fn advanced_management(selectors: &[AdvancedEventSelector]) -> Option<String> {
    let (mut reads, mut writes) = (false, false);
    for selector in selectors {
        let fields = selector.field_selectors();
        let management = fields
            .iter()
            .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        if !management {
            continue;
        }
        let read_only = fields.iter().find(|f| f.field() == "readOnly");
        match read_only.map(|f| f.equals()) {
            Some([v]) if v == "true" => reads = true,
            Some([v]) if v == "false" => writes = true,
            _ => (reads, writes) = (true, true),
        }
    }
    Some(
        match (reads, writes) {
            (true, true) => "All",
            (true, false) => "ReadOnly",
            (false, true) => "WriteOnly",
            (false, false) => "None",
        }
        .to_string(),
    )
}
