//! The other recorders in the posture check, each in every region of POSTURE_REGIONS when
//! POSTURE_RECORDERS turns its check on: AWS Config records (`config`, CIS 3.3 "Ensure AWS
//! Config is enabled in all regions"), GuardDuty's detector is enabled (`guardduty`), Security
//! Hub is enabled (`securityhub`, CIS 4.16). A region where one is off is a HIGH finding, as
//! the call that switched it off is; a region that cannot be read is "could not check".

use std::future::Future;

use crate::alert::posture::{Check, Finding};
use crate::config::PostureSettings;
use crate::inspector::LookupError;
use crate::lookup::{all_within, Deadline};
use crate::prose::code;
use crate::recorders::RecorderInspector;
use crate::resource::{config_records, guardduty_watches};
use crate::severity::Severity::*;

/// Which of the other recorders a run checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecorderChecks {
    pub config: bool,
    pub guardduty: bool,
    pub security_hub: bool,
}

impl RecorderChecks {
    pub fn of(posture: &PostureSettings) -> RecorderChecks {
        RecorderChecks {
            config: posture.check_config,
            guardduty: posture.check_guardduty,
            security_hub: posture.check_security_hub,
        }
    }
}

/// The findings about the other recorders in `regions`, each service's regions read
/// concurrently within `deadline`.
pub async fn recorder_findings(
    recorders: &dyn RecorderInspector,
    regions: &[String],
    checks: RecorderChecks,
    deadline: Deadline,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if checks.config {
        found.extend(config_findings(recorders, regions, deadline).await);
    }
    if checks.guardduty {
        found.extend(
            each_region(
                regions,
                deadline,
                "GuardDuty",
                |region| recorders.guardduty_detectors(region),
                |region, detectors| match guardduty_watches(detectors) {
                    Some(true) | None => None,
                    Some(false) if detectors.is_empty() => Some((
                        Check::GuardDutyOff,
                        format!(
                            "GuardDuty has no detector in {}: threats there are not looked for",
                            code(region)
                        ),
                    )),
                    Some(false) => Some((
                        Check::GuardDutyOff,
                        format!(
                            "GuardDuty's detector {} in {} is suspended: threats there are not looked for",
                            code(&detectors[0].id),
                            code(region)
                        ),
                    )),
                },
            )
            .await,
        );
    }
    if checks.security_hub {
        found.extend(
            each_region(
                regions,
                deadline,
                "Security Hub",
                |region| recorders.security_hub_enabled(region),
                |region, enabled| {
                    (!enabled).then(|| {
                        (
                            Check::SecurityHubOff,
                            format!(
                                "Security Hub is not enabled in {}: the region's findings are not gathered, nor its controls evaluated",
                                code(region)
                            ),
                        )
                    })
                },
            )
            .await,
        );
    }
    found
}

/// The findings about AWS Config in `regions`, read concurrently within `deadline`.
pub async fn config_findings(
    recorders: &dyn RecorderInspector,
    regions: &[String],
    deadline: Deadline,
) -> Vec<Finding> {
    each_region(
        regions,
        deadline,
        "AWS Config",
        |region| recorders.config_recorders(region),
        |region, status| match config_records(status) {
            Some(true) | None => None,
            Some(false) if status.is_empty() => Some((
                Check::ConfigNotRecording,
                format!(
                    "AWS Config has no recorder in {}: configuration changes there are not recorded",
                    code(region)
                ),
            )),
            Some(false) => Some((
                Check::ConfigNotRecording,
                format!(
                    "AWS Config's recorder {} in {} is not recording: configuration changes there are not recorded",
                    code(&status[0].name),
                    code(region)
                ),
            )),
        },
    )
    .await
}

/// One service's read in every region, concurrently within `deadline`: a HIGH finding where
/// `off` says the recorder is off, "could not check" where the read failed or ran out of time.
async fn each_region<'a, T, Read, Answer>(
    regions: &'a [String],
    deadline: Deadline,
    service: &str,
    read: Read,
    off: impl Fn(&str, &T) -> Option<(Check, String)>,
) -> Vec<Finding>
where
    Read: Fn(&'a str) -> Answer,
    Answer: Future<Output = Result<T, LookupError>>,
{
    let answers = all_within(
        deadline,
        regions.iter().map(|region| read(region.as_str())).collect(),
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
            Some(Ok(state)) => {
                if let Some((check, detail)) = off(region, &state) {
                    found.push(finding(High, check, detail));
                }
            }
            Some(Err(error)) => found.push(finding(
                Medium,
                Check::CouldNotCheck,
                format!(
                    "{service} in {} could not be read: {}",
                    code(region),
                    code(&error.to_string())
                ),
            )),
            None => found.push(finding(
                Medium,
                Check::CouldNotCheck,
                format!(
                    "{service} in {} could not be read before the check's deadline",
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
        async fn guardduty_detectors(
            &self,
            _region: &str,
        ) -> Result<Vec<crate::resource::DetectorStatus>, LookupError> {
            Ok(Vec::new())
        }
        async fn trusted_services(&self) -> Result<Vec<String>, LookupError> {
            Ok(Vec::new())
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
