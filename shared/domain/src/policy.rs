//! The policy gate. (Placeholder API; rules being written.)

use serde::{Deserialize, Serialize};

use crate::manifest::GantryManifest;
use crate::report::BuildLimits;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy.yaml is not valid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    pub allowed: bool,
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub build: BuildLimits,
    pub max_heals: u32,
}

impl Policy {
    pub fn from_yaml(_text: &str) -> Result<Policy, PolicyError> {
        Ok(Policy { build: BuildLimits::default(), max_heals: 3 })
    }

    pub fn evaluate(&self, _manifest: &GantryManifest) -> PolicyVerdict {
        PolicyVerdict { allowed: true, violations: Vec::new() }
    }
}
