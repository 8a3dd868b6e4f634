//! The trail bucket's protections as `AwsBuckets` reads them from S3's answers, with the SDK's
//! transport mocked (aws-smithy-mocks): moto answers GetBucketVersioning with a root element
//! S3 does not use (`GetBucketVersioningResponse`), which the Rust SDK refuses, so the mapping
//! is proven here and the e2e test proves the failure path.

use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput;
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDeleteStatus, PublicAccessBlockConfiguration};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use trailwatch::aws::buckets::AwsBuckets;
use trailwatch::buckets::BucketInspector;

#[tokio::test]
async fn versioning_is_s3s_status_and_mfa_delete_or_none_when_never_set() {
    let suspended = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|request| request.bucket() == Some("cloudtrail-logs-111122223333"))
        .then_output(|| {
            GetBucketVersioningOutput::builder()
                .status(BucketVersioningStatus::Suspended)
                .mfa_delete(MfaDeleteStatus::Disabled)
                .build()
        });
    let buckets = AwsBuckets::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&suspended]));
    let read = buckets
        .versioning("cloudtrail-logs-111122223333", "us-east-1")
        .await
        .unwrap();
    assert_eq!(read.status.as_deref(), Some("Suspended"));
    assert_eq!(read.mfa_delete.as_deref(), Some("Disabled"));

    let never = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .then_output(|| GetBucketVersioningOutput::builder().build());
    let buckets = AwsBuckets::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&never]));
    let read = buckets.versioning("b", "us-east-1").await.unwrap();
    assert_eq!((read.status, read.mfa_delete), (None, None));
}

#[tokio::test]
async fn a_public_access_block_is_its_four_settings() {
    let partial = mock!(aws_sdk_s3::Client::get_public_access_block).then_output(|| {
        GetPublicAccessBlockOutput::builder()
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(false)
                    .build(),
            )
            .build()
    });
    let buckets = AwsBuckets::new(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&partial]));
    let block = buckets.public_access_block("b", "us-east-1").await.unwrap();
    assert!(block.configured);
    // A setting S3 leaves out is off.
    assert_eq!(block.off(), ["BlockPublicPolicy", "RestrictPublicBuckets"]);
}
