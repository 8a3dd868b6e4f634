//! [`RecorderInspector`] on AWS's APIs: AWS Config's DescribeConfigurationRecorderStatus,
//! Security Hub's DescribeHub, GuardDuty's ListDetectors and GetDetector, and Organizations'
//! ListAWSServiceAccessForOrganization.

use async_trait::async_trait;
use aws_sdk_config::config::Region;

use crate::aws::lookup_error;
use crate::inspector::LookupError;
use crate::recorders::RecorderInspector;
use crate::resource::{DetectorStatus, RecorderStatus};

/// One client per service for every region: each request names the region of the call it
/// looks into.
pub struct AwsRecorders {
    config: aws_sdk_config::Client,
    securityhub: aws_sdk_securityhub::Client,
    guardduty: aws_sdk_guardduty::Client,
    organizations: aws_sdk_organizations::Client,
}

impl AwsRecorders {
    pub fn new(
        config: aws_sdk_config::Client,
        securityhub: aws_sdk_securityhub::Client,
        guardduty: aws_sdk_guardduty::Client,
        organizations: aws_sdk_organizations::Client,
    ) -> AwsRecorders {
        AwsRecorders {
            config,
            securityhub,
            guardduty,
            organizations,
        }
    }
}

#[async_trait]
impl RecorderInspector for AwsRecorders {
    async fn config_recorders(&self, region: &str) -> Result<Vec<RecorderStatus>, LookupError> {
        let out = self
            .config
            .describe_configuration_recorder_status()
            .customize()
            .config_override(
                aws_sdk_config::config::Builder::default().region(Region::new(region.to_string())),
            )
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(out
            .configuration_recorders_status
            .unwrap_or_default()
            .into_iter()
            .map(|status| RecorderStatus {
                name: status.name.unwrap_or_default(),
                recording: Some(status.recording),
                // The service answers `SUCCESS` where its model says `Success`: the text as given.
                last_status: status.last_status.map(|s| s.as_str().to_string()),
                last_error: match (status.last_error_code, status.last_error_message) {
                    (Some(code), Some(message)) => Some(format!("{code}: {message}")),
                    (code, message) => code.or(message),
                }
                .filter(|e| !e.is_empty()),
            })
            .collect())
    }

    async fn security_hub_enabled(&self, region: &str) -> Result<bool, LookupError> {
        let answer = self
            .securityhub
            .describe_hub()
            .customize()
            .config_override(
                aws_sdk_securityhub::config::Builder::default()
                    .region(aws_sdk_securityhub::config::Region::new(region.to_string())),
            )
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            // "Account ... is not subscribed to AWS Security Hub": it is off.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_invalid_access_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(lookup_error(&error)),
        }
    }

    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<DetectorStatus>, LookupError> {
        let in_region = || {
            aws_sdk_guardduty::config::Builder::default()
                .region(aws_sdk_guardduty::config::Region::new(region.to_string()))
        };
        // One detector per account and region: the first page holds it.
        let ids = self
            .guardduty
            .list_detectors()
            .customize()
            .config_override(in_region())
            .send()
            .await
            .map_err(|e| lookup_error(&e))?
            .detector_ids
            .unwrap_or_default();
        let mut detectors = Vec::new();
        for id in ids.into_iter().take(4) {
            let detector = self
                .guardduty
                .get_detector()
                .detector_id(&id)
                .customize()
                .config_override(in_region())
                .send()
                .await
                .map_err(|e| lookup_error(&e))?;
            detectors.push(DetectorStatus {
                enabled: detector
                    .status()
                    .map(|status| *status == aws_sdk_guardduty::types::DetectorStatus::Enabled),
                disabled_features: detector
                    .features()
                    .iter()
                    .filter(|feature| {
                        feature.status() == Some(&aws_sdk_guardduty::types::FeatureStatus::Disabled)
                    })
                    .filter_map(|feature| feature.name().map(|name| name.as_str().to_string()))
                    .collect(),
                id,
            });
        }
        Ok(detectors)
    }

    async fn trusted_services(&self) -> Result<Vec<String>, LookupError> {
        // A handful of principals in practice; the first pages are enough, and bounded.
        let mut services = Vec::new();
        let mut pages = self
            .organizations
            .list_aws_service_access_for_organization()
            .into_paginator()
            .send();
        for _ in 0..5 {
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(|e| lookup_error(&e))?;
            services.extend(
                page.enabled_service_principals()
                    .iter()
                    .filter_map(|enabled| enabled.service_principal().map(str::to_string)),
            );
        }
        Ok(services)
    }
}
