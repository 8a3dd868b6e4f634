//! [`RoleAssumer`] on STS: AssumeRole into trailwatch's read role in a member account, and a
//! CloudTrail client that reads with the session's credentials (and, with findings on, a
//! Security Hub client that imports with them).

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_cloudtrail::config::Credentials;

use crate::asff::Hub;
use crate::aws::cloudtrail::CloudTrailInspector;
use crate::aws::lookup_error;
use crate::aws::securityhub::SecurityHub;
use crate::hub::FindingsHub;
use crate::inspector::LookupError;
use crate::members::{RoleAssumer, Session};

/// How the sessions name themselves in the member account's CloudTrail: a reader of its
/// records sees who read its trails.
const SESSION_NAME: &str = "trailwatch-central";

/// An hour, the role's default maximum: one AssumeRole per account per hour at most.
const SESSION_SECONDS: i32 = 3600;

pub struct ReadRole {
    sts: aws_sdk_sts::Client,
    /// The lookups' CloudTrail settings (retries, time limits, endpoint, trusted roots); each
    /// session's client is this with the session's credentials.
    cloudtrail: aws_sdk_cloudtrail::Config,
    partition: String,
    role_name: String,
    /// With findings on: Security Hub's settings and the function's region, so each session
    /// also imports into its account's hub.
    securityhub: Option<(aws_sdk_securityhub::Config, Hub)>,
}

impl ReadRole {
    pub fn new(
        sts: aws_sdk_sts::Client,
        cloudtrail: aws_sdk_cloudtrail::Config,
        partition: &str,
        role_name: &str,
    ) -> ReadRole {
        ReadRole {
            sts,
            cloudtrail,
            partition: partition.to_string(),
            role_name: role_name.to_string(),
            securityhub: None,
        }
    }

    /// Each session also imports findings into its account's Security Hub, in `home`'s region.
    pub fn with_findings(
        mut self,
        securityhub: aws_sdk_securityhub::Config,
        home: Hub,
    ) -> ReadRole {
        self.securityhub = Some((securityhub, home));
        self
    }
}

#[async_trait]
impl RoleAssumer for ReadRole {
    fn role_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:iam::{account}:role/{}",
            self.partition, self.role_name
        )
    }

    async fn assume(&self, account: &str) -> Result<Session, LookupError> {
        let answer = self
            .sts
            .assume_role()
            .role_arn(self.role_arn(account))
            .role_session_name(SESSION_NAME)
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        let Some(credentials) = answer.credentials else {
            return Err(LookupError {
                code: None,
                message: "STS answered AssumeRole without credentials".to_string(),
            });
        };
        // An expiry STS did not give (or that cannot be read) is taken as now: the session is
        // used for this event and assumed again for the next.
        let expires_at =
            SystemTime::try_from(credentials.expiration).unwrap_or_else(|_| SystemTime::now());
        let session_credentials = Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            Some(expires_at),
            "trailwatch-read-role",
        );
        let hub = self.securityhub.as_ref().map(|(settings, home)| {
            let client = aws_sdk_securityhub::Client::from_conf(
                settings
                    .to_builder()
                    .credentials_provider(session_credentials.clone())
                    .build(),
            );
            let member = Hub {
                account: account.to_string(),
                ..home.clone()
            };
            Arc::new(SecurityHub::new(client, member)) as Arc<dyn FindingsHub>
        });
        let config = self
            .cloudtrail
            .to_builder()
            .credentials_provider(session_credentials)
            .build();
        Ok(Session {
            hub,
            inspector: Arc::new(CloudTrailInspector::new(
                aws_sdk_cloudtrail::Client::from_conf(config),
            )),
            expires_at,
        })
    }
}
