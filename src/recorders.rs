//! The other recorders' read-only lookups (AWS Config, Security Hub, GuardDuty, and the
//! organization's trusted access that lets them record across accounts), behind one narrow trait beside
//! [`crate::inspector::TrailInspector`], so a monitor of a recorder can say whether it still
//! records. [`NoRecorders`] is the adapter where they are not read: preview without AWS, and a
//! member account in central mode (trailwatch's read role there reads CloudTrail only).

use async_trait::async_trait;

use crate::inspector::LookupError;
use crate::resource::{DetectorStatus, RecorderStatus};

#[async_trait]
pub trait RecorderInspector: Send + Sync {
    /// `DescribeConfigurationRecorderStatus` in `region`: every recorder there (none when
    /// Config was never set up).
    async fn config_recorders(&self, region: &str) -> Result<Vec<RecorderStatus>, LookupError>;
    /// `DescribeHub` in `region`: whether Security Hub is enabled there (it answers
    /// InvalidAccessException when it is not).
    async fn security_hub_enabled(&self, region: &str) -> Result<bool, LookupError>;
    /// `ListDetectors`, then `GetDetector` for each, in `region`: GuardDuty's detectors there
    /// (none when GuardDuty is off).
    async fn guardduty_detectors(&self, region: &str) -> Result<Vec<DetectorStatus>, LookupError>;
    /// `ListAWSServiceAccessForOrganization`: the service principals the organization trusts
    /// (answered in the management account and a delegated administrator's only).
    async fn trusted_services(&self) -> Result<Vec<String>, LookupError>;
}

/// The recorders are not read here; `why` says so in the alert.
pub struct NoRecorders {
    pub why: &'static str,
}

#[async_trait]
impl RecorderInspector for NoRecorders {
    async fn config_recorders(&self, _region: &str) -> Result<Vec<RecorderStatus>, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
    async fn security_hub_enabled(&self, _region: &str) -> Result<bool, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
    async fn guardduty_detectors(&self, _region: &str) -> Result<Vec<DetectorStatus>, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
    async fn trusted_services(&self) -> Result<Vec<String>, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
}
