//! Configuration from the environment, read and checked once at init.
//!
//! A mistake here should stop the function at cold start with a message naming the variable,
//! not surface later as alerts that silently go nowhere.

use std::time::Duration;

use std::collections::BTreeMap;

use crate::arn::Arn;
use crate::own::OwnResources;
use crate::resource::ResourceKind;
use crate::severity::Severity;
use crate::shape::is_region;
use crate::trust::TrustedPrincipals;

pub const DEFAULT_ENRICH_TIMEOUT: Duration = Duration::from_millis(2000);
/// Enrichment is a nicety; anything slower than this is better reported as a timeout.
pub const MAX_ENRICH_TIMEOUT_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Empty only in preview, which publishes nothing.
    pub topic_arn: String,
    pub min_severity: Severity,
    /// Zero turns enrichment off.
    pub enrich_timeout: Duration,
    /// TRUSTED_PRINCIPALS: whose changes that reduce nothing are INFORMATIONAL.
    pub trusted: TrustedPrincipals,
    /// The account trailwatch runs in, whose trails its role can see: the topic's account.
    pub home_account: Option<String>,
    /// MEMBER_ROLE_NAME: central mode's read role in each member account; `None` where member
    /// accounts are not read.
    pub member_role: Option<MemberReadRole>,
    /// DEDUP_TABLE: the DynamoDB table that keeps each event published once; `None` publishes
    /// every delivery.
    pub dedup_table: Option<String>,
    /// BURST_THRESHOLD, BURST_WINDOW_SECONDS, DIGEST_DELAY_SECONDS: when a principal's alerts
    /// are folded into a digest ([`crate::burst`]). Folding needs the table and the queue too.
    pub burst: BurstSettings,
    /// DIGEST_QUEUE_URL: where a burst's digest request waits for its window to close.
    pub digest_queue_url: Option<String>,
    /// POSTURE_QUEUE_URL: where an organization's run sends one check per account (the
    /// stack's `trailwatch-ID-posture` unless named); `None` unless POSTURE_ACCOUNTS is set.
    pub posture_queue_url: Option<String>,
    /// SECURITY_HUB_FINDINGS: every alert is also imported into Security Hub as ASFF findings
    /// ([`crate::asff`]); off unless `true`.
    pub security_hub: bool,
    /// ACCOUNT_NAMES: a name for each account id, shown next to it.
    pub account_names: BTreeMap<String, String>,
    /// HEALTH_TOPIC_ARN: where calls on trailwatch's own resources are alerted; the alert topic
    /// when unset.
    pub health_topic_arn: Option<String>,
    /// trailwatch's own key, rules, topics and function.
    pub own: OwnResources,
    /// AUTO_RESTART_LOGGING: answer an untrusted StopLogging with StartLogging.
    pub auto_restart: bool,
    /// The scheduled posture check's settings.
    pub posture: PostureSettings,
    /// TRUSTED_ROOTS: which certificate authorities the AWS clients trust.
    pub trusted_roots: TrustedRoots,
    /// The level of the lines something counts (the posture run's finished line, the metrics).
    pub signal_level: SignalLevel,
}

/// When a principal's alerts are folded into a digest ([`crate::burst`]): BURST_THRESHOLD,
/// BURST_WINDOW_SECONDS, DIGEST_DELAY_SECONDS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstSettings {
    /// Alerts of one principal published on their own per window; 0 turns folding off.
    pub threshold: u64,
    pub window: Duration,
    /// How long after its window closes a digest is sent: the function's timeout, so every
    /// invocation that folded a call into the window has finished counting it.
    pub delay_after_window: Duration,
}

pub const DEFAULT_BURST_THRESHOLD: u64 = 10;
pub const DEFAULT_BURST_WINDOW: Duration = Duration::from_secs(300);
pub const DEFAULT_DIGEST_DELAY: Duration = Duration::from_secs(60);
/// SQS delays a message by at most 15 minutes: the window and the delay together must fit.
pub const MAX_DIGEST_DELAY: Duration = Duration::from_secs(900);

impl Default for BurstSettings {
    fn default() -> BurstSettings {
        BurstSettings {
            threshold: 0,
            window: DEFAULT_BURST_WINDOW,
            delay_after_window: DEFAULT_DIGEST_DELAY,
        }
    }
}

/// trailwatch's read role in the member accounts: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberReadRole {
    pub name: String,
    /// The home account's partition (the topic's): member accounts of an organization share it.
    pub partition: String,
}

/// The level of a line that must survive Lambda's log-level filtering: INFO, or the function's
/// ApplicationLogLevel (`AWS_LAMBDA_LOG_LEVEL`) when that is higher.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignalLevel {
    #[default]
    Info,
    Warn,
    Error,
}

impl SignalLevel {
    pub fn label(self) -> &'static str {
        match self {
            SignalLevel::Info => "INFO",
            SignalLevel::Warn => "WARN",
            SignalLevel::Error => "ERROR",
        }
    }
}

