//! A burst's digest: the calls of one principal folded into one alert ([`crate::burst`]).

use serde::Serialize;

use crate::severity::Severity;

/// What the digest says about the burst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestInfo {
    pub account: String,
    /// The principal, as the event named it.
    pub principal: String,
    /// Calls folded into this digest (the window's first alerts were published on their own).
    pub folded: u64,
    pub calls: Vec<CallCount>,
    pub severities: Vec<SeverityCount>,
    /// The resources named, at most [`crate::burst::MAX_LISTED_RESOURCES`].
    pub resources: Vec<String>,
    /// Folded calls whose resource is not listed.
    pub unlisted: u64,
    /// The first and last folded call, and the window they fell in.
    pub first_at: String,
    pub last_at: String,
    pub window_start: String,
    pub window_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCount {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: u64,
}
