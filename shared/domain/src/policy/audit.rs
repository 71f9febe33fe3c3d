//! The audit command allow-list. The build runs `audit_command` with `sh -c`, so a brain must not
//! be able to smuggle anything past it: the command is split on `&&`, every segment must be one of
//! a few known forms, and shell metacharacters are refused outright.

use std::collections::BTreeMap;

use super::config::{AuditConfig, RuleConfig};
use super::rules::{line_at, PatternRule, Redactions};
use super::{Collector, PolicyError, Violation};

/// The `file` every audit command violation names.
const AUDIT_FILE: &str = "audit_command";
/// The one sequence of metacharacters allowed: it separates the segments.
const SEPARATOR: &str = "&&";

#[derive(Debug, Clone)]
pub(super) struct AuditAllowList {
    metacharacters: Vec<String>,
    allowed: Vec<PatternRule>,
}

impl AuditAllowList {
    pub fn compile(config: AuditConfig) -> Result<Self, PolicyError> {
        if config.allowed.is_empty() {
            return Err(PolicyError::Invalid("audit_command.allowed lists no command forms".to_owned()));
        }
        if let Some(bad) = config.forbidden_metacharacters.iter().find(|m| m.is_empty() || *m == SEPARATOR) {
            return Err(PolicyError::Invalid(format!(
                "audit_command.forbidden_metacharacters holds {bad:?}; `&&` separates segments and \
                 an empty entry would refuse everything"
            )));
        }
        let allowed = config
            .allowed
            .into_iter()
            .map(|rule| {
                // Anchored here, not in the YAML, so a pattern can never accept a mere substring.
                let pattern = format!("^(?:{})$", expand(&rule.pattern, &config.fragments));
                let id = format!("audit_command.{}", rule.id);
                PatternRule::compile_as(RuleConfig { id, ..rule }, &pattern)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { metacharacters: config.forbidden_metacharacters, allowed })
    }

    /// The allowed forms as their descriptions (`python3 <script>.py`, …), for a brain's prompt.
    pub fn form_list(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(|r| r.description.as_str())
    }

    pub fn metacharacters(&self) -> &[String] {
        &self.metacharacters
    }

    pub fn check(&self, command: &str, redactions: &Redactions, out: &mut Collector) {
        if command.trim().is_empty() {
            // Manifest validation already reports a blank audit command.
            return;
        }
        let mut reported = Vec::new();
        for (start, segment) in segments(command) {
            let mut clean = true;
            for meta in &self.metacharacters {
                if let Some(at) = segment.find(meta.as_str()) {
                    clean = false;
                    if !reported.contains(&meta) {
                        reported.push(meta);
                        out.push(Violation {
                            rule: "audit_command.metacharacter".to_owned(),
                            file: Some(AUDIT_FILE.to_owned()),
                            line: Some(line_at(command, start + at)),
                            message: format!(
                                "the audit command contains the shell metacharacter {meta:?}; \
                                 only `&&` may join commands"
                            ),
                            repairable: false,
                        });
                    }
                }
            }
            if !clean {
                continue;
            }
            let canonical = segment.split_whitespace().collect::<Vec<_>>().join(" ");
            let line = Some(line_at(command, start));
            if canonical.is_empty() {
                out.push(Violation {
                    rule: "audit_command.empty_segment".to_owned(),
                    file: Some(AUDIT_FILE.to_owned()),
                    line,
                    message: "the audit command has an empty step around `&&`".to_owned(),
                    repairable: false,
                });
            } else if !self.allowed.iter().any(|rule| rule.is_match(&canonical)) {
                let excerpt_range = start..start + segment.len();
                out.push(Violation {
                    rule: "audit_command.not_allowed".to_owned(),
                    file: Some(AUDIT_FILE.to_owned()),
                    line,
                    message: format!(
                        "`{}` is not an allowed audit step; allowed: {}",
                        redactions.excerpt(command, excerpt_range).trim(),
                        self.forms()
                    ),
                    repairable: false,
                });
            }
        }
    }

    fn forms(&self) -> String {
        self.allowed.iter().map(|rule| rule.description.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The `&&`-separated segments of `command`, each with its byte offset.
fn segments(command: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, _) in command.match_indices(SEPARATOR) {
        parts.push((start, &command[start..at]));
        start = at + SEPARATOR.len();
    }
    parts.push((start, &command[start..]));
    parts
}

/// Splices `{name}` fragments into a pattern; each becomes a non-capturing group.
fn expand(pattern: &str, fragments: &BTreeMap<String, String>) -> String {
    fragments.iter().fold(pattern.to_owned(), |acc, (name, fragment)| {
        acc.replace(&format!("{{{name}}}"), &format!("(?:{fragment})"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_their_offsets() {
        assert_eq!(segments("a && b&&c"), vec![(0, "a "), (4, " b"), (8, "c")]);
        assert_eq!(segments("one"), vec![(0, "one")]);
        assert_eq!(segments("a &&& b"), vec![(0, "a "), (4, "& b")]);
    }

    #[test]
    fn fragments_are_spliced_as_groups() {
        let fragments = BTreeMap::from([("path".to_owned(), "[a-z]+".to_owned())]);
        assert_eq!(expand(r"sh {path}\.sh", &fragments), r"sh (?:[a-z]+)\.sh");
        assert_eq!(expand("{other}", &fragments), "{other}");
    }

    #[test]
    fn an_unknown_fragment_is_a_load_error_naming_the_rule() {
        let config = AuditConfig {
            forbidden_metacharacters: vec![";".to_owned()],
            fragments: BTreeMap::new(),
            allowed: vec![RuleConfig {
                id: "python_script".to_owned(),
                pattern: r"python3 {nowhere}\.py".to_owned(),
                description: "python3 <script>.py".to_owned(),
                allow: None,
            }],
        };
        let error = AuditAllowList::compile(config).unwrap_err();
        assert!(error.to_string().contains("audit_command.python_script"), "{error}");
    }

    #[test]
    fn the_separator_cannot_be_forbidden() {
        let config = AuditConfig {
            forbidden_metacharacters: vec!["&&".to_owned()],
            fragments: BTreeMap::new(),
            allowed: vec![RuleConfig {
                id: "true".to_owned(),
                pattern: "true".to_owned(),
                description: "true".to_owned(),
                allow: None,
            }],
        };
        assert!(matches!(AuditAllowList::compile(config), Err(PolicyError::Invalid(_))));
    }
}
