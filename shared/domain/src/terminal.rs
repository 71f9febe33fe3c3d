//! Text from a build, a model or a user, made safe to print on an operator's terminal.
//!
//! A terminal obeys control characters: ESC starts sequences that retitle the window (OSC),
//! clear the screen or move the cursor (CSI), BEL rings, CR rewrites the line, and the C1
//! controls (U+0080..=U+009F; U+009B is a one-character CSI) do the same on some terminals.
//! Bidirectional overrides reorder what is shown ("Trojan Source"). None of these may reach a
//! terminal from text Gantry did not write itself.
//!
//! The escape: a C0 control or DEL becomes its Unicode Control Picture (ESC → `␛` U+241B,
//! BEL → `␇`, CR → `␍`, NUL → `␀`, DEL → `␡`), so the text stays readable and shows where the
//! control was; a C1 control or a bidi control becomes the visible text `\u{9b}` (its code
//! point in Rust's escape notation). `\n` and `\t` are kept. Text with nothing to escape is
//! borrowed, not copied.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character except `\n` and `\t` made visible (see the module docs).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' => safe.push(c),
            // The Control Pictures block maps U+0000..=U+001F one to one, and DEL to U+2421.
            '\u{0}'..='\u{1f}' => safe.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => safe.push('\u{2421}'),
            c if is_unsafe(c) => safe.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => safe.push(c),
        }
    }
    Cow::Owned(safe)
}

/// A JSON document made safe to print: serializers already escape C0 controls inside strings,
/// but pass C1 and bidi controls through raw; those become `\uXXXX` escapes, which leave the
/// JSON's meaning unchanged (such characters only ever occur inside strings).
pub fn terminal_safe_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut safe = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) {
            safe.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_controls(text: &str) -> Vec<char> {
        text.chars().filter(|&c| is_unsafe(c)).collect()
    }

    #[test]
    fn plain_text_is_borrowed_unchanged_with_its_newlines_and_tabs() {
        let text = "ALL TESTS PASSED\n\tok — ünïcode ✓";
        assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn an_osc_title_a_csi_clear_and_a_colour_become_visible_text() {
        let hostile = "\u{1b}]0;title\u{7}\u{1b}[2J\u{1b}[32mALL TESTS PASSED";
        let safe = terminal_safe(hostile);
        assert_eq!(safe, "␛]0;title␇␛[2J␛[32mALL TESTS PASSED");
        assert!(raw_controls(&safe).is_empty());
    }

    #[test]
    fn bel_and_a_carriage_return_overwrite_are_escaped() {
        assert_eq!(terminal_safe("ring\u{7}"), "ring␇");
        assert_eq!(terminal_safe("FAILED\rPASSED"), "FAILED␍PASSED");
        assert_eq!(terminal_safe("nul\u{0} del\u{7f}"), "nul␀ del␡");
    }

    #[test]
    fn c1_controls_and_bidi_overrides_are_escaped_by_code_point() {
        assert_eq!(terminal_safe("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(terminal_safe("a\u{85}b"), "a\\u{85}b");
        assert_eq!(terminal_safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert!(raw_controls(&terminal_safe("\u{80}\u{9f}\u{2066}")).is_empty());
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_c1_or_bidi_controls() {
        let json =
            serde_json::to_string(&serde_json::json!({"detail": "\u{1b}[2J\u{9b}2J\u{202e}x\n"})).unwrap();
        let safe = terminal_safe_json(&json);
        assert!(raw_controls(&safe).is_empty(), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["detail"], "\u{1b}[2J\u{9b}2J\u{202e}x\n");
    }
}
