//! An alert as AWS Security Hub (CSPM) reads it: the AWS Security Finding Format (ASFF), the
//! fields trailwatch writes and the limits they are kept within. Serialized, it is the finding
//! as `BatchImportFindings` takes it (and `bootstrap --preview --asff` prints it).
//!
//! Only the provider's fields are here. Workflow, Note, UserDefinedFields and VerificationState
//! belong to the customer and are never written (BatchImportFindings cannot update them once
//! the finding exists: "BatchImportFindings for finding providers", Security Hub CSPM User
//! Guide).

use std::collections::BTreeMap;

use serde::Serialize;

/// "SchemaVersion is always 2018-10-08" (Security Hub Partner Guide, "Guidelines for mapping
/// findings into ASFF").
pub const SCHEMA_VERSION: &str = "2018-10-08";

// Limits, from the Security Hub API Reference (AwsSecurityFinding, Recommendation, Compliance)
// and the Partner Guide ("Guidelines for mapping findings into ASFF", "Guidelines for using the
// BatchImportFindings API").
/// `Id` and `GeneratorId`: 1 to 512 characters.
pub const MAX_ID_CHARS: usize = 512;
/// `Title`: 256 characters, spaces included.
pub const MAX_TITLE_CHARS: usize = 256;
/// `Description`: 1 to 1,024 characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// `Remediation.Recommendation.Text`: 1 to 512 characters.
pub const MAX_RECOMMENDATION_CHARS: usize = 512;
/// `ProductFields`: at most 50 pairs, keys of at most 128 characters, values of at most 2,048.
pub const MAX_PRODUCT_FIELDS: usize = 50;
pub const MAX_PRODUCT_FIELD_KEY_CHARS: usize = 128;
pub const MAX_PRODUCT_FIELD_VALUE_CHARS: usize = 2048;
/// `Resources`: at most 32.
pub const MAX_RESOURCES: usize = 32;
/// A finding: at most 240 KB.
pub const MAX_FINDING_BYTES: usize = 240 * 1000;
/// `BatchImportFindings`: at most 100 findings a call.
pub const MAX_FINDINGS_PER_CALL: usize = 100;

/// The CIS control every trailwatch finding is evidence for: "Ensure CloudTrail configuration
/// changes are monitored".
pub const CIS_CLOUDTRAIL_CHANGES: &str = "CIS AWS Foundations Benchmark v3.0.0/4.5";
/// AWS Config's own changes, and Config enabled in every region (CIS v3.0.0 4.9 and 3.3).
pub const CIS_CONFIG_CHANGES: &str = "CIS AWS Foundations Benchmark v3.0.0/4.9";
pub const CIS_CONFIG_ENABLED: &str = "CIS AWS Foundations Benchmark v3.0.0/3.3";
/// "Ensure AWS Security Hub is enabled" (CIS v3.0.0 4.16).
pub const CIS_SECURITY_HUB_ENABLED: &str = "CIS AWS Foundations Benchmark v3.0.0/4.16";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub first_observed_at: Option<String>,
    pub last_observed_at: Option<String>,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    pub finding_provider_fields: ProviderFields,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    pub remediation: Option<AsffRemediation>,
    pub source_url: Option<String>,
    pub product_fields: BTreeMap<String, String>,
    pub record_state: RecordState,
}

/// The severity as Security Hub's label, and trailwatch's own word for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: String,
    pub original: String,
}

/// What the provider says of severity and types: customers may change the top-level fields,
/// and these keep what trailwatch said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderFields {
    pub severity: AsffSeverity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// One of ASFF's resource types, or `Other` when it has none for the kind.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The resource's ARN, or its validated name when there is no ARN.
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceStatus {
    Passed,
    Failed,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    pub status: ComplianceStatus,
    pub related_requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    Active,
    /// A posture finding that no longer holds: kept for the record, out of the active view.
    Archived,
}
