//! The shape of policy.yaml, as written. Unknown keys are refused so that a misspelt rule or
//! limit fails loudly at start-up instead of silently not applying.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::manifest::Stack;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    pub version: u32,
    pub allowed_stacks: Vec<Stack>,
    pub limits: LimitsConfig,
    pub build: BuildConfig,
    pub forbidden_paths: Vec<RuleConfig>,
    pub forbidden_content: Vec<RuleConfig>,
    pub secrets: Vec<RuleConfig>,
    pub audit_command: AuditConfig,
    /// Optional so that a policy written before the generative brain still loads.
    #[serde(default)]
    pub brain: Option<BrainLimitsConfig>,
}

/// What a generative brain may spend.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BrainLimitsConfig {
    /// Tokens (input, output and cache, summed) a mission may use across its consultation,
    /// drafts and heals.
    pub max_tokens_per_mission: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsConfig {
    pub max_files: usize,
    pub max_file_bytes: usize,
    pub max_total_bytes: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BuildConfig {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub max_pids: u64,
    pub max_heals: u32,
}

/// One pattern rule: a path, content or secret pattern, or an allowed audit command form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleConfig {
    pub id: String,
    pub pattern: String,
    pub description: String,
    /// Excuses a match when the matched text also matches this (e.g. `.env.example`).
    #[serde(default)]
    pub allow: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditConfig {
    pub forbidden_metacharacters: Vec<String>,
    /// Named regex pieces, spliced into `allowed` patterns wherever `{name}` appears.
    #[serde(default)]
    pub fragments: BTreeMap<String, String>,
    pub allowed: Vec<RuleConfig>,
}
