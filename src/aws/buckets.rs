//! [`BucketInspector`] on S3's APIs: GetBucketVersioning and GetPublicAccessBlock, asked in the
//! region of the call (a trail's bucket may be in any region).

use async_trait::async_trait;

use crate::aws::lookup_error;
use crate::buckets::BucketInspector;
use crate::inspector::LookupError;
use crate::resource::{BucketVersioning, PublicAccessBlock};

pub struct AwsBuckets {
    s3: aws_sdk_s3::Client,
}

impl AwsBuckets {
    pub fn new(s3: aws_sdk_s3::Client) -> AwsBuckets {
        AwsBuckets { s3 }
    }
}

fn in_region(region: &str) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::default()
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
}

#[async_trait]
impl BucketInspector for AwsBuckets {
    async fn versioning(
        &self,
        bucket: &str,
        region: &str,
    ) -> Result<BucketVersioning, LookupError> {
        let out = self
            .s3
            .get_bucket_versioning()
            .bucket(bucket)
            .customize()
            .config_override(in_region(region))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(BucketVersioning {
            // No status at all: versioning was never enabled.
            status: out.status().map(|s| s.as_str().to_string()),
            mfa_delete: out.mfa_delete().map(|m| m.as_str().to_string()),
        })
    }

    async fn public_access_block(
        &self,
        bucket: &str,
        region: &str,
    ) -> Result<PublicAccessBlock, LookupError> {
        let answer = self
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .customize()
            .config_override(in_region(region))
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(error)
                if error
                    .raw_response()
                    .is_some_and(|raw| raw.status().as_u16() == 404) =>
            {
                // NoSuchPublicAccessBlockConfiguration: the bucket has no block of its own.
                return Ok(PublicAccessBlock::default());
            }
            Err(error) => return Err(lookup_error(&error)),
        };
        let config = out.public_access_block_configuration();
        let on = |flag: Option<bool>| flag.unwrap_or(false);
        Ok(PublicAccessBlock {
            configured: true,
            block_public_acls: on(config.and_then(|c| c.block_public_acls())),
            ignore_public_acls: on(config.and_then(|c| c.ignore_public_acls())),
            block_public_policy: on(config.and_then(|c| c.block_public_policy())),
            restrict_public_buckets: on(config.and_then(|c| c.restrict_public_buckets())),
        })
    }
}
