//! Making attacker-controlled text safe for each medium.
//!
//! Trail names, user agents, ARNs and error messages are chosen by whoever made the call. Each
//! function here removes what could break a medium or forge content in it: line breaks that fake
//! email lines, bidirectional overrides that reorder what a reader sees, markdown that forges
//! links or mentions in chat.

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Characters a reader does not see but software does: Unicode's default-ignorable code points
/// (zero-width and bidirectional controls, tag characters, the soft hyphen, variation selectors,
/// fillers) and the general categories format (Cf), private use (Co), unassigned (Cn) and
/// surrogate (Cs). Decided from ICU's Unicode data, not a list of our own.
pub fn is_invisible(c: char) -> bool {
    // ASCII holds none of them (its controls are Cc, handled as blanks): most text never needs
    // the Unicode tables.
    !c.is_ascii()
        && (matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::Format
                | GeneralCategory::PrivateUse
                | GeneralCategory::Unassigned
                | GeneralCategory::Surrogate
        ) || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c))
}

/// Marks that draw on the character before them; a few in a row are real writing, hundreds are
/// an attack on the layout ("Zalgo" text).
fn is_combining(c: char) -> bool {
    !c.is_ascii()
        && matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
        )
}

/// Combining marks kept in a row.
const MAX_COMBINING_RUN: usize = 2;

/// Shown where invisible characters were: the reader sees that something is there (a trail
/// named `manage\u{ad}ment-events` must not look like `management-events`).
pub const INVISIBLE_SHOWN_AS: char = '\u{FFFD}';

