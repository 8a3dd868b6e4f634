//! Publish: hand the rendered alert to whoever delivers it (SNS, in `aws::sns`).

use async_trait::async_trait;

use crate::render::RenderedAlert;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publishing the alert failed: {0}")]
pub struct PublishError(pub String);

#[async_trait]
pub trait AlertPublisher: Send + Sync {
    /// Publishes one alert and returns the delivery's message id.
    async fn publish(&self, alert: &RenderedAlert) -> Result<String, PublishError>;
}
