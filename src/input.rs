//! Input: the raw invocation payload, made parseable before anything else reads it.
//!
//! The Lambda runtime parses the payload with serde_json before the handler runs, and a payload
//! serde_json refuses never reaches the handler: no alert, no reasoned error, just a dead letter.
//! Much of a CloudTrail event is written by the caller, so trailwatch takes the bytes first
//! ([`SanitizingLayer`]) and decides itself what to do with each kind of damage:
//!
//! | damage | what happens |
//! |---|---|
//! | bytes that are not UTF-8 | replaced with U+FFFD, noted |
//! | a lone surrogate escape (`\ud800`) | replaced with `\ufffd`, noted |
//! | nesting deeper than [`MAX_DEPTH`] | that value replaced with a short string, noted |
//! | not JSON at all | handed on as a marker the parser turns into `InvalidEvent` |
//!
//! Notes travel to the parser under [`NOTES_KEY`], and from there into the alert's
//! `inputProblems`, so a monitored call with an unreadable part is published with what could be
//! read and says what could not.

use std::task::{Context, Poll};

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::LambdaInvocation;
use serde_json::{Map, Value};

/// Deepest nesting kept. CloudTrail records nest a dozen levels at most; serde_json's own limit
/// (128) must never be reached after cleaning.
pub const MAX_DEPTH: usize = 64;

/// Where the cleaning notes ride in the cleaned payload; no AWS envelope has this key.
pub const NOTES_KEY: &str = "trailwatch:inputProblems";
/// The payload that replaces input that is not JSON, with the parser's reason.
pub const UNREADABLE_KEY: &str = "trailwatch:unreadableInput";

const REMOVED_TOO_DEEP: &str = "[removed: nested deeper than 64 levels]";

/// Returns JSON bytes that serde_json accepts whatever `body` was: `body` itself when it needs
/// no cleaning (the common case costs one validating pass and no copy).
pub fn prepare(body: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(body);
    let mut notes = Vec::new();
    if let std::borrow::Cow::Owned(_) = text {
        notes.push("bytes that are not UTF-8 were replaced with U+FFFD".to_string());
    }
    // The scan copies the whole payload; most payloads cannot need it (see `may_need_repair`).
    let scan = if may_need_repair(text.as_bytes()) {
        scan(&text)
    } else {
        Scan {
            text: None,
            lone_surrogates: 0,
            removed_too_deep: 0,
        }
    };
    if scan.lone_surrogates > 0 {
        notes.push(format!(
            "{} invalid \\u escape{} (lone surrogates) replaced with U+FFFD",
            scan.lone_surrogates,
            if scan.lone_surrogates == 1 { "" } else { "s" }
        ));
    }
    if scan.removed_too_deep > 0 {
        notes.push(format!(
            "{} value{} nested deeper than {MAX_DEPTH} levels left out",
            scan.removed_too_deep,
            if scan.removed_too_deep == 1 { "" } else { "s" }
        ));
    }
    if notes.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return None;
    }
    let mut value: Value = match serde_json::from_str(scan.text.as_deref().unwrap_or(&text)) {
        Ok(value) => value,
        Err(error) => {
            let mut marker = Map::new();
            marker.insert(
                UNREADABLE_KEY.to_string(),
                Value::from(format!("the payload is not JSON: {error}")),
            );
            Value::Object(marker)
        }
    };
    if let (Value::Object(object), false) = (&mut value, notes.is_empty()) {
        object.insert(NOTES_KEY.to_string(), Value::from(notes));
    }
    serde_json::to_vec(&value).ok()
}

struct Scan {
    /// The repaired payload; `None` when it was not scanned, having nothing to repair.
    text: Option<String>,
    lone_surrogates: usize,
    removed_too_deep: usize,
}

/// Whether [`scan`] could change anything: only a payload with a `\u` escape in the surrogate
/// range (`\uD800`–`\uDFFF`), or with more opening brackets in all than [`MAX_DEPTH`], can hold a
/// lone surrogate or nest too deep. Conservative: brackets inside strings count too.
fn may_need_repair(bytes: &[u8]) -> bool {
    // One pass over the payload: it is on every invocation's path.
    let mut brackets = 0;
    for (index, byte) in bytes.iter().enumerate() {
        match byte {
            b'{' | b'[' => {
                brackets += 1;
                if brackets > MAX_DEPTH {
                    return true;
                }
            }
            b'\\' if matches!(bytes.get(index + 1..index + 3), Some([b'u', b'd' | b'D'])) => {
                return true
            }
            _ => {}
        }
    }
    false
}