/// Characters that show as empty space: whitespace, controls, and line and paragraph separators.
fn is_blank(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_whitespace() || c.is_ascii_control();
    }
    c.is_whitespace()
        || c.is_control()
        || matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::SpaceSeparator
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// One line of plain text: controls, line separators and runs of blank characters become one
/// space, each run of invisible characters becomes one U+FFFD, combining marks are kept at most
/// two in a row, and the result is cut to `max_chars` with an ellipsis.
pub fn single_line(text: &str, max_chars: usize) -> String {
    // Most text is short printable ASCII with single spaces: nothing to change.
    if text.len() < max_chars
        && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !text.contains("  ")
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut count = 0;
    let mut previous: Option<char> = None;
    let mut combining_run = 0;
    let mut chars = text
        .chars()
        .map(|c| {
            if is_blank(c) {
                ' '
            } else if is_invisible(c) {
                INVISIBLE_SHOWN_AS
            } else {
                c
            }
        })
        .filter(move |c| {
            // A run of blanks is one space, so padding cannot push text onto what looks like a
            // line of its own; a run of invisibles is one mark.
            let repeat = matches!(*c, ' ' | INVISIBLE_SHOWN_AS) && previous == Some(*c);
            previous = Some(*c);
            if is_combining(*c) {
                combining_run += 1;
                return !repeat && combining_run <= MAX_COMBINING_RUN;
            }
            combining_run = 0;
            !repeat
        })
        .peekable();
    while let Some(c) = chars.next() {
        if count + 1 == max_chars && chars.peek().is_some() {
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Printable ASCII only (anything else becomes `?`, a run of invisibles one `?`), whitespace
/// folded, at most `max_chars`.
pub fn ascii_line(text: &str, max_chars: usize) -> String {
    let mapped: String = single_line(text, usize::MAX)
        .chars()
        .map(|c| match c {
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    let folded = mapped.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.len() <= max_chars {
        folded
    } else {
        let mut cut = folded[..max_chars.saturating_sub(3)].trim_end().to_string();
        cut.push_str("...");
        cut
    }
}

/// Printable ASCII for chat metadata (thread ids, summaries, keywords): [`ascii_line`], with the
/// characters of Slack entities, markdown links and mentions replaced by `?` and URL schemes
/// broken, so nothing in it can become a link or a mention.
pub fn chat_ascii(text: &str, max_chars: usize) -> String {
    if is_plain_chat_ascii(text, max_chars) {
        return text.to_string();
    }
    chat_ascii_rewritten(text, max_chars)
}

fn chat_ascii_rewritten(text: &str, max_chars: usize) -> String {
    ascii_line(text, max_chars)
        .chars()
        .map(|c| match c {
            // `#` too: a value that begins with one would be a heading.
            '<' | '>' | '|' | '`' | '*' | '~' | '\\' | '@' | '!' | '#' => '?',
            other => other,
        })
        .collect::<String>()
        .replace("](", "] (")
        .replace("://", "[:]//")
}

/// Text [`chat_ascii`] returns unchanged, told without its copies: short printable ASCII,
/// single-spaced and trimmed, with none of the characters or sequences it replaces. Most ids,
/// names and event names are this.
fn is_plain_chat_ascii(text: &str, max_chars: usize) -> bool {
    text.len() <= max_chars
        && text
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && !b"<>|`*~\\@!#".contains(&b))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text.contains("](")
        && !text.contains("://")
}

/// Text for a plain-text email value: one line, and links made inert (see [`defang_links`]).
pub fn email_value(text: &str, max_chars: usize) -> String {
    defang_links(single_line(text, max_chars))
}

/// Makes what a mail or chat client would turn into a link inert, visibly, the way security
/// teams defang indicators: `://` becomes `[:]//`, the dot of a domain-like word `[.]`, and an
/// `@` before a name `[@]` (a mailto link, or a mention).
pub fn defang_links(line: String) -> String {
    let bytes = line.as_bytes();
    // The three characters are ASCII, so a byte scan finds them; most lines have none to change
    // and are handed back as they are.
    let replacement_at = |index: usize| {
        let rest = &line[index + 1..];
        let next = rest.chars().next();
        let previous = line[..index].chars().next_back();
        match bytes[index] {
            b':' if rest.starts_with("//") => Some("[:]"),
            b'.' if previous.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphabetic) =>
            {
                Some("[.]")
            }
            b'@' if next.is_some_and(char::is_alphanumeric) => Some("[@]"),
            _ => None,
        }
    };
    let mut found = (0..bytes.len())
        .filter(|&index| matches!(bytes[index], b':' | b'.' | b'@'))
        .filter_map(|index| replacement_at(index).map(|replacement| (index, replacement)))
        .peekable();
    if found.peek().is_none() {
        return line;
    }
    let mut out = String::with_capacity(line.len() + 16);
    let mut copied = 0;
    for (index, replacement) in found {
        out.push_str(&line[copied..index]);
        out.push_str(replacement);
        copied = index + 1;
    }
    out.push_str(&line[copied..]);
    out
}

/// Text for chat markdown prose: one line, links defanged ([`defang_links`]), and the
/// characters that make links, mentions, code or emphasis replaced by look-alikes that render as
/// themselves.
pub fn chat_text(text: &str, max_chars: usize) -> String {
    const FORMATTING: [char; 11] = ['`', '<', '>', '[', ']', '*', '~', '|', '\\', '_', '#'];
    let line = defang_links(single_line(text, max_chars));
    if !line.contains(FORMATTING) {
        return line;
    }
    line.chars()
        .map(|c| match c {
            '`' => 'ˋ',
            '<' => '‹',
            '>' => '›',
            '[' => '⁅',
            ']' => '⁆',
            '*' => '∗',
            '~' => '∼',
            '|' => 'ǀ',
            '\\' => '⧵',
            '_' => 'ˍ',
            '#' => '＃',
            other => other,
        })
        .collect()
}

/// A value shown verbatim in chat, as inline code: nothing inside a code span is formatted, so
/// identifiers, names and commands stay exactly as they are for copying. Only what could end the
/// span (a backtick), Slack's entity brackets (`<!channel>`), a URL scheme and the broadcast
/// mentions are replaced, visibly.
pub fn chat_code(text: &str, max_chars: usize) -> String {
    let mut inner = single_line(text, max_chars);
    if inner.contains(['`', '<', '>']) {
        inner = inner
            .chars()
            .map(|c| match c {
                '`' => 'ˋ',
                '<' => '‹',
                '>' => '›',
                other => other,
            })
            .collect();
    }
    // `str::replace` always copies: only when there is something to replace.
    for (pattern, replacement) in [
        ("://", "[:]//"),
        ("](", "] ("),
        ("@here", "＠here"),
        ("@channel", "＠channel"),
        ("@everyone", "＠everyone"),
    ] {
        if inner.contains(pattern) {
            inner = inner.replace(pattern, replacement);
        }
    }
    if inner.trim().is_empty() {
        "`-`".to_string()
    } else {
        format!("`{inner}`")
    }
}

/// Prose with identifiers in backticks (as [`crate::alert::code`] writes them): the prose as
/// [`chat_text`], each identifier as [`chat_code`].
pub fn chat_prose_with_code(text: &str, max_chars: usize) -> String {
    let line = single_line(text, max_chars);
    line.split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                chat_code(part, max_chars)
            } else {
                chat_text(part, max_chars)
            }
        })
        .collect()
}

