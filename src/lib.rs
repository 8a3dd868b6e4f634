//! trailwatch: real-time alerts when someone stops, deletes or weakens CloudTrail logging.
//!
//! The pipeline, one module a step: [`parse`] → [`classify`] → [`enrich`] → [`render`] →
//! [`publish`], joined by [`handler`]. [`call`], [`alert`], [`severity`] and [`links`] are the
//! domain types; [`aws`] holds the only code that talks to AWS.

pub mod alert;
pub mod aws;
pub mod call;
pub mod classify;
pub mod config;
pub mod enrich;
pub mod handler;
pub mod links;
pub mod parse;
pub mod preview;
pub mod publish;
pub mod render;
pub mod severity;
