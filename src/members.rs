//! A member account's trails, seen from the central account.
//!
//! In central mode the function receives every member account's events but its own role sees
//! only its own account's trails. Each member account has trailwatch's read role (created by the
//! forwarder StackSet, trusting only the central function's role); [`MemberAccess`] hands the
//! event path an inspector that reads through it. Sessions are kept per account until shortly
//! before they expire, in a bounded cache, so a burst from one account assumes the role once.
//! [`NoMemberAccess`] is the adapter for everywhere else (standalone, preview): the central
//! role's own view, as before.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use lru::LruCache;

use crate::hub::FindingsHub;
use crate::inspector::{LookupError, TrailInspector};

/// Sessions kept at once. An organization's events come from a few accounts at a time; a
/// session costs a client (a few KB), and one evicted too early costs one AssumeRole.
pub const MAX_CACHED_ACCOUNTS: usize = 256;

/// A session is dropped this long before it expires, so no lookup starts on credentials that
/// run out before it is answered.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// How a member account's trails can be read.
pub enum Access {
    /// Through trailwatch's read role in that account.
    Member(Arc<dyn TrailInspector>),
    /// No read role is configured: the function's own view is all there is.
    NotConfigured,
    /// The role could not be assumed (missing, denied, STS unreachable).
    Failed(LookupError),
}

#[async_trait]
pub trait MemberAccess: Send + Sync {
    /// How `account`'s trails can be read; `account` is a 12-digit account id.
    async fn access(&self, account: &str) -> Access;
    /// `account`'s Security Hub through its read role, when findings are on; `Err` says why not.
    async fn hub(&self, account: &str) -> Result<Arc<dyn FindingsHub>, String>;
}

/// Member accounts are not read: standalone and preview, or central mode without a read role.
pub struct NoMemberAccess;

#[async_trait]
impl MemberAccess for NoMemberAccess {
    async fn access(&self, _account: &str) -> Access {
        Access::NotConfigured
    }
    async fn hub(&self, _account: &str) -> Result<Arc<dyn FindingsHub>, String> {
        Err("no read role is configured (MEMBER_ROLE_NAME)".to_string())
    }
}

/// A session in a member account's read role.
pub struct Session {
    pub inspector: Arc<dyn TrailInspector>,
    /// The member account's Security Hub, when findings are on: a finding is imported in the
    /// account it is about.
    pub hub: Option<Arc<dyn FindingsHub>>,
    /// When the role's credentials expire.
    pub expires_at: SystemTime,
}

/// Assumes the read role in one account (`aws::sts` on STS).
#[async_trait]
pub trait RoleAssumer: Send + Sync {
    /// The role's ARN in `account`, as errors and logs name it.
    fn role_arn(&self, account: &str) -> String;
    async fn assume(&self, account: &str) -> Result<Session, LookupError>;
}

/// [`MemberAccess`] through a read role, with each account's session kept until
/// [`EXPIRY_MARGIN`] before it expires, at most [`MAX_CACHED_ACCOUNTS`] of them (the least
/// recently used goes first). A failure is not kept: the next event tries again.
pub struct AssumedRoles<A> {
    assumer: A,
    sessions: Mutex<LruCache<String, Session>>,
}

impl<A: RoleAssumer> AssumedRoles<A> {
    pub fn new(assumer: A) -> AssumedRoles<A> {
        AssumedRoles::with_capacity(assumer, MAX_CACHED_ACCOUNTS)
    }

