//! The other recorders in the posture check: whether AWS Config records in each region of
//! POSTURE_REGIONS (CIS 3.3 "Ensure AWS Config is enabled in all regions"), when
//! POSTURE_CHECK_CONFIG is on. A region where no recorder records is a HIGH finding, as a
//! recorder stopped by a call is; a region that cannot be read is "could not check".

use crate::alert::posture::{Check, Finding};
use crate::lookup::{all_within, Deadline};
use crate::prose::code;
use crate::recorders::RecorderInspector;
use crate::resource::config_records;
use crate::severity::Severity::*;

/// The findings about AWS Config in `regions`, read concurrently within `deadline`.
pub async fn config_findings(
    recorders: &dyn RecorderInspector,
    regions: &[String],
    deadline: Deadline,
) -> Vec<Finding> {
    let answers = all_within(
        deadline,
        regions
            .iter()
            .map(|region| recorders.config_recorders(region))
            .collect(),
    )
    .await;
    let mut found = Vec::new();
    for (region, answer) in regions.iter().zip(answers) {
        let finding = |severity, check, detail: String| Finding {
            account: None,
            severity,
            check,
            trail: None,
            region: Some(region.clone()),
            detail,
            since: None,
            new: false,
        };
        match answer {
            Some(Ok(status)) => match config_records(&status) {
                Some(true) | None => {}
                Some(false) if status.is_empty() => found.push(finding(
                    High,
                    Check::ConfigNotRecording,
                    format!(
                        "AWS Config has no recorder in {}: configuration changes there are not recorded",
                        code(region)
                    ),
                )),
                Some(false) => found.push(finding(
                    High,
                    Check::ConfigNotRecording,
                    format!(
                        "AWS Config's recorder {} in {} is not recording: configuration changes there are not recorded",
                        code(&status[0].name),
                        code(region)
                    ),
                )),
            },
            Some(Err(error)) => found.push(finding(
                Medium,
                Check::CouldNotCheck,
                format!(
                    "AWS Config in {} could not be read: {}",
                    code(region),
                    code(&error.to_string())
                ),
            )),
            None => found.push(finding(
                Medium,
                Check::CouldNotCheck,
                format!(
                    "AWS Config in {} could not be read before the check's deadline",
                    code(region)
                ),
            )),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspector::LookupError;
    use crate::resource::RecorderStatus;
    use async_trait::async_trait;
    use std::time::Duration;

    struct Regions;

    #[async_trait]
    impl RecorderInspector for Regions {
        async fn config_recorders(&self, region: &str) -> Result<Vec<RecorderStatus>, LookupError> {
            let recorder = |recording| RecorderStatus {
                name: "default".into(),
                recording: Some(recording),
                ..RecorderStatus::default()
            };
            match region {
                "us-east-1" => Ok(vec![recorder(true)]),
                "eu-west-1" => Ok(vec![recorder(false)]),
                "eu-west-2" => Ok(Vec::new()),
                _ => Err(LookupError {
                    code: Some("AccessDeniedException".into()),
                    message: "not authorized".into(),
                }),
            }
        }
        async fn security_hub_enabled(&self, _region: &str) -> Result<bool, LookupError> {
            Ok(true)
        }
    }

    #[tokio::test]
    async fn each_region_where_config_does_not_record_is_a_finding() {
        let regions: Vec<String> = ["us-east-1", "eu-west-1", "eu-west-2", "ap-south-1"]
            .map(String::from)
            .to_vec();
        let found =
            config_findings(&Regions, &regions, Deadline::after(Duration::from_secs(5))).await;
        let by_region: Vec<(&str, Check, _)> = found
            .iter()
            .map(|f| (f.region.as_deref().unwrap(), f.check, f.severity))
            .collect();
        assert_eq!(
            by_region,
            [
                ("eu-west-1", Check::ConfigNotRecording, High),
                ("eu-west-2", Check::ConfigNotRecording, High),
                ("ap-south-1", Check::CouldNotCheck, Medium),
            ]
        );
        assert!(found[0].detail.contains("`default`"));
        assert!(found[1].detail.contains("no recorder"));
        assert!(found[2].detail.contains("AccessDeniedException"));
    }
}
