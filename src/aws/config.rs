//! [`RecorderInspector`] on the AWS Config API: DescribeConfigurationRecorderStatus.

use async_trait::async_trait;
use aws_sdk_config::config::Region;
use aws_sdk_config::Client;

use crate::aws::lookup_error;
use crate::inspector::LookupError;
use crate::recorders::RecorderInspector;
use crate::resource::RecorderStatus;

/// One client for every region: each request names the region of the call it looks into.
pub struct ConfigInspector {
    client: Client,
}

impl ConfigInspector {
    pub fn new(client: Client) -> ConfigInspector {
        ConfigInspector { client }
    }
}

#[async_trait]
impl RecorderInspector for ConfigInspector {
    async fn config_recorders(&self, region: &str) -> Result<Vec<RecorderStatus>, LookupError> {
        let out = self
            .client
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
                last_status: status.last_status.map(|s| s.as_str().to_string()),
                last_error: match (status.last_error_code, status.last_error_message) {
                    (Some(code), Some(message)) => Some(format!("{code}: {message}")),
                    (code, message) => code.or(message),
                }
                .filter(|e| !e.is_empty()),
            })
            .collect())
    }
}
