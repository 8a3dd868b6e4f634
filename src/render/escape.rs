//! Making attacker-controlled text safe for each medium.
//!
//! Trail names, user agents, ARNs and error messages are chosen by whoever made the call. Each
//! function here removes what could break a medium or forge content in it: line breaks that fake
//! email lines, bidirectional overrides that reorder what a reader sees, markdown that forges
//! links or mentions in chat.

/// Characters that change how text is displayed without being visible: bidirectional controls
/// and zero-width characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' |
        '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Characters that show as empty space: whitespace of every kind, controls, line separators,
/// and the "filler" letters that render blank.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
        )
}

/// One line of plain text: control characters, line separators and runs of blank characters
/// become one space, invisible formatting characters are dropped, and the result is cut to
/// `max_chars` with an ellipsis.
pub fn single_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0;
    let mut previous_blank = false;
    let mut chars = text
        .chars()
        .filter(|c| !is_invisible_format(*c))
        .map(|c| if is_blank(c) { ' ' } else { c })
        // A run of blanks is one space, so padding cannot push text onto what looks like a
        // line of its own.
        .filter(move |c| {
            let keep = !(*c == ' ' && previous_blank);
            previous_blank = *c == ' ';
            keep
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

/// Printable ASCII only (anything else becomes `?`), whitespace folded, at most `max_chars`.
pub fn ascii_line(text: &str, max_chars: usize) -> String {
    let mapped: String = text
        .chars()
        .filter(|c| !is_invisible_format(*c))
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_whitespace() || c.is_control() => ' ',
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

/// Text for chat markdown prose: one line, with the characters that make links, mentions,
/// code or emphasis replaced by look-alikes that render as themselves, and URLs and mentions
/// defanged so chat clients do not act on them.
pub fn chat_text(text: &str, max_chars: usize) -> String {
    defang(&single_line(text, max_chars), true, |c| match c {
        '`' => Some('ˋ'),
        '<' => Some('‹'),
        '>' => Some('›'),
        '[' => Some('⁅'),
        ']' => Some('⁆'),
        '*' => Some('∗'),
        '~' => Some('∼'),
        '|' => Some('ǀ'),
        '\\' => Some('⧵'),
        '_' => Some('ˍ'),
        _ => None,
    })
}

/// A value shown verbatim in chat, as inline code: nothing inside a code span is formatted or
/// linked, the one character that could end the span early is replaced, and mentions and URLs
/// are defanged for clients that look inside code anyway.
pub fn chat_code(text: &str, max_chars: usize) -> String {
    let inner = defang(&single_line(text, max_chars), false, |c| match c {
        '`' => Some('ˋ'),
        '<' => Some('‹'),
        '>' => Some('›'),
        _ => None,
    });
    if inner.trim().is_empty() {
        "`-`".to_string()
    } else {
        format!("`{inner}`")
    }
}

/// Applies `replace`, and puts an invisible word joiner after `@` before a name and inside
/// `://`, which stops mentions and auto-linking while reading the same.
/// With `break_domains`, also after a `.` inside a name, which stops bare domain names
/// (`www.evil.example`) from being linked; only for prose, where nobody copies a value.
fn defang(line: &str, break_domains: bool, replace: impl Fn(char) -> Option<char>) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(replacement) = replace(c) {
            out.push(replacement);
            continue;
        }
        out.push(c);
        let next = chars.peek().copied();
        let mention = c == '@' && next.is_some_and(char::is_alphanumeric);
        let scheme = c == ':' && next == Some('/');
        let domain = break_domains && c == '.' && next.is_some_and(char::is_alphanumeric);
        if mention || scheme || domain {
            out.push(WORD_JOINER);
        }
    }
    out
}

const WORD_JOINER: char = '\u{2060}';

/// Text from an event, for a log field: control characters escaped so a value cannot start a
/// new log line, no quotes added, absent values shown as `-`.
pub struct LogText<'a>(pub Option<&'a str>);

impl std::fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some(text) => {
                for c in text.chars() {
                    if c.is_control()
                        || is_invisible_format(c)
                        || matches!(c, '\u{2028}' | '\u{2029}')
                    {
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
    fn single_line_removes_breaks_and_bidi_controls() {
        assert_eq!(
            single_line("a\r\nSubject: x\u{2028}y", 100),
            "a Subject: x y"
        );
        assert_eq!(single_line("evil\u{202E}txt.exe", 100), "eviltxt.exe");
        assert_eq!(single_line("abcdef", 4), "abc…");
        assert_eq!(single_line("abcd", 4), "abcd");
        let padded = format!(
            "ua{}Source IP   10.0.0.1\u{3164}\u{3164}x",
            " \u{a0}\u{2003}".repeat(50)
        );
        assert_eq!(single_line(&padded, 100), "ua Source IP 10.0.0.1 x");
    }

    #[test]
    fn ascii_line_is_printable_ascii_within_limit() {
        let line = ascii_line("trail\u{7}\nnamé \u{1F600}", 100);
        assert_eq!(line, "trail nam? ?");
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
