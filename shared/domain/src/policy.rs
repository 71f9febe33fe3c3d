//! The policy gate: every drafted manifest, healed ones included, is checked against policy.yaml
//! before anything is built. One YAML file drives the gate everywhere (Lambda, `gantry serve`,
//! `gantry policy check`), so its rules are data; this module only compiles and applies them.

mod audit;
mod config;
mod node;
mod rules;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::manifest::{self, GantryManifest, Stack};
use crate::report::BuildLimits;

use self::audit::AuditAllowList;
use self::config::PolicyFile;
use self::rules::{line_at, PatternRule, Redactions};

/// The repository's policy.yaml, embedded so the binary works when `GANTRY_POLICY` is unset.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../policy.yaml");

/// The only policy.yaml `version` this build understands.
const SUPPORTED_VERSION: u32 = 1;

/// At most this many violations are listed; a hostile manifest must not make the report huge.
pub const MAX_VIOLATIONS: usize = 100;

/// The `file` named by violations of manifest-wide rules (stack, limits, project name).
const MANIFEST_FILE: &str = "manifest";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy.yaml is not valid: {0}")]
    Invalid(String),
    #[error("policy.yaml could not be read as a policy: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("policy.yaml rule `{rule}` has an invalid regex: {source}")]
    Regex {
        rule: String,
        #[source]
        source: Box<regex::Error>,
    },
}

/// One broken rule. `file` is the manifest path, or `manifest` / `audit_command` / `run_command`
/// for rules about the manifest as a whole; `line` (1-based) is set wherever the rule matched
/// text, and absent for rules about a whole file or the whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    /// A heal may repair it (a dependency outside the curated set, or a range the set cannot
    /// satisfy); every other violation ends the mission BLOCKED.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repairable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    pub allowed: bool,
    pub violations: Vec<Violation>,
    /// Refused, and every violation is repairable: the pipeline heals (within `max_heals`)
    /// instead of blocking.
    #[serde(default)]
    pub repairable: bool,
}

/// Size limits on what a brain may draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    pub max_files: usize,
    pub max_file_bytes: usize,
    pub max_total_bytes: usize,
}

/// The default `brain.max_tokens_per_mission` when policy.yaml has no `brain` section.
pub const DEFAULT_MAX_TOKENS_PER_MISSION: u64 = 2_000_000;

#[derive(Debug, Clone)]
pub struct Policy {
    pub build: BuildLimits,
    pub max_heals: u32,
    pub limits: FileLimits,
    /// Tokens a mission may spend with a generative brain (consultation, drafts and heals).
    pub max_tokens_per_mission: u64,
    allowed_stacks: Vec<Stack>,
    forbidden_paths: Vec<PatternRule>,
    forbidden_content: Vec<PatternRule>,
    secrets: Vec<PatternRule>,
    audit: AuditAllowList,
}

impl Policy {
    /// Parses and compiles a policy. Every regex is compiled here, once; a bad one is an error
    /// naming its rule, so a broken policy stops start-up instead of letting manifests through.
    pub fn from_yaml(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = serde_yaml::from_str(text)?;
        if file.version != SUPPORTED_VERSION {
            return Err(PolicyError::Invalid(format!(
                "version {} is not supported (expected {SUPPORTED_VERSION})",
                file.version
            )));
        }
        if file.allowed_stacks.is_empty() {
            return Err(PolicyError::Invalid(
                "allowed_stacks is empty, so nothing could be built".to_owned(),
            ));
        }
        let limits = FileLimits {
            max_files: file.limits.max_files,
            max_file_bytes: file.limits.max_file_bytes,
            max_total_bytes: file.limits.max_total_bytes,
        };
        let build = BuildLimits {
            memory_mb: file.build.memory_mb,
            timeout_seconds: file.build.timeout_seconds,
            max_pids: file.build.max_pids,
        };
        let max_tokens_per_mission =
            file.brain.as_ref().map_or(DEFAULT_MAX_TOKENS_PER_MISSION, |b| b.max_tokens_per_mission);
        let zero_limit = [
            ("brain.max_tokens_per_mission", max_tokens_per_mission),
            ("limits.max_files", limits.max_files as u64),
            ("limits.max_file_bytes", limits.max_file_bytes as u64),
            ("limits.max_total_bytes", limits.max_total_bytes as u64),
            ("build.memory_mb", build.memory_mb),
            ("build.timeout_seconds", build.timeout_seconds),
            ("build.max_pids", build.max_pids),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0);
        if let Some((name, _)) = zero_limit {
            return Err(PolicyError::Invalid(format!("{name} must be greater than zero")));
        }

        let compile = |rules: Vec<config::RuleConfig>| -> Result<Vec<PatternRule>, PolicyError> {
            rules.into_iter().map(PatternRule::compile).collect()
        };
        let policy = Policy {
            build,
            max_heals: file.build.max_heals,
            limits,
            max_tokens_per_mission,
            allowed_stacks: file.allowed_stacks,
            forbidden_paths: compile(file.forbidden_paths)?,
            forbidden_content: compile(file.forbidden_content)?,
            secrets: compile(file.secrets)?,
            audit: AuditAllowList::compile(file.audit_command)?,
        };
        policy.check_unique_ids()?;
        Ok(policy)
    }