/// Which certificate authorities the AWS clients trust (src/aws/roots.rs says why).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrustedRoots {
    /// `amazon`, the default: the five roots of Amazon Trust Services, compiled in.
    #[default]
    AmazonTrustServices,
    /// `system`: the platform's store (SSL_CERT_FILE and SSL_CERT_DIR honoured).
    System,
}

/// How the scheduled posture check runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostureSettings {
    /// POSTURE_REGIONS: where trails are listed; the function's own region when unset.
    pub regions: Vec<String>,
    /// POSTURE_INTERVAL_MINUTES: the schedule's period, which decides what counts as new.
    pub interval: Duration,
    /// REMIND_AFTER_HOURS: how often a finding already reported is repeated; zero repeats it
    /// on every run.
    pub remind_after: Duration,
    /// HEARTBEAT_WINDOW_MINUTES: the heartbeat alarms' window; when set, every run expects a
    /// heartbeat from each region within it. `None` (unset or 0) when the heartbeat is off.
    pub heartbeat_window: Option<Duration>,
    /// POSTURE_ACCOUNTS: an organization's run over these accounts; `None` (unset) checks the
    /// function's own account alone, in the run itself.
    pub accounts: Option<AccountSource>,
    /// POSTURE_RECORDERS `config=true`: whether each run also checks that AWS Config records
    /// in every region (the template turns it on unless PostureChecksConfig is false).
    pub check_config: bool,
    /// `guardduty=true`: ... that GuardDuty's detector is enabled in every region
    /// (PostureChecksGuardDuty).
    pub check_guardduty: bool,
    /// `securityhub=true`: ... that Security Hub is enabled in every region
    /// (PostureChecksSecurityHub).
    pub check_security_hub: bool,
}

/// Where an organization's posture run finds its accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// `organization`: every ACTIVE account Organizations lists (ListAccounts, allowed in the
    /// management account or a delegated administrator's).
    Organization,
    /// A comma-separated list of 12-digit account ids.
    Listed(Vec<String>),
}

/// POSTURE_ACCOUNTS: unset, `organization`, or a list of account ids.
fn read_accounts(
    non_empty: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AccountSource>, ConfigError> {
    let Some(value) = non_empty("POSTURE_ACCOUNTS") else {
        return Ok(None);
    };
    if value.eq_ignore_ascii_case("organization") {
        return Ok(Some(AccountSource::Organization));
    }
    let mut accounts: Vec<String> = Vec::new();
    for account in value.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        if !crate::shape::is_account(account) {
            return Err(ConfigError {
                variable: "POSTURE_ACCOUNTS",
                problem: format!(
                    "{account:?} is not a 12-digit account id (give `organization`, or a comma-separated list of account ids)"
                ),
            });
        }
        if !accounts.iter().any(|a| a == account) {
            accounts.push(account.to_string());
        }
    }
    Ok(Some(AccountSource::Listed(accounts)))
}

pub const DEFAULT_POSTURE_INTERVAL_MINUTES: u64 = 60;
pub const DEFAULT_REMIND_AFTER_HOURS: u64 = 24;

