//! trailwatch: real-time alerts when someone stops, deletes or weakens CloudTrail logging.
//!
//! # Layout
//!
//! An invocation enters at [`handler`], which routes a CloudTrail-recorded call to the event
//! path ([`event_path`]) and the posture schedule to the posture run ([`posture`]). The event
//! path reads as its steps: find the monitor → judge → look up → judge with the state →
//! assemble → publish. What a monitored call *means* lives in [`monitors`]: one module per
//! watched service (trails, CloudTrail Lake, a trail's bucket, key and log group, AWS Config, and
//! trailwatch's own rules, topics and function), each with its policy rows, resource lookup,
//! weakening checks and next steps, behind one registry that the pipeline, the EventBridge
//! pattern and the policy table in docs/alerts.md all iterate.
//!
//! # Layers
//!
//! The modules are stacked in layers, and imports run one way: a module uses modules of its own
//! layer or of a layer below it, never above, and no module reaches a module that reaches it
//! back. Read the crate from the bottom up and every module is explained by what is under it.
//! `tests/layers.rs` reads the table below and fails on any `use` or inline path that breaks
//! it, and on any circle; a module that is not in the table (a submodule takes its parent's
//! row unless it has its own) fails it too.
//!
//! | layer | what lives there | modules |
//! |---|---|---|
//! | 1 data | what things are: the call, the resource and its state, the coverage verdict, the alert document and its parts, what may go into a command, the settings | [`arn`], [`shape`], [`prose`], [`severity`], [`call`], [`client`], [`resource`], [`coverage`], [`enrichment`], [`links`], [`own`], [`trust`], [`config`], [`alert`], [`command`] |
//! | 2 wire | the edges: the payload read into a call, the alert written for SNS, and the narrow traits to AWS with the lookups' plumbing (one deadline, bounded concurrency) | [`input`], [`parse`], [`render`], [`publish`], [`metrics`], [`inspector`], [`recorders`], [`buckets`], [`members`], [`dedup`], [`burst`], [`organization`], [`hub`], [`plumbing`], [`lookup`] |
//! | 3 judgement | what a call or a trail's state means: the monitors, the policy and its modifiers, self-healing's decision, the posture findings | [`monitors`], [`classify`], [`actor`], [`restart`], [`heartbeat`], [`posture::gather`], [`posture::judge`], [`posture::drift`], [`posture::heartbeats`], [`posture::remind`], [`posture::recorders`] |
//! | 4 assembly | one alert document from a judged call, a posture run or a burst, and the Security Hub findings an alert imports | [`assemble`], [`posture::report`], [`digest`], [`asff`] |
//! | 5 invocation | what the entry points share: their dependencies, the invocation, the answer, and an alert's findings imported into Security Hub | [`invocation`], [`import`] |
//! | 6 paths | the event path, the posture run (an organization's spread over the posture queue) and the digest path | [`event_path`], [`posture`], [`digest_path`] |
//! | 7 entry | the handler, preview, the adapters that talk to AWS and the log subscriber (`main.rs` wires them) | [`handler`], [`preview`], [`aws`], [`logging`] |
//!
//! # Errors
//!
//! Only three things end an invocation with an error: input that is not an EventBridge event
//! ([`parse::InvalidEvent`]), a publish that failed ([`publish::PublishError`]), and an event
//! another invocation is publishing at that moment ([`dedup`]: whether that publish lands is
//! not known yet). All map to Lambda error types in [`invocation::HandlerError`] so Lambda's
//! retries and on-failure destination keep the event. Everything else (a lookup that failed, a field that could not be
//! read) is written into the alert, because an alert that says what it could not learn beats
//! no alert.

pub mod actor;
pub mod alert;
pub mod arn;
pub mod asff;
pub mod assemble;
pub mod aws;
pub mod buckets;
pub mod burst;
pub mod call;
pub mod classify;
pub mod client;
pub mod command;
pub mod config;
pub mod coverage;
pub mod dedup;
pub mod digest;
pub mod digest_path;
pub mod enrichment;
pub mod event_path;
pub mod handler;
pub mod heartbeat;
pub mod hub;
pub mod import;
pub mod input;
pub mod inspector;
pub mod invocation;
pub mod links;
pub mod logging;
pub mod lookup;
pub mod members;
pub mod metrics;
pub mod monitors;
pub mod organization;
pub mod own;
pub mod parse;
pub mod plumbing;
pub mod posture;
pub mod preview;
pub mod prose;
pub mod publish;
pub mod recorders;
pub mod render;
pub mod resource;
pub mod restart;
pub mod severity;
pub mod shape;
pub mod trust;
