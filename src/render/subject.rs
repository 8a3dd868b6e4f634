//! The SNS subject, used as the email subject line.
//!
//! SNS requires ASCII, no line breaks or control characters, a first character that is a
//! letter, digit or punctuation, and fewer than 100 characters; a subject that breaks any rule
//! fails the whole publish, so it is built to hold whatever the event contains. Names appear
//! only when they obey their kind's naming rules ([`Alert::resource_label`]).

use crate::alert::Alert;
use crate::render::escape::ascii_line;

pub const MAX_SUBJECT_CHARS: usize = 99;

pub fn subject(alert: &Alert) -> String {
    let text = format!(
        "[{}] {}: {} ({} {})",
        alert.severity,
        alert.title,
        alert.resource_label(),
        alert.account_label(),
        alert.region().unwrap_or("unknown region")
    );
    // Mail clients decode RFC 2047 encoded words (`=?UTF-8?B?...?=`) in subjects: an ASCII
    // subject could still show a forged "resolved" or a right-to-left override. No encoded word
    // can start without `=?`.
    // `?` is also what non-ASCII becomes, so this is done on the ASCII line, then cut again.
    let mut subject = ascii_line(&text, MAX_SUBJECT_CHARS).replace("=?", "=_?");
    if subject.len() > MAX_SUBJECT_CHARS {
        subject.truncate(MAX_SUBJECT_CHARS - 3);
        subject = format!("{}...", subject.trim_end());
    }
    subject
}
