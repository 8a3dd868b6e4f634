//! trailwatch's prose and the event's text inside it.
//!
//! Reasons, next steps and coverage details are sentences trailwatch writes around values that
//! came from the event or from AWS's answers about what the event named (a bucket name, an
//! error code, a trail's ARN). Each such value is marked with [`code`], so every renderer can
//! tell the two apart ([`spans`]): trailwatch's own words are shown as written, and only the
//! marked values are treated as attacker text (defanged in email, a code span in chat).

/// A value from the event inside prose, in backticks; a backtick inside it is replaced by a
/// look-alike so the span cannot end early.
pub fn code(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "ˋ"))
}

/// The parts of a sentence: `(false, prose)` and `(true, value)` in order. Prose never holds a
/// backtick, and [`code`] keeps them out of values, so the split is exact.
pub fn spans(text: &str) -> impl Iterator<Item = (bool, &str)> {
    text.split('`')
        .enumerate()
        .map(|(index, part)| (index % 2 == 1, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_marked_and_found_again() {
        let sentence = format!("s3BucketName set to {}: check it", code("evil`.example"));
        assert_eq!(sentence, "s3BucketName set to `evilˋ.example`: check it");
        let parts: Vec<(bool, &str)> = spans(&sentence).collect();
        assert_eq!(
            parts,
            [
                (false, "s3BucketName set to "),
                (true, "evilˋ.example"),
                (false, ": check it")
            ]
        );
    }
}