    pub fn with_capacity(assumer: A, capacity: usize) -> AssumedRoles<A> {
        AssumedRoles {
            assumer,
            sessions: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// A kept session that is still good at `now`.
    fn kept(&self, account: &str, now: SystemTime) -> Option<Arc<dyn TrailInspector>> {
        self.kept_session(account, now)
            .map(|(inspector, _)| inspector)
    }

    /// A kept session's inspector and hub, still good at `now`.
    #[allow(clippy::type_complexity)]
    fn kept_session(
        &self,
        account: &str,
        now: SystemTime,
    ) -> Option<(Arc<dyn TrailInspector>, Option<Arc<dyn FindingsHub>>)> {
        // A poisoned lock only means another invocation panicked mid-update; the cache is
        // still a cache, so keep using it rather than abort.
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = sessions
            .get(account)
            .map(|session| now + EXPIRY_MARGIN < session.expires_at)?;
        if fresh {
            return sessions
                .get(account)
                .map(|s| (Arc::clone(&s.inspector), s.hub.clone()));
        }
        sessions.pop(account);
        None
    }

    fn keep(&self, account: &str, session: Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.put(account.to_string(), session);
    }

    /// Accounts with a session kept, for tests and the log.
    pub fn cached(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

#[async_trait]
impl<A: RoleAssumer> MemberAccess for AssumedRoles<A> {
    async fn access(&self, account: &str) -> Access {
        if let Some(inspector) = self.kept(account, SystemTime::now()) {
            return Access::Member(inspector);
        }
        // The lock is not held across the call: two events from a new account at once may
        // both assume the role, which costs one extra STS call and nothing else.
        match self.assumer.assume(account).await {
            Ok(session) => {
                let inspector = Arc::clone(&session.inspector);
                self.keep(account, session);
                Access::Member(inspector)
            }
            Err(error) => Access::Failed(self.failed(account, error)),
        }
    }

    async fn hub(&self, account: &str) -> Result<Arc<dyn FindingsHub>, String> {
        let hub = match self.kept_session(account, SystemTime::now()) {
            Some((_, hub)) => hub,
            None => {
                let session = self
                    .assumer
                    .assume(account)
                    .await
                    .map_err(|error| self.failed(account, error).to_string())?;
                let hub = session.hub.clone();
                self.keep(account, session);
                hub
            }
        };
        hub.ok_or_else(|| "Security Hub findings are off".to_string())
    }
}

impl<A: RoleAssumer> AssumedRoles<A> {
    fn failed(&self, account: &str, error: LookupError) -> LookupError {
        LookupError {
            code: error.code,
            message: format!(
                "assuming {} failed: {}",
                self.assumer.role_arn(account),
                error.message
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{EventDataStoreState, SelectorSummary, TrailConfig, TrailStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An inspector that only says which account it reads.
    struct AccountView(String);

    #[async_trait]
    impl TrailInspector for AccountView {
        async fn trail_status(&self, _: &str, _: &str) -> Result<TrailStatus, LookupError> {
            Err(self.error())
        }
        async fn trails(&self, _: &str) -> Result<Vec<TrailConfig>, LookupError> {
            Err(self.error())
        }
        async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
            Err(self.error())
        }
        async fn event_data_store(
            &self,
            _: &str,
            _: &str,
        ) -> Result<EventDataStoreState, LookupError> {
            Err(self.error())
        }
    }

    impl AccountView {
        fn error(&self) -> LookupError {
            LookupError {
                code: None,
                message: self.0.clone(),
            }
        }
    }

    /// Counts its calls; sessions last `lifetime`; accounts in `denied` fail.
    struct Counting {
        calls: AtomicUsize,
        lifetime: Duration,
        denied: &'static [&'static str],
    }

    #[async_trait]
    impl RoleAssumer for Counting {
        fn role_arn(&self, account: &str) -> String {
            format!("arn:aws:iam::{account}:role/trailwatch-read-x")
        }
        async fn assume(&self, account: &str) -> Result<Session, LookupError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.denied.contains(&account) {
                return Err(LookupError {
                    code: Some("AccessDenied".into()),
                    message: "not authorized to perform sts:AssumeRole".into(),
                });
            }
            Ok(Session {
                inspector: Arc::new(AccountView(account.to_string())),
                hub: None,
                expires_at: SystemTime::now() + self.lifetime,
            })
        }
    }

    fn counting(lifetime: Duration) -> Counting {
        Counting {
            calls: AtomicUsize::new(0),
            lifetime,
            denied: &["999999999999"],
        }
    }

    async fn reads(access: Access) -> String {
        match access {
            Access::Member(inspector) => inspector.trails("us-east-1").await.unwrap_err().message,
            Access::NotConfigured => "not configured".into(),
            Access::Failed(error) => format!("failed: {error}"),
        }
    }

    #[tokio::test]
    async fn one_session_per_account_until_it_nears_expiry() {
        let roles = AssumedRoles::new(counting(Duration::from_secs(3600)));
        for _ in 0..3 {
            assert_eq!(
                reads(roles.access("111122223333").await).await,
                "111122223333"
            );
        }
        assert_eq!(
            reads(roles.access("444455556666").await).await,
            "444455556666"
        );
        assert_eq!(roles.assumer.calls.load(Ordering::SeqCst), 2);

        // Credentials that expire within the margin are never used.
        let short = AssumedRoles::new(counting(EXPIRY_MARGIN / 2));
        short.access("111122223333").await;
        short.access("111122223333").await;
        assert_eq!(short.assumer.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_is_bounded_and_failures_are_not_kept() {
        let roles = AssumedRoles::with_capacity(counting(Duration::from_secs(3600)), 2);
        for account in ["111111111111", "222222222222", "333333333333"] {
            roles.access(account).await;
        }
        assert_eq!(roles.cached(), 2);
        // The least recently used went first: asking for it assumes again.
        roles.access("111111111111").await;
        assert_eq!(roles.assumer.calls.load(Ordering::SeqCst), 4);

        let denied = reads(roles.access("999999999999").await).await;
        assert_eq!(
            denied,
            "failed: AccessDenied: assuming arn:aws:iam::999999999999:role/trailwatch-read-x failed: not authorized to perform sts:AssumeRole"
        );
        roles.access("999999999999").await;
        assert_eq!(roles.assumer.calls.load(Ordering::SeqCst), 6, "tried again");
    }

    #[tokio::test]
    async fn a_members_hub_comes_from_the_same_kept_session() {
        let roles = AssumedRoles::new(counting(Duration::from_secs(3600)));
        roles.access("111122223333").await;
        // The session was kept: asking for its hub assumes nothing more (findings are off in
        // this assumer, and it says so).
        assert_eq!(
            roles.hub("111122223333").await.err().as_deref(),
            Some("Security Hub findings are off")
        );
        assert_eq!(roles.assumer.calls.load(Ordering::SeqCst), 1);
        let denied = roles.hub("999999999999").await.err().unwrap_or_default();
        assert!(denied.contains("AccessDenied"), "{denied}");
        assert!(NoMemberAccess.hub("111122223333").await.is_err());
    }

    #[tokio::test]
    async fn without_a_read_role_nothing_changes() {
        assert_eq!(
            reads(NoMemberAccess.access("111122223333").await).await,
            "not configured"
        );
    }
}
