//! trailwatch: real-time alerts when someone stops, deletes or weakens CloudTrail logging.
//!
//! # Layout
//!
//! The pipeline, one module a step: [`input`] (the raw payload, made parseable) → [`parse`] → [`classify`] → [`enrich`] → [`render`] →
//! [`publish`], joined by [`handler`]. What a monitored call *means* lives in [`monitors`]: one
//! module per watched service (trails, CloudTrail Lake, and a trail's bucket, key and log
//! group), each with its policy rows, resource lookup, weakening checks and next steps, behind
//! one registry that the pipeline, the EventBridge pattern and the README table all iterate.
//!
//! Domain types: [`call`] (what happened), [`resource`] (what it was about, and its state now),
//! [`arn`], [`alert`] (the versioned document subscribers get), [`severity`], [`coverage`] (is
//! the account still recorded?), [`trust`] (trusted principals) and [`links`]. [`inspector`] is
//! the narrow trait the lookups go through; [`aws`] holds the only code that talks to AWS.
//!
//! # Errors
//!
//! Only two things end an invocation with an error: input that is not an EventBridge event
//! ([`parse::InvalidEvent`]) and a publish that failed ([`publish::PublishError`]); both map to
//! Lambda error types in [`handler::HandlerError`] so Lambda's retries and on-failure
//! destination keep the event. Everything else (a lookup that failed, a field that could not be
//! read) is written into the alert, because an alert that says what it could not learn beats
//! no alert.

pub mod actor;
pub mod alert;
pub mod arn;
pub mod assemble;
pub mod aws;
pub mod call;
pub mod classify;
pub mod client;
pub mod config;
pub mod coverage;
pub mod enrichment;
pub mod event_path;
pub mod handler;
pub mod input;
pub mod inspector;
pub mod invocation;
pub mod links;
pub mod lookup;
pub mod monitors;
pub mod own;
pub mod parse;
pub mod posture;
pub mod preview;
pub mod publish;
pub mod render;
pub mod resource;
pub mod restart;
pub mod severity;
pub mod trust;
