//! What the lookups found about a call's resource: its state now, the coverage verdict when it
//! was wanted, and what could not be learned.

use crate::coverage::Coverage;
use crate::resource::ResourceState;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    pub state: ResourceState,
    /// Whether the account is still recorded, when the outcome asked for the verdict.
    pub coverage: Option<Coverage>,
    /// What could not be learned and why; empty when everything was.
    pub problems: Vec<String>,
}

impl Enrichment {
    pub fn skipped(why: impl Into<String>) -> Enrichment {
        Enrichment {
            problems: vec![why.into()],
            ..Enrichment::default()
        }
    }

    /// One sentence for the alert's `enrichmentError`, or `None` when nothing went wrong.
    pub fn error_summary(&self) -> Option<String> {
        (!self.problems.is_empty()).then(|| self.problems.join("; "))
    }

    /// The lookup succeeded and found no trail using the bucket, key or log group.
    pub fn found_no_trail_using_it(&self) -> bool {
        matches!(&self.state, ResourceState::DeliveryChain { trails, .. } if trails.is_empty())
            && self.problems.is_empty()
    }
}