    /// The policy embedded from the repository's policy.yaml.
    pub fn default_policy() -> Result<Policy, PolicyError> {
        Self::from_yaml(DEFAULT_POLICY_YAML)
    }

    pub fn allowed_stacks(&self) -> &[Stack] {
        &self.allowed_stacks
    }

    /// The ids of the rules a `node` manifest is checked against besides policy.yaml's, which
    /// come from the curated dependency set (see `crate::node`).
    pub fn node_rule_ids() -> &'static [&'static str] {
        &node::RULE_IDS
    }

    /// The ids of the configured path, content and secret rules, for reports and tests that
    /// must cover every rule.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.forbidden_paths.iter().chain(&self.forbidden_content).chain(&self.secrets).map(|r| r.id.as_str())
    }

    /// What a drafting brain is told about the rules: each path, content and secret rule's id and
    /// description, the audit command's allowed forms and its forbidden metacharacters.
    pub fn rules_for_prompt(&self) -> PromptRules<'_> {
        PromptRules {
            forbidden: self
                .forbidden_paths
                .iter()
                .chain(&self.forbidden_content)
                .chain(&self.secrets)
                .map(|r| (r.id.as_str(), r.description.as_str()))
                .collect(),
            audit_forms: self.audit.form_list().collect(),
            audit_metacharacters: self.audit.metacharacters().iter().map(String::as_str).collect(),
        }
    }

    /// Checks a manifest against every rule and lists what it breaks (up to `MAX_VIOLATIONS`).
    pub fn evaluate(&self, manifest: &GantryManifest) -> PolicyVerdict {
        let mut out = Collector::default();

        if !self.allowed_stacks.contains(&manifest.stack) {
            out.push(manifest_violation(
                "stack.not_allowed",
                format!("the stack `{}` is not allowed by this policy", manifest.stack),
            ));
        }
        if let Err(errors) = manifest::validate(manifest) {
            for error in errors {
                let rule = error.rule().to_owned();
                let (file, message) = if error.kind.is_file_path() {
                    (error.path, error.reason)
                } else {
                    (MANIFEST_FILE.to_owned(), error.to_string())
                };
                out.push(Violation { rule, file: Some(file), line: None, message, repairable: false });
            }
        }
        self.check_sizes(manifest, &mut out);
        if manifest.stack == Stack::Node {
            node::check(crate::node::set(), manifest, &mut out);
        }

        for file in &manifest.files {
            if out.truncated {
                break;
            }
            self.check_path(&file.path, &mut out);
            let scanned = prefix(&file.content, self.limits.max_file_bytes);
            self.scan_text(&file.path, scanned, &mut out);
        }

        let audit_redactions = self.scan_text("audit_command", &manifest.audit_command, &mut out);
        self.audit.check(&manifest.audit_command, &audit_redactions, &mut out);
        if let Some(run) = manifest.run_command.as_deref() {
            self.scan_text("run_command", run, &mut out);
        }

        out.finish()
    }

    fn check_sizes(&self, manifest: &GantryManifest, out: &mut Collector) {
        let count = manifest.files.len();
        if count > self.limits.max_files {
            out.push(manifest_violation(
                "limits.max_files",
                format!("the manifest has {count} files; the limit is {}", self.limits.max_files),
            ));
        }
        let total: usize = manifest.files.iter().map(|f| f.content.len()).sum();
        if total > self.limits.max_total_bytes {
            out.push(manifest_violation(
                "limits.max_total_bytes",
                format!("the files hold {total} bytes in all; the limit is {}", self.limits.max_total_bytes),
            ));
        }
        for file in &manifest.files {
            let size = file.content.len();
            if size > self.limits.max_file_bytes {
                out.push(Violation {
                    rule: "limits.max_file_bytes".to_owned(),
                    file: Some(file.path.clone()),
                    line: None,
                    message: format!(
                        "the file holds {size} bytes; the limit is {}",
                        self.limits.max_file_bytes
                    ),
                    repairable: false,
                });
            }
        }
    }

    /// Forbidden names are matched on the normalised path, so `./.env` cannot dodge `.env`.
    fn check_path(&self, path: &str, out: &mut Collector) {
        let normalised = manifest::normalise_path(path).unwrap_or_else(|_| path.to_owned());
        for rule in &self.forbidden_paths {
            if rule.is_match(&normalised) {
                out.push(Violation {
                    rule: rule.id.clone(),
                    file: Some(path.to_owned()),
                    line: None,
                    message: format!("forbidden path: {}", rule.description),
                    repairable: false,
                });
            }
        }
    }

    /// Reports secrets and forbidden content in `text`, and returns where its secrets are so
    /// that anything else quoting the text can mask them.
    fn scan_text(&self, file: &str, text: &str, out: &mut Collector) -> Redactions {
        let mut secret_ranges = Vec::new();
        for rule in &self.secrets {
            for range in rule.matches(text) {
                out.push(Violation {
                    rule: rule.id.clone(),
                    file: Some(file.to_owned()),
                    line: Some(line_at(text, range.start)),
                    message: format!("{}; the value is redacted", rule.description),
                    repairable: false,
                });
                secret_ranges.push(range);
            }
        }
        let redactions = Redactions::new(secret_ranges);
        for rule in &self.forbidden_content {
            for range in rule.matches(text) {
                if out.is_full() {
                    out.truncated = true;
                    return redactions;
                }
                out.push(Violation {
                    rule: rule.id.clone(),
                    file: Some(file.to_owned()),
                    line: Some(line_at(text, range.start)),
                    message: format!("{}: `{}`", rule.description, redactions.excerpt(text, range)),
                    repairable: false,
                });
            }
        }
        redactions
    }

    /// Rule ids name violations in reports and evidence, so two rules may not share one.
    fn check_unique_ids(&self) -> Result<(), PolicyError> {
        let mut seen = HashSet::new();
        for id in self.rule_ids() {
            if !seen.insert(id) {
                return Err(PolicyError::Invalid(format!("rule id `{id}` is used twice")));
            }
        }
        Ok(())
    }
}