impl Default for PostureSettings {
    fn default() -> PostureSettings {
        PostureSettings {
            regions: Vec::new(),
            interval: Duration::from_secs(DEFAULT_POSTURE_INTERVAL_MINUTES * 60),
            remind_after: Duration::from_secs(DEFAULT_REMIND_AFTER_HOURS * 3600),
            heartbeat_window: None,
            accounts: None,
            check_config: false,
            check_guardduty: false,
            check_security_hub: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::read(lookup, true)
    }

    /// The same settings for `--preview`, which publishes nothing: ALERT_TOPIC_ARN may be
    /// absent (but, when given, must be valid).
    pub fn for_preview(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::read(lookup, false)
    }

    fn read(
        lookup: impl Fn(&str) -> Option<String>,
        topic_required: bool,
    ) -> Result<Config, ConfigError> {
        let non_empty = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let topic_arn = match non_empty("ALERT_TOPIC_ARN") {
            Some(arn) => arn,
            None if !topic_required => String::new(),
            None => {
                return Err(ConfigError {
                    variable: "ALERT_TOPIC_ARN",
                    problem: "is required: the ARN of the SNS topic alerts are published to".into(),
                })
            }
        };
        let topic = match topic_arn.as_str() {
            "" => None,
            arn => Some(sns_topic("ALERT_TOPIC_ARN", arn)?),
        };
        let health_topic_arn = match non_empty("HEALTH_TOPIC_ARN") {
            Some(arn) => {
                sns_topic("HEALTH_TOPIC_ARN", &arn)?;
                Some(arn)
            }
            None => None,
        };
        let home_partition = topic
            .as_ref()
            .map_or_else(|| "aws".to_string(), |arn| arn.partition.clone());
        let home_account = topic.and_then(|arn| arn.account);

        let key = match non_empty("OWN_KEY_ARN") {
            None => None,
            Some(arn) => Some(
                Arn::parse(&arn)
                    .filter(|key| key.service == "kms" && key.resource_after("key/").is_some())
                    .ok_or_else(|| ConfigError {
                        variable: "OWN_KEY_ARN",
                        problem: format!(
                            "{arn:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
                        ),
                    })?,
            ),
        };
        let mut rules = OwnResources::parse_rules(&non_empty("OWN_RULE_NAMES").unwrap_or_default())
            .map_err(|problem| ConfigError {
                variable: "OWN_RULE_NAMES",
                problem,
            })?;
        // The rules on trailwatch's own central bus, by name alone: the bus is OWN_EVENT_BUS
        // (named after the stack, up to 256 characters, so not repeated for every rule).
        if let Some(names) = non_empty("OWN_BUS_RULE_NAMES") {
            let bus = non_empty("OWN_EVENT_BUS").ok_or_else(|| ConfigError {
                variable: "OWN_BUS_RULE_NAMES",
                problem: "is set without OWN_EVENT_BUS, the bus its rules are on".to_string(),
            })?;
            let on_bus: Vec<String> = OwnResources::list(&names)
                .iter()
                .map(|name| format!("{bus}/{name}"))
                .collect();
            rules.extend(
                OwnResources::parse_rules(&on_bus.join(",")).map_err(|problem| ConfigError {
                    variable: "OWN_BUS_RULE_NAMES",
                    problem,
                })?,
            );
        }
        let mut queues = Vec::new();
        for entry in OwnResources::list(&non_empty("OWN_QUEUE_ARNS").unwrap_or_default()) {
            queues.push(
                Arn::parse(&entry)
                    .filter(|arn| arn.service == "sqs" && arn.account.is_some())
                    .ok_or_else(|| ConfigError {
                        variable: "OWN_QUEUE_ARNS",
                        problem: format!("{entry:?} is not an SQS queue ARN"),
                    })?,
            );
        }
        let role = match non_empty("OWN_ROLE_ARN") {
            None => None,
            Some(arn) => Some(
                Arn::parse(&arn)
                    .filter(|role| role.service == "iam" && role.resource_after("role/").is_some())
                    .ok_or_else(|| ConfigError {
                        variable: "OWN_ROLE_ARN",
                        problem: format!("{arn:?} is not an IAM role ARN"),
                    })?,
            ),
        };
        // The stack id CloudFormation gives (a UUID); it names the alarms, so anything that
        // could widen the prefix (wildcards, separators, an empty id) is refused.
        let id = non_empty("OWN_ID");
        if let Some(id) = &id {
            let valid = (1..=64).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(ConfigError {
                    variable: "OWN_ID",
                    problem: format!(
                        "{id:?} is not a stack id (letters, digits and hyphens, at most 64)"
                    ),
                });
            }
        }
        // trailwatch's queues: the variable's URL, else the stack's own, named from its id like
        // every part of the stack (`trailwatch-ID-SUFFIX`, in the function's account and
        // region): the function's environment has little room to spare.
        let own_queue_url = |variable: &'static str, suffix: &str| match non_empty(variable) {
            Some(url)
                if (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() <= 1024
                    && !url.chars().any(char::is_whitespace) =>
            {
                Ok(Some(url))
            }
            Some(url) => Err(ConfigError {
                variable,
                problem: format!("{url:?} is not an SQS queue URL"),
            }),
            None => Ok(match (&id, &home_account, non_empty("AWS_REGION")) {
                (Some(id), Some(account), Some(region)) if is_region(&region) => {
                    let domain = match home_partition.as_str() {
                        "aws-cn" => "amazonaws.com.cn",
                        _ => "amazonaws.com",
                    };
                    Some(format!(
                        "https://sqs.{region}.{domain}/{account}/trailwatch-{id}-{suffix}"
                    ))
                }
                _ => None,
            }),
        };
        let digest_queue_url = own_queue_url("DIGEST_QUEUE_URL", "digests")?;
        let posture_queue_url = own_queue_url("POSTURE_QUEUE_URL", "posture")?;
        let heartbeat_role = non_empty("HEARTBEAT_ROLE_NAME");
        if let Some(name) = &heartbeat_role {
            if !ResourceKind::Role.is_valid_name(&name.replace("{region}", "us-east-1")) {
                return Err(ConfigError {
                    variable: "HEARTBEAT_ROLE_NAME",
                    problem: format!("{name:?} is not an IAM role name ({{region}} allowed)"),
                });
            }
        }
        // Central mode: the read role's name in every member account (the same in each, so it
        // can be built from the account id). A name only: the account comes from the event.
        let member_role = match non_empty("MEMBER_ROLE_NAME") {
            None => None,
            Some(name) if ResourceKind::Role.is_valid_name(&name) => Some(MemberReadRole {
                name,
                partition: home_partition.clone(),
            }),
            Some(name) => {
                return Err(ConfigError {
                    variable: "MEMBER_ROLE_NAME",
                    problem: format!("{name:?} is not an IAM role name"),
                })
            }
        };
        // DEDUP_TABLE: DynamoDB's table names are 3 to 255 of letters, digits, `_`, `-`, `.`.
        let dedup_table = match non_empty("DEDUP_TABLE") {
            None => None,
            Some(name)
                if (3..=255).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) =>
            {
                Some(name)
            }
            Some(name) => {
                return Err(ConfigError {
                    variable: "DEDUP_TABLE",
                    problem: format!("{name:?} is not a DynamoDB table name"),
                })
            }
        };
        let burst = read_burst(&non_empty)?;
        // The digest queue is one of trailwatch's own (a purge would drop pending digests).
        let accounts = read_accounts(&non_empty)?;
        // An organization's run keeps its record in the table and spreads over the queue.
        let posture_queue_url = match (&accounts, &dedup_table, posture_queue_url) {
            (None, _, _) => None,
            (Some(_), Some(_), Some(url)) => Some(url),
            (Some(_), None, _) => {
                return Err(ConfigError {
                    variable: "POSTURE_ACCOUNTS",
                    problem: "an organization's posture run needs DEDUP_TABLE (it records the run there)".into(),
                })
            }
            (Some(_), Some(_), None) => {
                return Err(ConfigError {
                    variable: "POSTURE_ACCOUNTS",
                    problem: "an organization's posture run needs POSTURE_QUEUE_URL, or OWN_ID to name the stack's queue".into(),
                })
            }
        };
        // trailwatch's own queues (a purge would drop pending digests or checks).
        for own_queue in [&digest_queue_url, &posture_queue_url]
            .into_iter()
            .flatten()
            .filter_map(|url| queue_arn_of_url(url, &home_partition))
        {
            if !queues.contains(&own_queue) {
                queues.push(own_queue);
            }
        }
        let own = OwnResources {
            key,
            rules,
            topics: [Some(topic_arn.clone()), health_topic_arn.clone()]
                .into_iter()
                .flatten()
                .filter(|arn| !arn.is_empty())
                .collect(),
            function: non_empty("AWS_LAMBDA_FUNCTION_NAME"),
            account: home_account.clone(),
            log_group: non_empty("OWN_LOG_GROUP"),
            queues,
            id,
            role,
            event_bus: non_empty("OWN_EVENT_BUS"),
            heartbeat_parameter: non_empty("HEARTBEAT_PARAMETER"),
            heartbeat_role,
        };
        // The level Lambda keeps lines at (ApplicationLogLevel), so the lines other things count
        // (the dead man's switch, the metrics) are written at it or above.
        let signal_level = match lookup("AWS_LAMBDA_LOG_LEVEL")
            .unwrap_or_default()
            .to_ascii_uppercase()
            .as_str()
        {
            "WARN" => SignalLevel::Warn,
            "ERROR" | "FATAL" => SignalLevel::Error,
            _ => SignalLevel::Info,
        };

