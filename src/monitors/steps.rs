//! What the monitors' next steps share: the confirming step, how prose names the principal, the
//! redeploy step for trailwatch's own resources, and the retention thresholds. What may go into
//! a pasteable command is [`crate::command`]'s.

use crate::alert::NextStep;
use crate::monitors::monitor::StepFacts;
use crate::prose::code;

/// Log files and events kept for less than this are a finding (PCI DSS and most audit regimes ask
/// for a year).
pub const MIN_RETENTION_DAYS: i64 = 365;
/// Expiry this soon destroys evidence before a weekly review would notice.
pub const CRITICAL_RETENTION_DAYS: i64 = 7;

/// The step for any change someone made on purpose or not: ask the principal's owner, or, for
/// a call an AWS service made on someone's behalf, whoever started that service's work; the root
/// user has no owner to ask, only whoever holds its credentials.
pub fn confirm(facts: &StepFacts<'_>) -> NextStep {
    match facts.call.actor.invoked_by.as_deref() {
        Some(service) => NextStep::say(format!(
            "Find out who had {} make this change (its own history, below) and whether it was authorised; if not, treat it as a security incident.",
            code(service)
        )),
        None if facts.call.actor.is_root() => NextStep::say(
            "Find out who holds the root user's credentials and whether they made this change on purpose: root is for break-glass only, so unless someone can account for it, treat it as a security incident.",
        ),
        None => NextStep::say(format!(
            "Confirm with the owner of {} that this was an authorised change; if not, treat it as a security incident.",
            code(facts.who)
        )),
    }
}

/// Who made the call, for prose: the name in backticks, or "the root user" (which is not a
/// name to look up).
pub fn principal(facts: &StepFacts<'_>) -> String {
    if facts.call.actor.is_root() {
        "the root user".to_string()
    } else {
        code(facts.who)
    }
}

/// The step that restores any of trailwatch's own resources exactly as the template defines
/// them; `what` names the resource and what comes back with it.
pub fn redeploy(what: &str) -> NextStep {
    NextStep::say(format!(
        "Redeploy the trailwatch stack (sam deploy, or update the StackSet) to restore {what} as the template defines them."
    ))
}