/// One pass over JSON text: lone surrogate escapes become `\ufffd`, and any value opened deeper
/// than [`MAX_DEPTH`] is replaced by a string. Text that is not JSON passes through for
/// serde_json to judge.
fn scan(text: &str) -> Scan {
    let mut out = String::with_capacity(text.len());
    let mut lone_surrogates = 0;
    let mut removed_too_deep = 0;
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                lone_surrogates += copy_string(&mut chars, &mut out);
            }
            '{' | '[' if depth >= MAX_DEPTH => {
                skip_value(&mut chars);
                removed_too_deep += 1;
                out.push('"');
                out.push_str(REMOVED_TOO_DEEP);
                out.push('"');
            }
            '{' | '[' => {
                depth += 1;
                out.push(c);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Scan {
        text: Some(out),
        lone_surrogates,
        removed_too_deep,
    }
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Copies the rest of a string (after its opening quote), fixing lone surrogate escapes;
/// returns how many it fixed.
fn copy_string(chars: &mut Chars<'_>, out: &mut String) -> usize {
    let mut fixed = 0;
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                return fixed;
            }
            '\\' => match chars.next() {
                Some((_, 'u')) => {
                    let unit = hex4(chars);
                    match unit {
                        Some(high @ 0xD800..=0xDBFF) => {
                            // Keep the pair only when a low surrogate escape follows.
                            let mut lookahead = chars.clone();
                            let low = match (lookahead.next(), lookahead.next()) {
                                (Some((_, '\\')), Some((_, 'u'))) => hex4(&mut lookahead),
                                _ => None,
                            };
                            match low {
                                Some(low @ 0xDC00..=0xDFFF) => {
                                    *chars = lookahead;
                                    out.push_str(&format!("\\u{high:04x}\\u{low:04x}"));
                                }
                                _ => {
                                    out.push_str("\\ufffd");
                                    fixed += 1;
                                }
                            }
                        }
                        Some(0xDC00..=0xDFFF) => {
                            out.push_str("\\ufffd");
                            fixed += 1;
                        }
                        Some(unit) => out.push_str(&format!("\\u{unit:04x}")),
                        // Not four hex digits: invalid JSON, left for serde_json to reject.
                        None => out.push_str("\\u"),
                    }
                }
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    fixed
}

fn hex4(chars: &mut Chars<'_>) -> Option<u32> {
    let mut lookahead = chars.clone();
    let mut unit = 0;
    for _ in 0..4 {
        let (_, c) = lookahead.next()?;
        unit = unit * 16 + c.to_digit(16)?;
    }
    *chars = lookahead;
    Some(unit)
}

/// Skips a whole object or array whose opening bracket was just read.
fn skip_value(chars: &mut Chars<'_>) {
    let mut depth = 1usize;
    let mut ignored = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                ignored.clear();
                copy_string(chars, &mut ignored);
            }
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Cleans each invocation's payload before the runtime deserialises it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SanitizingLayer;

impl<S> Layer<S> for SanitizingLayer {
    type Service = SanitizingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SanitizingService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct SanitizingService<S> {
    inner: S,
}

impl<S> Service<LambdaInvocation> for SanitizingService<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        if let Some(cleaned) = prepare(&invocation.body) {
            invocation.body = cleaned.into();
        }
        self.inner.call(invocation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(body: &[u8]) -> Value {
        match prepare(body) {
            Some(bytes) => serde_json::from_slice(&bytes).expect("cleaned input is JSON"),
            None => serde_json::from_slice(body).expect("untouched input was JSON"),
        }
    }

    #[test]
    fn clean_input_passes_untouched() {
        assert_eq!(prepare(br#"{"a":"\ud83d\ude00","b":[1,{"c":null}]}"#), None);
    }

    #[test]
    fn only_payloads_that_could_need_repair_are_scanned() {
        assert!(!may_need_repair(br#"{"a":"\u00e9","b":[1,{"c":null}]}"#));
        assert!(may_need_repair(br#"{"a":"\uD800"}"#));
        assert!(may_need_repair(br#"{"a":"\udfff"}"#));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(may_need_repair(deep.as_bytes()));
        // An upper-case lone surrogate is repaired too, not skipped.
        let value = cleaned(br#"{"x":"\uDBFF"}"#);
        assert_eq!(value["x"], "\u{fffd}");
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_and_are_noted() {
        let value = cleaned(br#"{"x":"a\ud800b","y":"\udc00","z":"\ud83d\ude00"}"#);
        assert_eq!(value["x"], "a\u{fffd}b");
        assert_eq!(value["y"], "\u{fffd}");
        assert_eq!(value["z"], "\u{1f600}");
        assert!(value[NOTES_KEY][0].as_str().unwrap().contains("2 invalid"));
    }

    #[test]
    fn deep_nesting_is_cut_at_the_limit() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(500), "]".repeat(500));
        let value = cleaned(deep.as_bytes());
        let mut node = &value["a"];
        let mut levels = 1;
        while let Some(inner) = node.get(0) {
            node = inner;
            levels += 1;
        }
        assert_eq!(node, REMOVED_TOO_DEEP);
        assert_eq!(levels, MAX_DEPTH);
        assert!(value[NOTES_KEY][0]
            .as_str()
            .unwrap()
            .contains("nested deeper"));
    }

    #[test]
    fn brackets_and_escapes_inside_strings_do_not_count() {
        let text = format!("{{\"a\":\"{}\\\"\",\"b\":1}}", "[{".repeat(200));
        assert_eq!(prepare(text.as_bytes()), None);
    }

    #[test]
    fn invalid_utf8_and_non_json_are_handled() {
        let value = cleaned(b"{\"ua\":\"a\xff\xfeb\"}");
        assert_eq!(value["ua"], "a\u{fffd}\u{fffd}b");
        assert!(value[NOTES_KEY][0].as_str().unwrap().contains("UTF-8"));
        let garbage = cleaned(b"this is not JSON");
        assert!(garbage[UNREADABLE_KEY]
            .as_str()
            .unwrap()
            .starts_with("the payload is not JSON"));
        assert!(cleaned(b"").get(UNREADABLE_KEY).is_some());
    }
}
