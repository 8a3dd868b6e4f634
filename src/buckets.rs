//! A trail bucket's protections, read back after a call on one of its doors: versioning and
//! MFA delete (GetBucketVersioning) and its public access block (GetPublicAccessBlock), behind
//! one narrow trait as the trails and the recorders are. [`NoBuckets`] is the adapter where
//! they are not read: preview without AWS, and a member account in central mode (trailwatch's
//! read role there reads CloudTrail only).

use async_trait::async_trait;

use crate::inspector::LookupError;
use crate::resource::{BucketVersioning, PublicAccessBlock};

#[async_trait]
pub trait BucketInspector: Send + Sync {
    /// `GetBucketVersioning` of `bucket`, asked in `region`.
    async fn versioning(&self, bucket: &str, region: &str)
        -> Result<BucketVersioning, LookupError>;
    /// `GetPublicAccessBlock` of `bucket`: not `configured` when the bucket has none
    /// (NoSuchPublicAccessBlockConfiguration).
    async fn public_access_block(
        &self,
        bucket: &str,
        region: &str,
    ) -> Result<PublicAccessBlock, LookupError>;
}

/// The buckets are not read here; `why` says so in the alert.
pub struct NoBuckets {
    pub why: &'static str,
}

#[async_trait]
impl BucketInspector for NoBuckets {
    async fn versioning(
        &self,
        _bucket: &str,
        _region: &str,
    ) -> Result<BucketVersioning, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
    async fn public_access_block(
        &self,
        _bucket: &str,
        _region: &str,
    ) -> Result<PublicAccessBlock, LookupError> {
        Err(LookupError {
            code: None,
            message: self.why.to_string(),
        })
    }
}
