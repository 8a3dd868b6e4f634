//! What to do about who made the call: the step depends on the kind of principal. An assumed
//! role's credentials cannot be rotated, but its sessions can be revoked; an IAM Identity Center
//! session is revoked in Identity Center; a user's key is deactivated; a call an AWS service
//! made on someone's behalf is traced in that service's own history.

use crate::alert::NextStep;
use crate::call::ApiCall;
use crate::command::{self, Arg};
use crate::prose::code;
use crate::shape::is_access_key_id;

/// The actor-specific steps for a call (after the monitor's own).
pub fn steps_for(call: &ApiCall) -> Vec<NextStep> {
    let actor = &call.actor;
    let region = command::region(call.region.as_deref());
    // Only a key of the right shape is offered for tracing; a malformed one would only trace
    // nothing.
    let key = actor
        .access_key_id
        .as_deref()
        .filter(|key| is_access_key_id(key))
        .map(|key| command::access_key(Some(key)));
    let trace_session = |key: &Arg| {
        command::step(
            "Trace everything done with these credentials (the AssumeRole that issued them has the same key in responseElements.credentials.accessKeyId)",
            format!("aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue={key} --region {region}"),
            &[key, &region],
        )
    };
    if let Some(service) = actor.invoked_by.as_deref() {
        let service_name = command::service(Some(service));
        return vec![command::step(
            format!(
                "The call was made by {} on someone's behalf: find who started it in that service's own history (for CloudFormation, the stack's events and the change set before them)",
                code(service)
            ),
            format!("aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventSource,AttributeValue={service_name} --region {region}"),
            &[&service_name, &region],
        )];
    }
    if actor.is_root() {
        return vec![NextStep::say(
            "Secure the root user now: change its password, check its MFA device, delete any root access keys, and review who can reach its credentials.",
        )];
    }
    if let Some((user, permission_set)) = actor.sso() {
        let mut steps = vec![NextStep::say(format!(
            "Revoke the active sessions of {} in IAM Identity Center and review their {} assignment (AWSReservedSSO roles cannot be changed in IAM).",
            code(user),
            code(permission_set)
        ))];
        steps.extend(key.as_ref().map(trace_session));
        return steps;
    }
    if let Some(role) = actor.role_name() {
        let role_name = command::role(Some(role));
        // Sessions issued before the call are denied from now on; later ones still work.
        let before = command::time(call.time.as_deref());
        let mut steps = vec![command::step(
            format!(
                "Revoke the active sessions of role {} (what the console's \"Revoke active sessions\" does)",
                code(role)
            ),
            format!(
                "aws iam put-role-policy --role-name {role_name} --policy-name AWSRevokeOlderSessions --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\"Action\":[\"*\"],\"Resource\":[\"*\"],\"Condition\":{{\"DateLessThan\":{{\"aws:TokenIssueTime\":\"{before}\"}}}}}}]}}'"
            ),
            &[&role_name, &before],
        )];
        steps.extend(key.as_ref().map(trace_session));
        return steps;
    }
    match (actor.kind.as_deref(), actor.user_name.as_deref(), key) {
        (Some("IAMUser"), Some(user), Some(key)) => {
            let user_name = command::user(Some(user));
            vec![command::step(
                format!(
                    "If {} did not make this change, deactivate the access key it was made with",
                    code(user)
                ),
                format!("aws iam update-access-key --user-name {user_name} --access-key-id {key} --status Inactive"),
                &[&user_name, &key],
            )]
        }
        _ => Vec::new(),
    }
}