/// Text from an event, for a log field: control characters escaped so a value cannot start a
/// new log line, no quotes added, absent values shown as `-`.
pub struct LogText<'a>(pub Option<&'a str>);

impl std::fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some(text) => {
                for c in text.chars() {
                    if c.is_control() || is_invisible(c) || (is_blank(c) && c != ' ') {
                        write!(f, "{}", c.escape_unicode())?;
                    } else {
                        f.write_fmt(format_args!("{c}"))?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_mail_addresses_and_domains_are_defanged() {
        for (text, defanged) in [
            ("https://evil.example/x", "https[:]//evil[.]example/x"),
            ("aws-cli/2.22.4 Python/3.12", "aws-cli/2.22.4 Python/3.12"),
            ("mail bob@example.com", "mail bob[@]example[.]com"),
            ("@ here, a:/b, end.", "@ here, a:/b, end."),
            ("café.example", "café[.]example"),
            ("x.é", "x[.]é"),
            ("", ""),
        ] {
            assert_eq!(defang_links(text.to_string()), defanged, "{text:?}");
        }
    }

    #[test]
    fn chat_metadata_cannot_start_a_heading() {
        // Found by tests/properties.rs: an account name or event name beginning with `#`.
        assert_eq!(
            chat_ascii("# heading bob@example.com", 64),
            "? heading bob?example.com"
        );
        assert_eq!(chat_ascii("#", 64), "?");
    }

    proptest::proptest! {
        /// The shortcut is only taken where the full rewrite would change nothing.
        #[test]
        fn plain_chat_ascii_is_what_the_rewrite_leaves_alone(
            text in "[ -~]{0,40}|[a-z0-9:/.\\-]{0,40}",
            max_chars in 1usize..48,
        ) {
            if is_plain_chat_ascii(&text, max_chars) {
                proptest::prop_assert_eq!(chat_ascii_rewritten(&text, max_chars), text);
            }
        }
    }

    #[test]
    fn the_ascii_shortcuts_agree_with_the_unicode_tables() {
        for c in (0u8..=127).map(char::from) {
            let category = CodePointMapData::<GeneralCategory>::new().get(c);
            let invisible = matches!(
                category,
                GeneralCategory::Format
                    | GeneralCategory::PrivateUse
                    | GeneralCategory::Unassigned
                    | GeneralCategory::Surrogate
            ) || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c);
            assert_eq!(is_invisible(c), invisible, "{c:?}");
            let combining = matches!(
                category,
                GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
            );
            assert_eq!(is_combining(c), combining, "{c:?}");
            let blank = c.is_whitespace()
                || c.is_control()
                || matches!(
                    category,
                    GeneralCategory::SpaceSeparator
                        | GeneralCategory::LineSeparator
                        | GeneralCategory::ParagraphSeparator
                );
            assert_eq!(is_blank(c), blank, "{c:?}");
        }
    }

    #[test]
    fn single_line_removes_breaks_and_bidi_controls() {
        assert_eq!(
            single_line("a\r\nSubject: x\u{2028}y", 100),
            "a Subject: x y"
        );
        assert_eq!(
            single_line("evil\u{202E}txt.exe", 100),
            "evil\u{FFFD}txt.exe"
        );
        assert_eq!(single_line("abcdef", 4), "abc…");
        assert_eq!(single_line("abcd", 4), "abcd");
        let padded = format!(
            "ua{}Source IP   10.0.0.1\u{3164}\u{3164}x",
            " \u{a0}\u{2003}".repeat(50)
        );
        assert_eq!(
            single_line(&padded, 100),
            "ua Source IP 10.0.0.1\u{FFFD}x",
            "fillers are default-ignorable: shown as one mark, not as the blank they draw"
        );
    }

    #[test]
    fn ascii_line_is_printable_ascii_within_limit() {
        let line = ascii_line("trail\u{7}\nnamé \u{1F600}", 100);
        assert_eq!(line, "trail nam? ?");
        assert_eq!(ascii_line("manage\u{ad}ment", 100), "manage?ment");
        let long = ascii_line(&"x".repeat(500), 99);
        assert_eq!(long.len(), 99);
        assert!(long.ends_with("..."));
    }

    #[test]
    fn chat_text_neutralises_links_and_mentions() {
        let hostile = "[click](https://evil.example) <!channel> @here *bold* `code`";
        let safe = chat_text(hostile, 500);
        for forbidden in ["[", "](", "<!", "`", "*", "://"] {
            assert!(!safe.contains(forbidden), "{forbidden} survived in {safe}");
        }
        assert!(!safe.contains("@here"));
        let domain = chat_text("www.evil-login.example _em_", 100);
        assert!(
            !domain.contains("www.evil") && !domain.contains('_'),
            "{domain}"
        );
    }

    #[test]
    fn invisible_characters_are_found_by_their_unicode_properties() {
        for c in [
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{AD}',
            '\u{180E}',
            '\u{34F}',
            '\u{17B4}',
            '\u{17B5}',
            '\u{206A}',
            '\u{206F}',
            '\u{FFF9}',
            '\u{FFFB}',
            '\u{1D173}',
            '\u{1D17A}',
            '\u{200B}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{E000}',
            '\u{10FFFD}',
            '\u{3164}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '木', '🎃', '-', ' ', '\u{301}'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
        let hidden = format!("ok{}", ('\u{E0020}'..='\u{E007E}').collect::<String>());
        assert_eq!(single_line(&hidden, 1000), "ok\u{FFFD}");
    }

    #[test]
    fn stacked_combining_marks_are_cut_to_two() {
        let zalgo = format!("a{}b", "\u{301}".repeat(500));
        assert_eq!(single_line(&zalgo, 1000), "a\u{301}\u{301}b");
    }

    #[test]
    fn email_values_cannot_become_links() {
        let shown = email_value(
            "see https://evil.example/login or www.evil.example, bob@evil.example",
            200,
        );
        assert!(
            !shown.contains("://") && !shown.contains("evil.example") && !shown.contains("b@e")
        );
        assert_eq!(email_value("aws-cli/2.22.4", 100), "aws-cli/2.22.4");
    }

    #[test]
    fn log_text_cannot_break_a_line() {
        let shown = LogText(Some("a\nERROR forged\r\u{202E}")).to_string();
        assert_eq!(shown, "a\\u{a}ERROR forged\\u{d}\\u{202e}");
        assert_eq!(LogText(None).to_string(), "-");
    }

    #[test]
    fn chat_code_cannot_be_closed_early() {
        let safe = chat_code("x` [link](https://e) `y", 100);
        assert_eq!(safe.matches('`').count(), 2);
        assert!(safe.starts_with('`') && safe.ends_with('`'));
        assert!(!safe.contains("://"));
        assert_eq!(chat_code("", 10), "`-`");
    }
}
