//! [`FindingsHub`] on AWS Security Hub (CSPM): BatchImportFindings, at most 100 findings a call
//! ("Guidelines for using the BatchImportFindings API", Security Hub Partner Guide); throttling
//! is retried by the client's standard retries (with backoff), all within the caller's
//! deadline. GetFindings lists trailwatch's open posture findings; the filters are also applied
//! here, so an endpoint that ignores them (moto) cannot widen what is archived.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus as SdkCompliance,
    FindingProviderFields, FindingProviderSeverity, Partition, Recommendation as SdkRecommendation,
    RecordState as SdkRecordState, Remediation, Resource, Severity, SeverityLabel, StringFilter,
    StringFilterComparison,
};
use aws_sdk_securityhub::Client;

use crate::alert::asff::{
    AsffCompliance, AsffFinding, AsffRemediation, AsffResource, AsffSeverity, ComplianceStatus,
    ProviderFields, Recommendation, RecordState, MAX_FINDINGS_PER_CALL,
};
use crate::asff::Hub;
use crate::aws::call_failed;
use crate::hub::{FindingsHub, ImportReport, Refused};

/// Where trailwatch's posture findings' GeneratorIds begin ([`crate::asff`]).
const POSTURE_GENERATOR: &str = "trailwatch/posture/";
/// GetFindings pages read at most (100 findings each): far more open posture findings than one
/// account can have (a few per trail).
const MAX_PAGES: usize = 20;

pub struct SecurityHub {
    client: Client,
    /// Where findings are imported: the function's own region and partition.
    hub: Hub,
}

impl SecurityHub {
    pub fn new(client: Client, hub: Hub) -> SecurityHub {
        SecurityHub { client, hub }
    }
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(StringFilterComparison::Equals)
        .build()
}

#[async_trait]
impl FindingsHub for SecurityHub {
    fn enabled(&self) -> bool {
        true
    }

    async fn import(&self, findings: &[AsffFinding]) -> ImportReport {
        let mut report = ImportReport::default();
        for (index, chunk) in findings.chunks(MAX_FINDINGS_PER_CALL).enumerate() {
            let answer = self
                .client
                .batch_import_findings()
                .set_findings(Some(chunk.iter().map(to_sdk).collect()))
                .send()
                .await;
            match answer {
                Ok(answer) => {
                    report.imported +=
                        usize::try_from(answer.success_count().unwrap_or(0)).unwrap_or(0);
                    report
                        .refused
                        .extend(answer.failed_findings().iter().map(|failed| Refused {
                            id: failed.id().unwrap_or_default().to_string(),
                            code: failed.error_code().unwrap_or_default().to_string(),
                            message: failed.error_message().unwrap_or_default().to_string(),
                        }));
                }
                Err(error) => {
                    let unsent = findings.len() - index * MAX_FINDINGS_PER_CALL;
                    report.not_sent = Some((unsent, call_failed("BatchImportFindings", &error)));
                    break;
                }
            }
        }
        report
    }

    async fn open_posture_findings(&self, account: &str) -> Result<Vec<AsffFinding>, String> {
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(equals(&self.hub.product_arn(account)))
            .aws_account_id(equals(account))
            .record_state(equals("ACTIVE"))
            .generator_id(
                StringFilter::builder()
                    .value(POSTURE_GENERATOR)
                    .comparison(StringFilterComparison::Prefix)
                    .build(),
            )
            .build();
        let mut open = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .get_findings()
                .filters(filters.clone())
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|error| call_failed("GetFindings", &error))?;
            open.extend(
                page.findings()
                    .iter()
                    .filter(|f| {
                        f.aws_account_id() == Some(account)
                            && f.generator_id()
                                .is_some_and(|g| g.starts_with(POSTURE_GENERATOR))
                            && f.record_state() != Some(&SdkRecordState::Archived)
                    })
                    .map(from_sdk),
            );
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(open)
    }
}

fn sdk_severity(severity: &AsffSeverity) -> Severity {
    Severity::builder()
        .label(SeverityLabel::from(severity.label.as_str()))
        .original(&severity.original)
        .build()
}

