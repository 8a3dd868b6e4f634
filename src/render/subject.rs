//! The SNS subject, used as the email subject line.
//!
//! SNS requires ASCII, no line breaks or control characters, a first character that is a
//! letter, digit or punctuation, and fewer than 100 characters; a subject that breaks any rule
//! fails the whole publish, so it is built to hold whatever the event contains. Names appear
//! only when they obey their kind's naming rules ([`Alert::resource_label`]), the account and
//! region only in AWS's shapes ([`Alert::headline_account`], [`Alert::headline_region`]).
//!
//! `[SEVERITY] title: resource (account region)`: when it is too long, the resource is
//! shortened first, then the title, so the account and region a responder routes by stay whole.

use crate::alert::Alert;
use crate::render::escape::ascii_line;

pub const MAX_SUBJECT_CHARS: usize = 99;

/// The fewest characters of the resource kept before the title is shortened too.
const MIN_RESOURCE_CHARS: usize = 12;

pub fn subject(alert: &Alert) -> String {
    const SEPARATOR: &str = ": ";
    let headline = part(&format!("[{}] {}", alert.severity, alert.title));
    let resource = part(alert.resource_label());
    let tail = format!(
        " {}",
        part(&format!(
            "({} {})",
            alert.account_label(),
            alert.headline_region().unwrap_or("unknown region")
        ))
    );
    let room = MAX_SUBJECT_CHARS.saturating_sub(tail.len() + SEPARATOR.len());
    let (headline, resource) = if headline.len() + resource.len() <= room {
        (headline, resource)
    } else {
        // The resource gives way first, down to a recognisable start, then the title.
        let resource = shortened(
            &resource,
            room.saturating_sub(headline.len()).max(MIN_RESOURCE_CHARS),
        );
        (
            shortened(&headline, room.saturating_sub(resource.len())),
            resource,
        )
    };
    let mut subject = format!("{headline}{SEPARATOR}{resource}{tail}");
    // Only an absurdly long account name could still overflow: cut at the limit.
    if subject.len() > MAX_SUBJECT_CHARS {
        subject.truncate(MAX_SUBJECT_CHARS - 3);
        subject = format!("{}...", subject.trim_end());
    }
    subject
}

/// One part of the subject, each on its own: printable ASCII, folded, at most the limit.
///
/// Mail clients decode RFC 2047 encoded words (`=?UTF-8?B?...?=`) in subjects: an ASCII
/// subject could still show a forged "resolved" or a right-to-left override. No encoded word can
/// start without `=?`; parts are joined at `: `, ` (` and `...`, so none can start one across a
/// join. `?` is also what non-ASCII becomes, so this is done on the ASCII line.
fn part(text: &str) -> String {
    ascii_line(text, MAX_SUBJECT_CHARS).replace("=?", "=_?")
}

/// `text` cut to `room` characters with `...` (ASCII: bytes are characters), at a word's end
/// when one is near.
fn shortened(text: &str, room: usize) -> String {
    if text.len() <= room {
        return text.to_string();
    }
    let keep = room.saturating_sub(3);
    let keep = match text[..keep].rfind(' ') {
        Some(space) if keep - space <= 12 => space,
        _ => keep,
    };
    let mut cut = text[..keep].trim_end().to_string();
    // A cut that leaves `=` at the end could meet a `?` of the next part.
    while cut.ends_with('=') {
        cut.pop();
    }
    format!("{cut}...")
}