/// The policy in words, for a prompt (see `Policy::rules_for_prompt`).
#[derive(Debug, Clone)]
pub struct PromptRules<'p> {
    pub forbidden: Vec<(&'p str, &'p str)>,
    pub audit_forms: Vec<&'p str>,
    pub audit_metacharacters: Vec<&'p str>,
}

fn manifest_violation(rule: &str, message: String) -> Violation {
    Violation {
        rule: rule.to_owned(),
        file: Some(MANIFEST_FILE.to_owned()),
        line: None,
        message,
        repairable: false,
    }
}

/// The first `limit` bytes of `text`, cut on a character boundary. A file over the limit is a
/// violation already; scanning the rest would only spend time on a manifest that is refused.
fn prefix(text: &str, limit: usize) -> &str {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Collects violations up to `MAX_VIOLATIONS`, remembering whether any were dropped.
#[derive(Default)]
struct Collector {
    violations: Vec<Violation>,
    truncated: bool,
}

impl Collector {
    fn push(&mut self, violation: Violation) {
        if self.is_full() {
            self.truncated = true;
        } else {
            self.violations.push(violation);
        }
    }

    fn is_full(&self) -> bool {
        self.violations.len() >= MAX_VIOLATIONS
    }

    fn finish(mut self) -> PolicyVerdict {
        if self.truncated {
            self.violations.push(manifest_violation(
                "policy.truncated",
                format!("more than {MAX_VIOLATIONS} violations; the rest are not listed"),
            ));
        }
        let allowed = self.violations.is_empty();
        let repairable = !allowed && self.violations.iter().all(|v| v.repairable);
        PolicyVerdict { allowed, violations: self.violations, repairable }
    }
}

#[cfg(test)]
mod brain_budget_tests {
    use super::*;

    #[test]
    fn the_token_budget_is_read_defaulted_and_never_zero() {
        assert_eq!(Policy::default_policy().unwrap().max_tokens_per_mission, 2_000_000);
        let set =
            DEFAULT_POLICY_YAML.replace("max_tokens_per_mission: 2000000", "max_tokens_per_mission: 5000");
        assert_eq!(Policy::from_yaml(&set).unwrap().max_tokens_per_mission, 5000);
        let zero =
            DEFAULT_POLICY_YAML.replace("max_tokens_per_mission: 2000000", "max_tokens_per_mission: 0");
        let error = Policy::from_yaml(&zero).unwrap_err().to_string();
        assert!(error.contains("brain.max_tokens_per_mission"), "{error}");
        let without = DEFAULT_POLICY_YAML.replace("brain:\n  max_tokens_per_mission: 2000000\n", "");
        assert_ne!(without, DEFAULT_POLICY_YAML);
        assert_eq!(
            Policy::from_yaml(&without).unwrap().max_tokens_per_mission,
            DEFAULT_MAX_TOKENS_PER_MISSION
        );
        let misspelt = DEFAULT_POLICY_YAML.replace("max_tokens_per_mission:", "max_token_per_mission:");
        assert!(Policy::from_yaml(&misspelt).is_err(), "unknown keys are refused");
    }
}