/// The finding as the SDK sends it: exactly trailwatch's fields, never the customer's.
fn to_sdk(finding: &AsffFinding) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .set_first_observed_at(finding.first_observed_at.clone())
        .set_last_observed_at(finding.last_observed_at.clone())
        .severity(sdk_severity(&finding.severity))
        .title(&finding.title)
        .description(&finding.description)
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(SeverityLabel::from(
                            finding.finding_provider_fields.severity.label.as_str(),
                        ))
                        .original(&finding.finding_provider_fields.severity.original)
                        .build(),
                )
                .set_types(Some(finding.finding_provider_fields.types.clone()))
                .build(),
        )
        .set_resources(Some(
            finding
                .resources
                .iter()
                .map(|resource| {
                    Resource::builder()
                        .r#type(&resource.kind)
                        .id(&resource.id)
                        .partition(Partition::from(resource.partition.as_str()))
                        .region(&resource.region)
                        .build()
                })
                .collect(),
        ))
        .compliance(
            Compliance::builder()
                .status(match finding.compliance.status {
                    ComplianceStatus::Passed => SdkCompliance::Passed,
                    ComplianceStatus::Failed => SdkCompliance::Failed,
                    ComplianceStatus::Warning => SdkCompliance::Warning,
                })
                .set_related_requirements(Some(finding.compliance.related_requirements.clone()))
                .build(),
        )
        .set_remediation(finding.remediation.as_ref().map(|remediation| {
            Remediation::builder()
                .recommendation(
                    SdkRecommendation::builder()
                        .text(&remediation.recommendation.text)
                        .build(),
                )
                .build()
        }))
        .set_source_url(finding.source_url.clone())
        .set_product_fields(Some(
            finding
                .product_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .record_state(match finding.record_state {
            RecordState::Active => SdkRecordState::Active,
            RecordState::Archived => SdkRecordState::Archived,
        })
        .build()
}

/// trailwatch's own fields of a finding Security Hub holds, to archive it: the customer's
/// (Workflow, Note, UserDefinedFields, VerificationState) are not read, so never written back.
fn from_sdk(finding: &AwsSecurityFinding) -> AsffFinding {
    let text = |value: Option<&str>| value.unwrap_or_default().to_string();
    let severity = |label: Option<&SeverityLabel>, original: Option<&str>| AsffSeverity {
        label: label.map_or("INFORMATIONAL", |l| l.as_str()).to_string(),
        original: text(original),
    };
    let provider = finding.finding_provider_fields();
    AsffFinding {
        schema_version: text(finding.schema_version()),
        id: text(finding.id()),
        product_arn: text(finding.product_arn()),
        generator_id: text(finding.generator_id()),
        aws_account_id: text(finding.aws_account_id()),
        types: finding.types().to_vec(),
        created_at: text(finding.created_at()),
        updated_at: text(finding.updated_at()),
        first_observed_at: finding.first_observed_at().map(str::to_string),
        last_observed_at: finding.last_observed_at().map(str::to_string),
        severity: severity(
            finding.severity().and_then(|s| s.label()),
            finding.severity().and_then(|s| s.original()),
        ),
        title: text(finding.title()),
        description: text(finding.description()),
        finding_provider_fields: ProviderFields {
            severity: severity(
                provider.and_then(|p| p.severity()).and_then(|s| s.label()),
                provider
                    .and_then(|p| p.severity())
                    .and_then(|s| s.original()),
            ),
            types: provider.map(|p| p.types().to_vec()).unwrap_or_default(),
        },
        resources: finding
            .resources()
            .iter()
            .map(|resource| AsffResource {
                kind: text(resource.r#type()),
                id: text(resource.id()),
                partition: resource
                    .partition()
                    .map_or("aws", |p| p.as_str())
                    .to_string(),
                region: text(resource.region()),
            })
            .collect(),
        compliance: AsffCompliance {
            status: ComplianceStatus::Failed,
            related_requirements: finding
                .compliance()
                .map(|c| c.related_requirements().to_vec())
                .unwrap_or_default(),
        },
        remediation: finding
            .remediation()
            .and_then(|r| r.recommendation())
            .and_then(|r| r.text())
            .map(|text| AsffRemediation {
                recommendation: Recommendation {
                    text: text.to_string(),
                },
            }),
        source_url: finding.source_url().map(str::to_string),
        product_fields: finding
            .product_fields()
            .map(|fields| {
                fields
                    .iter()
                    .filter(|(key, _)| key.starts_with("trailwatch/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        record_state: RecordState::Active,
    }
}