        let trusted_roots = match non_empty("TRUSTED_ROOTS").as_deref() {
            None | Some("amazon") => TrustedRoots::AmazonTrustServices,
            Some("system") => TrustedRoots::System,
            Some(other) => {
                return Err(ConfigError {
                    variable: "TRUSTED_ROOTS",
                    problem: format!("{other:?} is neither \"amazon\" nor \"system\""),
                })
            }
        };

        let flag = |variable: &'static str| match non_empty(variable).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ConfigError {
                variable,
                problem: format!("{other:?} is neither \"true\" nor \"false\""),
            }),
        };
        let security_hub = flag("SECURITY_HUB_FINDINGS")?;
        let auto_restart = flag("AUTO_RESTART_LOGGING")?;
        let recorders = posture_recorders(non_empty("POSTURE_RECORDERS").as_deref())?;
        let check_config = recorders.contains(&"config");
        let check_guardduty = recorders.contains(&"guardduty");
        let check_security_hub = recorders.contains(&"securityhub");

        let whole = |variable: &'static str, default: u64, max: u64| match non_empty(variable) {
            None => Ok(default),
            Some(value) => value
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or(ConfigError {
                    variable,
                    problem: format!("{value:?} is not a whole number from 0 to {max}"),
                }),
        };
        let interval_minutes = whole(
            "POSTURE_INTERVAL_MINUTES",
            DEFAULT_POSTURE_INTERVAL_MINUTES,
            1440,
        )?
        .max(1);
        let remind_hours = whole("REMIND_AFTER_HOURS", DEFAULT_REMIND_AFTER_HOURS, 720)?;
        let heartbeat_window_minutes = whole("HEARTBEAT_WINDOW_MINUTES", 0, 1440)?;
        let mut regions: Vec<String> = Vec::new();
        for region in non_empty("POSTURE_REGIONS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            if !crate::shape::is_region(region) {
                return Err(ConfigError {
                    variable: "POSTURE_REGIONS",
                    problem: format!("{region:?} is not a region (a comma-separated list like us-east-1,eu-west-1)"),
                });
            }
            if !regions.iter().any(|r| r == region) {
                regions.push(region.to_string());
            }
        }
        if regions.is_empty() {
            regions.extend(
                non_empty("AWS_REGION")
                    .or_else(|| non_empty("AWS_DEFAULT_REGION"))
                    .filter(|r| crate::shape::is_region(r)),
            );
        }
        let posture = PostureSettings {
            regions,
            interval: Duration::from_secs(interval_minutes * 60),
            remind_after: Duration::from_secs(remind_hours * 3600),
            heartbeat_window: (heartbeat_window_minutes > 0)
                .then(|| Duration::from_secs(heartbeat_window_minutes * 60)),
            accounts,
            check_config,
            check_guardduty,
            check_security_hub,
        };

        let min_severity = match non_empty("MIN_SEVERITY") {
            None => Severity::Informational,
            Some(value) => value
                .parse()
                .map_err(|e: crate::severity::UnknownSeverity| ConfigError {
                    variable: "MIN_SEVERITY",
                    problem: e.to_string(),
                })?,
        };

        let enrich_timeout = match non_empty("ENRICH_TIMEOUT_MS") {
            None => DEFAULT_ENRICH_TIMEOUT,
            Some(value) => match value.parse::<u64>() {
                Ok(ms) if ms <= MAX_ENRICH_TIMEOUT_MS => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError {
                        variable: "ENRICH_TIMEOUT_MS",
                        problem: format!(
                            "{value:?} is not a whole number of milliseconds from 0 (no enrichment) to {MAX_ENRICH_TIMEOUT_MS}"
                        ),
                    })
                }
            },
        };

        let trusted =
            TrustedPrincipals::parse(&non_empty("TRUSTED_PRINCIPALS").unwrap_or_default())
                .map_err(|problem| ConfigError {
                    variable: "TRUSTED_PRINCIPALS",
                    problem,
                })?;

        let account_names = match non_empty("ACCOUNT_NAMES") {
            None => BTreeMap::new(),
            Some(json) => parse_account_names(&json).map_err(|problem| ConfigError {
                variable: "ACCOUNT_NAMES",
                problem,
            })?,
        };

        Ok(Config {
            signal_level,
            account_names,
            home_account,
            member_role,
            dedup_table,
            burst,
            digest_queue_url,
            posture_queue_url,
            health_topic_arn,
            own,
            auto_restart,
            security_hub,
            posture,
            trusted_roots,
            topic_arn,
            min_severity,
            enrich_timeout,
            trusted,
        })
    }
}

