//! What the monitors' next steps share: the confirming step, the redeploy step for
//! trailwatch's own resources, what may go into a pasteable command, and the retention
//! thresholds.

use crate::alert::{code, NextStep};
use crate::monitors::monitor::StepFacts;

/// Log files and events kept for less than this are a finding (PCI DSS and most audit regimes ask
/// for a year).
pub const MIN_RETENTION_DAYS: i64 = 365;
/// Expiry this soon destroys evidence before a weekly review would notice.
pub const CRITICAL_RETENTION_DAYS: i64 = 7;

/// The step for any change someone made on purpose or not: ask the principal's owner, or, for
/// a call an AWS service made on someone's behalf, whoever started that service's work.
pub fn confirm(facts: &StepFacts<'_>) -> NextStep {
    match facts.call.actor.invoked_by.as_deref() {
        Some(service) => NextStep::say(format!(
            "Find out who had {} make this change (its own history, below) and whether it was authorised; if not, treat it as a security incident.",
            code(service)
        )),
        None => NextStep::say(format!(
            "Confirm with the owner of {} that this was an authorised change; if not, treat it as a security incident.",
            code(facts.who)
        )),
    }
}

/// The step that restores any of trailwatch's own resources exactly as the template defines
/// them; `what` names the resource and what comes back with it.
pub fn redeploy(what: &str) -> NextStep {
    NextStep::say(format!(
        "Redeploy the trailwatch stack (sam deploy, or update the StackSet) to restore {what} as the template defines them."
    ))
}

/// A value that can go into a shell command a responder may paste: letters, digits and
/// `. _ - : /`, not starting with `-`. Anything else gets a placeholder instead.
pub fn shell_safe(value: Option<&str>) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/');
    value.filter(|text| {
        !text.is_empty() && text.len() <= 512 && !text.starts_with('-') && text.chars().all(allowed)
    })
}

/// The region for a command: a real region's shape, or the `REGION` placeholder.
pub fn shell_region(region: Option<&str>) -> &str {
    region
        .filter(|r| crate::links::is_region(r))
        .unwrap_or("REGION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_values_carry_no_shell_syntax() {
        assert_eq!(shell_safe(Some("org_audit.trail")), Some("org_audit.trail"));
        for hostile in ["a;b", "$(x)", "-rf", "a b", "", "`x`", "a\nb"] {
            assert_eq!(shell_safe(Some(hostile)), None, "{hostile:?}");
        }
        assert_eq!(shell_region(Some("us-east-1;x")), "REGION");
    }
}
