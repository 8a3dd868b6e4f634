//! Trusted principals: the roles (an IaC pipeline, a break-glass process) whose routine changes
//! should not page anyone.
//!
//! Patterns are ARN globs (`*` matches any run of characters, `/` included), matched against the
//! caller's ARN and, for an assumed role, the role that issued the session, so
//! `arn:aws:iam::111122223333:role/deploy-*` trusts every session of those roles. Trust only
//! lowers the severity of changes that reduce nothing; the pipeline decides which those are.

use glob::Pattern;

use crate::arn::Arn;
use crate::call::Actor;

#[derive(Debug, Clone, Default)]
pub struct TrustedPrincipals {
    patterns: Vec<Pattern>,
}

impl PartialEq for TrustedPrincipals {
    fn eq(&self, other: &Self) -> bool {
        self.patterns
            .iter()
            .map(Pattern::as_str)
            .eq(other.patterns.iter().map(Pattern::as_str))
    }
}

impl Eq for TrustedPrincipals {}

impl TrustedPrincipals {
    /// Reads comma-separated patterns; blank entries are skipped. Each pattern must look like
    /// an ARN, so a typo cannot trust everyone.
    pub fn parse(list: &str) -> Result<TrustedPrincipals, String> {
        let mut patterns = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some(arn) = Arn::parse(entry) else {
                return Err(format!(
                    "{entry:?} is not an ARN pattern (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, * allowed)"
                ));
            };
            match arn.account.as_deref() {
                Some(account) if !account.contains(['*', '?', '[']) => {}
                _ => {
                    return Err(format!(
                        "{entry:?} must name one account: trust is given per account, without wildcards"
                    ))
                }
            }
            let pattern = Pattern::new(entry)
                .map_err(|e| format!("{entry:?} is not a valid pattern: {e}"))?;
            patterns.push(pattern);
        }
        Ok(TrustedPrincipals { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The pattern the actor matched, if any.
    pub fn matching(&self, actor: &Actor) -> Option<&str> {
        let arns = [actor.arn.as_deref(), actor.session_issuer_arn.as_deref()];
        self.patterns
            .iter()
            .find(|pattern| arns.iter().flatten().any(|arn| pattern.matches(arn)))
            .map(Pattern::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role_session(role: &str) -> Actor {
        Actor {
            kind: Some("AssumedRole".into()),
            arn: Some(format!(
                "arn:aws:sts::111122223333:assumed-role/{role}/session"
            )),
            session_issuer_arn: Some(format!("arn:aws:iam::111122223333:role/{role}")),
            ..Actor::default()
        }
    }

    #[test]
    fn matches_the_issuing_role_or_the_session() {
        let trusted =
            TrustedPrincipals::parse(" arn:aws:iam::111122223333:role/deploy-* ,").unwrap();
        assert!(trusted.matching(&role_session("deploy-prod")).is_some());
        assert!(trusted.matching(&role_session("admin")).is_none());
        let by_session =
            TrustedPrincipals::parse("arn:aws:sts::111122223333:assumed-role/ci/*").unwrap();
        assert!(by_session.matching(&role_session("ci")).is_some());
        assert!(TrustedPrincipals::parse("").unwrap().is_empty());
    }

    #[test]
    fn other_accounts_are_not_trusted_by_a_same_named_role() {
        let trusted = TrustedPrincipals::parse("arn:aws:iam::111122223333:role/deploy").unwrap();
        let mut other = role_session("deploy");
        other.session_issuer_arn = Some("arn:aws:iam::444455556666:role/deploy".into());
        other.arn = Some("arn:aws:sts::444455556666:assumed-role/deploy/s".into());
        assert!(trusted.matching(&other).is_none());
    }

    #[test]
    fn patterns_that_would_trust_too_much_are_refused() {
        for bad in [
            "*",
            "deploy-role",
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::1:role/[x",
        ] {
            assert!(TrustedPrincipals::parse(bad).is_err(), "{bad}");
        }
    }
}