/// The burst settings; the window and the delay together must fit SQS's 15-minute delay.
fn read_burst(non_empty: &impl Fn(&str) -> Option<String>) -> Result<BurstSettings, ConfigError> {
    let seconds = |variable: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
        match non_empty(variable) {
            None => Ok(default),
            Some(value) => value
                .parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| ConfigError {
                    variable,
                    problem: format!(
                        "{value:?} is not a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                }),
        }
    };
    let max = MAX_DIGEST_DELAY.as_secs();
    let settings = BurstSettings {
        threshold: seconds("BURST_THRESHOLD", 0, 0..=1000)?,
        window: Duration::from_secs(seconds(
            "BURST_WINDOW_SECONDS",
            DEFAULT_BURST_WINDOW.as_secs(),
            1..=max,
        )?),
        delay_after_window: Duration::from_secs(seconds(
            "DIGEST_DELAY_SECONDS",
            DEFAULT_DIGEST_DELAY.as_secs(),
            0..=max,
        )?),
    };
    if settings.window + settings.delay_after_window > MAX_DIGEST_DELAY {
        return Err(ConfigError {
            variable: "BURST_WINDOW_SECONDS",
            problem: format!(
                "the window and DIGEST_DELAY_SECONDS together must fit SQS's {max}-second delay"
            ),
        });
    }
    Ok(settings)
}

/// The ARN of the queue at `url` (`https://sqs.REGION.SUFFIX/ACCOUNT/NAME`).
fn queue_arn_of_url(url: &str, partition: &str) -> Option<Arn> {
    let rest = url.split_once("://")?.1;
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next().filter(|a| crate::shape::is_account(a))?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    let region = host.strip_prefix("sqs.")?.split('.').next()?;
    Some(Arn {
        partition: partition.to_string(),
        service: "sqs".to_string(),
        region: Some(region.to_string()),
        account: Some(account.to_string()),
        resource: name.to_string(),
    })
}

/// An SNS topic ARN, or an error naming the variable it came from.
fn sns_topic(variable: &'static str, text: &str) -> Result<Arn, ConfigError> {
    Arn::parse(text)
        .filter(|arn| {
            arn.service == "sns"
                && arn.region.is_some()
                && arn.account.is_some()
                && !arn.resource.contains(':')
        })
        .ok_or_else(|| ConfigError {
            variable,
            problem: format!("{text:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"),
        })
}

/// `{"111122223333": "prod-payments", ...}`: twelve-digit ids, and names of letters, digits,
/// spaces and `. _ -` (at most 64), since they reach subjects and chat titles.
fn parse_account_names(json: &str) -> Result<BTreeMap<String, String>, String> {
    let names: BTreeMap<String, String> = serde_json::from_str(json).map_err(|e| {
        format!("is not a JSON object of account id to name, like {{\"111122223333\": \"prod-payments\"}}: {e}")
    })?;
    for (id, name) in &names {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{id:?} is not a twelve-digit account id"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-');
        if name.trim().is_empty() || name.len() > 64 || !name.chars().all(allowed) {
            return Err(format!(
                "the name for {id} must be 1-64 letters, digits, spaces, '.', '_' or '-'"
            ));
        }
    }
    Ok(names)
}

/// The recorders POSTURE_RECORDERS turns on: `config=true,guardduty=false,securityhub=true`,
/// each `true` or `false`, any left out off. One variable for the three keeps the function's
/// environment within Lambda's 4 KB in the largest layout (docs/deploy.md).
fn posture_recorders(text: Option<&str>) -> Result<Vec<&'static str>, ConfigError> {
    const KNOWN: [&str; 3] = ["config", "guardduty", "securityhub"];
    let problem = |problem: String| ConfigError {
        variable: "POSTURE_RECORDERS",
        problem,
    };
    let mut on = Vec::new();
    for item in text
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| problem(format!("{item:?} is not name=true or name=false")))?;
        let known = KNOWN
            .iter()
            .find(|known| **known == key.trim())
            .ok_or_else(|| problem(format!("{key:?} is none of config, guardduty, securityhub")))?;
        match value.trim() {
            "true" => on.push(*known),
            "false" => {}
            other => {
                return Err(problem(format!(
                    "{other:?} is neither \"true\" nor \"false\""
                )))
            }
        }
    }
    Ok(on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:trailwatch-alerts";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("ALERT_TOPIC_ARN", TOPIC)]).unwrap();
        assert_eq!(c.min_severity, Severity::Informational);
        assert_eq!(c.enrich_timeout, Duration::from_millis(2000));
    }

    #[test]
    fn every_error_names_its_variable() {
        assert_eq!(config(&[]).unwrap_err().variable, "ALERT_TOPIC_ARN");
        assert_eq!(
            config(&[("ALERT_TOPIC_ARN", "  ")]).unwrap_err().variable,
            "ALERT_TOPIC_ARN"
        );
        assert_eq!(
            config(&[("ALERT_TOPIC_ARN", "my-topic")])
                .unwrap_err()
                .variable,
            "ALERT_TOPIC_ARN"
        );
        let bad_severity =
            config(&[("ALERT_TOPIC_ARN", TOPIC), ("MIN_SEVERITY", "urgent")]).unwrap_err();
        assert_eq!(bad_severity.variable, "MIN_SEVERITY");
        assert!(bad_severity.to_string().contains("MIN_SEVERITY"));
        for bad in ["-1", "2s", "999999"] {
            let err =
                config(&[("ALERT_TOPIC_ARN", TOPIC), ("ENRICH_TIMEOUT_MS", bad)]).unwrap_err();
            assert_eq!(err.variable, "ENRICH_TIMEOUT_MS", "{bad}");
        }
        for (variable, bad) in [
            ("BURST_THRESHOLD", "-1"),
            ("BURST_THRESHOLD", "1001"),
            ("BURST_WINDOW_SECONDS", "0"),
            ("BURST_WINDOW_SECONDS", "900"),
            ("DIGEST_QUEUE_URL", "queue"),
        ] {
            let err = config(&[("ALERT_TOPIC_ARN", TOPIC), (variable, bad)]).unwrap_err();
            assert_eq!(err.variable, variable, "{bad}");
        }
        for bad in ["ab", "table/x", "a b c"] {
            let err = config(&[("ALERT_TOPIC_ARN", TOPIC), ("DEDUP_TABLE", bad)]).unwrap_err();
            assert_eq!(err.variable, "DEDUP_TABLE", "{bad}");
        }
        for bad in ["role/x", "a*", "trailwatch read"] {
            let err = config(&[("ALERT_TOPIC_ARN", TOPIC), ("MEMBER_ROLE_NAME", bad)]).unwrap_err();
            assert_eq!(err.variable, "MEMBER_ROLE_NAME", "{bad}");
        }
    }

    #[test]
    fn the_digest_queue_is_the_stacks_own_unless_named() {
        let id = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f";
        let derived = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("OWN_ID", id),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap();
        let url =
            format!("https://sqs.eu-west-1.amazonaws.com/111122223333/trailwatch-{id}-digests");
        assert_eq!(derived.digest_queue_url.as_deref(), Some(url.as_str()));
        let own_queue = format!("arn:aws:sqs:eu-west-1:111122223333:trailwatch-{id}-digests");
        assert!(derived
            .own
            .queues
            .iter()
            .any(|q| q.to_string() == own_queue));
        let named = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            (
                "DIGEST_QUEUE_URL",
                "http://127.0.0.1:5000/111122223333/digests",
            ),
        ])
        .unwrap();
        assert_eq!(
            named.digest_queue_url.as_deref(),
            Some("http://127.0.0.1:5000/111122223333/digests")
        );
        assert_eq!(
            config(&[("ALERT_TOPIC_ARN", TOPIC)])
                .unwrap()
                .digest_queue_url,
            None
        );
    }

    #[test]
    fn an_organizations_run_names_its_accounts_table_and_queue() {
        let id = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f";
        let base = [
            ("ALERT_TOPIC_ARN", TOPIC),
            ("OWN_ID", id),
            ("AWS_REGION", "eu-west-1"),
            ("DEDUP_TABLE", "trailwatch-events"),
        ];
        let with = |accounts: &str| {
            let mut vars = base.to_vec();
            vars.push(("POSTURE_ACCOUNTS", accounts));
            config(&vars)
        };
        let one = config(&base).unwrap();
        assert_eq!((one.posture.accounts, one.posture_queue_url), (None, None));
        let whole = with("organization").unwrap();
        assert_eq!(whole.posture.accounts, Some(AccountSource::Organization));
        let queue =
            format!("https://sqs.eu-west-1.amazonaws.com/111122223333/trailwatch-{id}-posture");
        assert_eq!(whole.posture_queue_url.as_deref(), Some(queue.as_str()));
        // The posture queue is one of trailwatch's own doors.
        let own = format!("arn:aws:sqs:eu-west-1:111122223333:trailwatch-{id}-posture");
        assert!(whole.own.queues.iter().any(|q| q.to_string() == own));
        assert_eq!(
            with(" 111122223333 , 444455556666,111122223333")
                .unwrap()
                .posture
                .accounts,
            Some(AccountSource::Listed(vec![
                "111122223333".into(),
                "444455556666".into()
            ]))
        );
        for bad in ["1111-2222-3333", "*", "111122223333;444455556666"] {
            let err = with(bad).unwrap_err();
            assert_eq!(err.variable, "POSTURE_ACCOUNTS", "{bad}");
        }
        // Without the table it records runs in, an organization's run cannot start.
        let err = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("OWN_ID", id),
            ("AWS_REGION", "eu-west-1"),
            ("POSTURE_ACCOUNTS", "organization"),
        ])
        .unwrap_err();
        assert!(err.problem.contains("DEDUP_TABLE"), "{err}");
    }

    #[test]
    fn the_member_role_takes_the_topic_partition() {
        let gov = config(&[
            (
                "ALERT_TOPIC_ARN",
                "arn:aws-us-gov:sns:us-gov-west-1:111122223333:alerts",
            ),
            ("MEMBER_ROLE_NAME", "trailwatch-read-x"),
        ])
        .unwrap();
        assert_eq!(
            gov.member_role,
            Some(MemberReadRole {
                name: "trailwatch-read-x".into(),
                partition: "aws-us-gov".into()
            })
        );
        assert_eq!(
            config(&[("ALERT_TOPIC_ARN", TOPIC)]).unwrap().member_role,
            None
        );
    }

    #[test]
    fn explicit_values() {
        let c = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("MIN_SEVERITY", "high"),
            ("ENRICH_TIMEOUT_MS", "0"),
        ])
        .unwrap();
        assert_eq!(c.min_severity, Severity::High);
        assert_eq!(c.enrich_timeout, Duration::ZERO);
        assert_eq!(c.home_account.as_deref(), Some("111122223333"));
    }

    #[test]
    fn account_names_are_checked_at_start() {
        let c = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("ACCOUNT_NAMES", r#"{"111122223333": "prod-payments"}"#),
        ])
        .unwrap();
        assert_eq!(c.account_names["111122223333"], "prod-payments");
        for bad in [
            "prod",
            r#"{"1111": "x"}"#,
            r#"{"111122223333": "<!channel>"}"#,
            r#"{"111122223333": ""}"#,
        ] {
            let err = config(&[("ALERT_TOPIC_ARN", TOPIC), ("ACCOUNT_NAMES", bad)]).unwrap_err();
            assert_eq!(err.variable, "ACCOUNT_NAMES", "{bad}");
        }
    }

    #[test]
    fn trusted_principals_are_checked_at_start() {
        let c = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            (
                "TRUSTED_PRINCIPALS",
                "arn:aws:iam::111122223333:role/deploy-*",
            ),
        ])
        .unwrap();
        assert!(!c.trusted.is_empty());
        let bad = config(&[("ALERT_TOPIC_ARN", TOPIC), ("TRUSTED_PRINCIPALS", "*")]).unwrap_err();
        assert_eq!(bad.variable, "TRUSTED_PRINCIPALS");
    }

    #[test]
    fn self_protection_and_posture_settings() {
        let c = config(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            (
                "HEALTH_TOPIC_ARN",
                "arn:aws:sns:us-east-1:111122223333:health",
            ),
            (
                "OWN_KEY_ARN",
                "arn:aws:kms:us-east-1:111122223333:key/abc-1",
            ),
            ("OWN_RULE_NAMES", "trailwatch-x,bus/trailwatch-x-central"),
            ("OWN_EVENT_BUS", "trailwatch-stack"),
            ("OWN_BUS_RULE_NAMES", "trailwatch-x-central-2"),
            ("AWS_LAMBDA_FUNCTION_NAME", "trailwatch-fn"),
            ("AUTO_RESTART_LOGGING", "true"),
            ("TRUSTED_ROOTS", "system"),
            ("POSTURE_REGIONS", "us-east-1, eu-west-1,us-east-1"),
            ("REMIND_AFTER_HOURS", "6"),
            ("OWN_ID", "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"),
            ("HEARTBEAT_WINDOW_MINUTES", "15"),
        ])
        .unwrap();
        assert_eq!(
            c.posture.heartbeat_window,
            Some(Duration::from_secs(15 * 60))
        );
        assert_eq!(
            c.own.id.as_deref(),
            Some("5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f")
        );
        assert_eq!(c.own.topics.len(), 2);
        assert_eq!(
            c.own.rules,
            [
                "default/trailwatch-x",
                "bus/trailwatch-x-central",
                "trailwatch-stack/trailwatch-x-central-2"
            ]
        );
        assert_eq!(c.own.function.as_deref(), Some("trailwatch-fn"));
        assert!(c.auto_restart);
        assert_eq!(c.trusted_roots, TrustedRoots::System);
        assert_eq!(c.posture.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(c.posture.remind_after, Duration::from_secs(6 * 3600));
        assert_eq!(c.posture.interval, Duration::from_secs(3600));

        let defaults =
            config(&[("ALERT_TOPIC_ARN", TOPIC), ("AWS_REGION", "eu-central-1")]).unwrap();
        assert!(!defaults.auto_restart, "self-healing is opt-in");
        assert_eq!(
            defaults.posture.heartbeat_window, None,
            "no heartbeat expected"
        );
        assert_eq!(defaults.trusted_roots, TrustedRoots::AmazonTrustServices);
        assert_eq!(defaults.posture.regions, ["eu-central-1"]);
        assert_eq!(
            defaults.posture.remind_after,
            Duration::from_secs(24 * 3600)
        );

        for (variable, bad) in [
            ("HEALTH_TOPIC_ARN", "health"),
            ("OWN_KEY_ARN", "arn:aws:sns:us-east-1:111122223333:x"),
            ("OWN_RULE_NAMES", "a b"),
            ("OWN_BUS_RULE_NAMES", "trailwatch-x-central"),
            ("AUTO_RESTART_LOGGING", "yes"),
            ("TRUSTED_ROOTS", "webpki"),
            ("POSTURE_REGIONS", "us-east-1;rm"),
            ("REMIND_AFTER_HOURS", "-1"),
            ("POSTURE_INTERVAL_MINUTES", "often"),
            ("OWN_ID", "*"),
            ("HEARTBEAT_WINDOW_MINUTES", "a while"),
            ("POSTURE_RECORDERS", "config=yes"),
            ("POSTURE_RECORDERS", "cloudtrail=true"),
            ("POSTURE_RECORDERS", "config"),
            ("OWN_ID", "abc/def"),
        ] {
            let err = config(&[("ALERT_TOPIC_ARN", TOPIC), (variable, bad)]).unwrap_err();
            assert_eq!(err.variable, variable, "{bad}");
        }
    }

    #[test]
    fn preview_needs_no_topic_but_reads_everything_else() {
        let vars: HashMap<&str, &str> = [("MIN_SEVERITY", "bogus")].into();
        let err = Config::for_preview(|name| vars.get(name).map(|v| v.to_string())).unwrap_err();
        assert_eq!(err.variable, "MIN_SEVERITY");
        let ok = Config::for_preview(|_| None).unwrap();
        assert_eq!(ok.topic_arn, "");
        assert_eq!(ok.home_account, None);
    }

    #[test]
    fn posture_recorders_turns_on_only_what_it_says_true() {
        let read = |text: &str| {
            let config =
                config(&[("ALERT_TOPIC_ARN", TOPIC), ("POSTURE_RECORDERS", text)]).unwrap();
            let posture = config.posture;
            (
                posture.check_config,
                posture.check_guardduty,
                posture.check_security_hub,
            )
        };
        assert_eq!(
            read("config=true,guardduty=false,securityhub=true"),
            (true, false, true)
        );
        assert_eq!(read(" guardduty = true "), (false, true, false));
        assert_eq!(read(""), (false, false, false));
        let unset = config(&[("ALERT_TOPIC_ARN", TOPIC)]).unwrap().posture;
        assert!(!unset.check_config && !unset.check_guardduty && !unset.check_security_hub);
    }
}
