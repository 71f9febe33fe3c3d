//! A very small template language, enough for the architect's files and no more.
//!
//! A line that is only a marker comment keeps or drops the lines up to its `@end`:
//! `<!--@if search-->` in HTML, `/*@if search*/` in CSS and JavaScript. The condition is one flag,
//! `!flag`, or `a|b` (any of them); blocks nest. Then `{{name}}` slots are filled in one pass, so
//! a value (which may be a person's text) is never itself read as template.

use std::collections::BTreeSet;

/// The flags a template is rendered with: feature keys, `kind-<kind>`, `design`, `data`, ….
pub(crate) type Flags = BTreeSet<String>;

enum Marker<'a> {
    If(&'a str),
    End,
}

/// Keeps or drops the conditional blocks of `template`, then fills its slots.
pub(crate) fn render(template: &str, flags: &Flags, slots: &[(&str, &str)]) -> String {
    fill(&select(template, flags), slots)
}

fn marker(line: &str) -> Option<Marker<'_>> {
    let line = line.trim();
    let inner = line
        .strip_prefix("<!--")
        .and_then(|rest| rest.strip_suffix("-->"))
        .or_else(|| line.strip_prefix("/*").and_then(|rest| rest.strip_suffix("*/")))?
        .trim();
    if inner == "@end" {
        return Some(Marker::End);
    }
    inner.strip_prefix("@if ").map(|condition| Marker::If(condition.trim()))
}

fn holds(condition: &str, flags: &Flags) -> bool {
    condition.split('|').map(str::trim).any(|term| match term.strip_prefix('!') {
        Some(flag) => !flags.contains(flag),
        None => flags.contains(term),
    })
}

/// The lines of `template` whose enclosing conditions all hold. A stray `@end` is ignored and an
/// unclosed block runs to the end, so a template mistake never loses the rest of a file.
fn select(template: &str, flags: &Flags) -> String {
    let mut open: Vec<bool> = Vec::new();
    let mut out = String::with_capacity(template.len());
    for line in template.split_inclusive('\n') {
        match marker(line) {
            Some(Marker::If(condition)) => open.push(holds(condition, flags)),
            Some(Marker::End) => {
                open.pop();
            }
            None if open.iter().all(|keep| *keep) => out.push_str(line),
            None => {}
        }
    }
    out
}

/// Fills every `{{name}}` that names a slot; anything else between braces is left as written.
fn fill(text: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let slot = after.find("}}").and_then(|end| {
            slots.iter().find(|(name, _)| *name == &after[..end]).map(|(_, value)| (end, *value))
        });
        match slot {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text for HTML content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(names: &[&str]) -> Flags {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn blocks_are_kept_only_when_their_condition_holds() {
        let template = "a\n<!--@if x-->\nb\n<!--@end-->\n/*@if !x*/\nc\n/*@end*/\nd\n";
        assert_eq!(render(template, &flags(&["x"]), &[]), "a\nb\nd\n");
        assert_eq!(render(template, &flags(&[]), &[]), "a\nc\nd\n");
    }

    #[test]
    fn blocks_nest_and_alternatives_mean_any() {
        let template = "/*@if a|b*/\n1\n/*@if c*/\n2\n/*@end*/\n3\n/*@end*/\n";
        assert_eq!(render(template, &flags(&["b"]), &[]), "1\n3\n");
        assert_eq!(render(template, &flags(&["a", "c"]), &[]), "1\n2\n3\n");
        assert_eq!(render(template, &flags(&["c"]), &[]), "");
    }

    #[test]
    fn a_marker_must_be_the_whole_line() {
        let template = "x = 1; /*@if nope*/\ny\n";
        assert_eq!(render(template, &flags(&[]), &[]), template);
    }

    #[test]
    fn slots_are_filled_once_and_values_are_not_rescanned() {
        let out = render("<h1>{{title}}</h1>{{unknown}} {{", &flags(&[]), &[("title", "{{title}} & co")]);
        assert_eq!(out, "<h1>{{title}} & co</h1>{{unknown}} {{");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<b class="x">Tom & Jerry's</b>"#),
            "&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;"
        );
    }
}
