//! Compiled pattern rules, and the helpers that turn a match into a violation a person can read
//! without ever seeing a secret.

use std::ops::Range;

use regex::Regex;

use super::config::RuleConfig;
use super::PolicyError;

/// Longest excerpt of matched text quoted in a violation message, in characters.
const EXCERPT_CHARS: usize = 80;

/// A rule whose pattern was compiled once, at load.
#[derive(Debug, Clone)]
pub(super) struct PatternRule {
    pub id: String,
    pub description: String,
    regex: Regex,
    allow: Option<Regex>,
}

impl PatternRule {
    pub fn compile(config: RuleConfig) -> Result<Self, PolicyError> {
        let pattern = config.pattern.clone();
        Self::compile_as(config, &pattern)
    }

    /// Compiles `pattern` in place of the configured one (after fragment expansion or anchoring).
    pub fn compile_as(config: RuleConfig, pattern: &str) -> Result<Self, PolicyError> {
        check_id(&config.id)?;
        if config.pattern.trim().is_empty() {
            return Err(PolicyError::Invalid(format!("rule `{}` has an empty pattern", config.id)));
        }
        let regex = compile_regex(&config.id, pattern)?;
        let allow = match config.allow.as_deref() {
            Some(allow) => Some(compile_regex(&config.id, allow)?),
            None => None,
        };
        Ok(Self { id: config.id, description: config.description, regex, allow })
    }

    /// Every match in `text` that the rule's `allow` pattern does not excuse.
    pub fn matches<'t>(&'t self, text: &'t str) -> impl Iterator<Item = Range<usize>> + 't {
        self.regex
            .find_iter(text)
            .filter(move |m| !self.allow.as_ref().is_some_and(|allow| allow.is_match(m.as_str())))
            .map(|m| m.range())
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.matches(text).next().is_some()
    }
}

fn compile_regex(rule: &str, pattern: &str) -> Result<Regex, PolicyError> {
    Regex::new(pattern)
        .map_err(|source| PolicyError::Regex { rule: rule.to_owned(), source: Box::new(source) })
}

/// Rule ids appear in reports, logs and evidence, so they stay plain: `content.fork_bomb`.
fn check_id(id: &str) -> Result<(), PolicyError> {
    let plain = id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if id.is_empty() || !plain {
        return Err(PolicyError::Invalid(format!(
            "rule id `{}` must be non-empty and hold only lowercase letters, digits, `_` and `.`",
            id.escape_debug()
        )));
    }
    Ok(())
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_at(text: &str, offset: usize) -> u32 {
    let newlines = text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count();
    u32::try_from(newlines).unwrap_or(u32::MAX).saturating_add(1)
}

/// The byte ranges of `text` that hold secrets, so excerpts of it can be quoted safely.
pub(super) struct Redactions(Vec<Range<usize>>);

impl Redactions {
    pub fn new(ranges: Vec<Range<usize>>) -> Self {
        Self(ranges)
    }

    /// `text[range]` for a message: secrets masked, control characters escaped, length bounded.
    pub fn excerpt(&self, text: &str, range: Range<usize>) -> String {
        let mut shown = String::new();
        let mut at = range.start;
        while at < range.end {
            match self.0.iter().find(|secret| secret.start <= at && at < secret.end) {
                Some(secret) => {
                    shown.push_str("[REDACTED]");
                    at = secret.end.min(range.end);
                }
                None => {
                    let next = self
                        .0
                        .iter()
                        .filter(|secret| secret.start > at && secret.start < range.end)
                        .map(|secret| secret.start)
                        .min()
                        .unwrap_or(range.end);
                    shown.push_str(text.get(at..next).unwrap_or_default());
                    at = next;
                }
            }
        }
        bounded(&escape_controls(&shown))
    }
}

/// Control characters are shown escaped so a message stays on one line and cannot drive a
/// terminal; everything else is shown as written.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

fn bounded(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(EXCERPT_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, allow: Option<&str>) -> Result<PatternRule, PolicyError> {
        PatternRule::compile(RuleConfig {
            id: "content.test".to_owned(),
            pattern: pattern.to_owned(),
            description: "a test rule".to_owned(),
            allow: allow.map(str::to_owned),
        })
    }

    #[test]
    fn allow_excuses_only_the_matches_it_covers() {
        let rule = rule(r"\.env(\.\w+)?$", Some(r"\.example$")).unwrap();
        assert!(rule.is_match(".env"));
        assert!(rule.is_match(".env.local"));
        assert!(!rule.is_match(".env.example"));
    }

    #[test]
    fn an_invalid_regex_names_its_rule() {
        let error = rule("(unclosed", None).unwrap_err();
        assert!(matches!(&error, PolicyError::Regex { rule, .. } if rule == "content.test"));
        assert!(error.to_string().contains("content.test"), "{error}");
        let error = rule("ok", Some("[z-a]")).unwrap_err();
        assert!(matches!(error, PolicyError::Regex { .. }));
    }

    #[test]
    fn ids_and_patterns_must_be_plain_and_present() {
        let bad_id = PatternRule::compile(RuleConfig {
            id: "Content Rule".to_owned(),
            pattern: "x".to_owned(),
            description: String::new(),
            allow: None,
        });
        assert!(matches!(bad_id, Err(PolicyError::Invalid(_))));
        assert!(matches!(rule("  ", None), Err(PolicyError::Invalid(_))));
    }

    #[test]
    fn lines_are_one_based() {
        let text = "a\nb\nc";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 4), 3);
        assert_eq!(line_at(text, 99), 3);
    }

    #[test]
    fn excerpts_mask_secrets_escape_controls_and_stay_short() {
        let text = "curl -H token=SECRET123 x\n";
        let secret_start = text.find("SECRET123").unwrap();
        let redactions = Redactions::new(std::iter::once(secret_start..secret_start + 9).collect());
        let shown = redactions.excerpt(text, 0..text.len());
        assert_eq!(shown, "curl -H token=[REDACTED] x\\n");
        assert!(!shown.contains("SECRET"));

        let long = "y".repeat(200);
        let shown = Redactions::new(Vec::new()).excerpt(&long, 0..200);
        assert_eq!(shown.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn a_secret_straddling_the_excerpt_start_is_still_masked() {
        let text = "key=ABCDEFGH and more";
        let redactions = Redactions::new(std::iter::once(4..12).collect());
        assert_eq!(redactions.excerpt(text, 6..text.len()), "[REDACTED] and more");
    }
}
