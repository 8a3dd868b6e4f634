//! Security Hub, behind a narrow trait: findings imported, and the posture findings trailwatch
//! imported earlier that are still open (so the ones fixed since can be archived).
//! [`NoHub`] is the adapter when findings are off (the default) and in preview.

use async_trait::async_trait;

use crate::alert::asff::AsffFinding;

/// A finding Security Hub refused, as BatchImportFindings' `FailedFindings` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What an import did: never an error to the caller, whose alert is published anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    pub refused: Vec<Refused>,
    /// Why some findings were not even sent (Security Hub not enabled, access denied,
    /// throttled past the deadline), with how many.
    pub not_sent: Option<(usize, String)>,
}

impl ImportReport {
    pub fn failed(&self) -> usize {
        self.refused.len() + self.not_sent.as_ref().map_or(0, |(count, _)| *count)
    }
}

#[async_trait]
pub trait FindingsHub: Send + Sync {
    /// Whether findings are imported at all (so nothing is built for a hub that is off).
    fn enabled(&self) -> bool;
    /// Imports `findings` (each already within ASFF's limits), at most 100 a call.
    async fn import(&self, findings: &[AsffFinding]) -> ImportReport;
    /// trailwatch's posture findings about `account` that Security Hub holds as ACTIVE.
    async fn open_posture_findings(&self, account: &str) -> Result<Vec<AsffFinding>, String>;
}

/// Findings are off.
pub struct NoHub;

#[async_trait]
impl FindingsHub for NoHub {
    fn enabled(&self) -> bool {
        false
    }
    async fn import(&self, _: &[AsffFinding]) -> ImportReport {
        ImportReport::default()
    }
    async fn open_posture_findings(&self, _: &str) -> Result<Vec<AsffFinding>, String> {
        Ok(Vec::new())
    }
}
