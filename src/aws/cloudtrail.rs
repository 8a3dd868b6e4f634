//! [`TrailInspector`] on the CloudTrail API: GetTrailStatus, DescribeTrails, GetEventSelectors,
//! GetEventDataStore.

use async_trait::async_trait;
use aws_sdk_cloudtrail::config::Region;
use aws_sdk_cloudtrail::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, ReadWriteType, Trail};
use aws_sdk_cloudtrail::Client;

use crate::aws::lookup_error;
use crate::inspector::{LookupError, TrailInspector};
use crate::monitors::selectors::{
    AdvancedSelector, BasicSelector, FieldSelector, ManagementRecording,
};
use crate::resource::{EventDataStoreState, SelectorSummary, TrailConfig, TrailStatus};
use crate::restart::LoggingRestarter;

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
            .map_err(|e| lookup_error(&e))?;
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

    async fn trails(&self, region: &str) -> Result<Vec<TrailConfig>, LookupError> {
        let out = self
            .client
            .describe_trails()
            .include_shadow_trails(true)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(out
            .trail_list
            .unwrap_or_default()
            .into_iter()
            .map(trail_config)
            .collect())
    }

    async fn event_data_store(
        &self,
        store: &str,
        region: &str,
    ) -> Result<EventDataStoreState, LookupError> {
        let out = self
            .client
            .get_event_data_store()
            .event_data_store(store)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(EventDataStoreState {
            name: out.name,
            arn: out.event_data_store_arn,
            status: out.status.map(|s| s.as_str().to_string()),
            retention_period: out.retention_period,
            termination_protection_enabled: out.termination_protection_enabled,
            multi_region_enabled: out.multi_region_enabled,
            organization_enabled: out.organization_enabled,
        })
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
            .map_err(|e| lookup_error(&e))?;
        let advanced = out.advanced_event_selectors.unwrap_or_default();
        let basic = out.event_selectors.unwrap_or_default();
        Ok(if !advanced.is_empty() {
            let selectors: Vec<AdvancedSelector> = advanced.iter().map(advanced_selector).collect();
            ManagementRecording::of_advanced(&selectors).summary("advanced", selectors.len())
        } else if !basic.is_empty() {
            let selectors: Vec<BasicSelector> = basic.iter().map(basic_selector).collect();
            ManagementRecording::of_basic(&selectors).summary("basic", selectors.len())
        } else {
            SelectorSummary {
                style: "none".into(),
                management_events: None,
                selector_count: 0,
            }
        })
    }
}

#[async_trait]
impl LoggingRestarter for CloudTrailInspector {
    async fn start_logging(&self, trail: &str, region: &str) -> Result<(), LookupError> {
        self.client
            .start_logging()
            .name(trail)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(())
    }
}

fn trail_config(t: Trail) -> TrailConfig {
    TrailConfig {
        name: t.name,
        arn: t.trail_arn,
        home_region: t.home_region,
        s3_bucket_name: t.s3_bucket_name,
        is_multi_region_trail: t.is_multi_region_trail,
        include_global_service_events: t.include_global_service_events,
        log_file_validation_enabled: t.log_file_validation_enabled,
        is_organization_trail: t.is_organization_trail,
        kms_key_id: t.kms_key_id.filter(|k| !k.is_empty()),
        cloud_watch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn.filter(|a| !a.is_empty()),
    }
}

fn basic_selector(selector: &EventSelector) -> BasicSelector {
    BasicSelector {
        read_write_type: selector.read_write_type.as_ref().map(|t| match t {
            ReadWriteType::ReadOnly => "ReadOnly".to_string(),
            ReadWriteType::WriteOnly => "WriteOnly".to_string(),
            other => other.as_str().to_string(),
        }),
        include_management_events: selector.include_management_events,
        exclude_management_event_sources: selector.exclude_management_event_sources().to_vec(),
    }
}

fn advanced_selector(selector: &AdvancedEventSelector) -> AdvancedSelector {
    AdvancedSelector {
        fields: selector
            .field_selectors()
            .iter()
            .map(|f| FieldSelector {
                field: f.field().to_string(),
                equals: f.equals().to_vec(),
                not_equals: f.not_equals().to_vec(),
                not_starts_with: f.not_starts_with().to_vec(),
                not_ends_with: f.not_ends_with().to_vec(),
            })
            .collect(),
    }
}
