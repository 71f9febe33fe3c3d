//! The state object that flows through `statemachine/mission.asl.json`. Every step receives it
//! whole and returns it whole; fields a step does not know are carried through untouched.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use gantry_domain::MissionId;

use crate::contract::{ErrorName, Outcome};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildJobUrls {
    pub job_url: String,
    pub report_url: String,
    pub log_url: String,
    /// Where the builder PUTs a passed build's output bundle (see `output_bundle`).
    #[serde(default)]
    pub output_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    #[serde(rename = "Error", default)]
    pub error: ErrorName,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineState {
    pub mission_id: MissionId,
    pub deploy: bool,
    pub publish: bool,
    #[serde(default)]
    pub dispatch: u32,
    /// `deploy` or `publish`: a retry that starts at that step (the state machine's first Choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_heals: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_allowed: Option<bool>,
    /// Refused only for violations a heal may repair: the state machine heals instead of blocking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_repairable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_passed: Option<bool>,
    /// Whether the latest build was stopped at its time limit: a run that ends on it is TIMEOUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_timed_out: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_job: Option<BuildJobUrls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_failure: Option<Failure>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PipelineState {
    pub fn new(mission_id: MissionId, deploy: bool, publish: bool, dispatch: u32) -> Self {
        Self {
            mission_id,
            deploy,
            publish,
            dispatch,
            resume_at: None,
            attempt: None,
            max_heals: None,
            policy_allowed: None,
            policy_repairable: None,
            build_passed: None,
            build_timed_out: None,
            build_job: None,
            outcome: None,
            failure: None,
            build_failure: None,
            evidence_failure: None,
            extra: Map::new(),
        }
    }

    pub fn attempt(&self) -> u32 {
        self.attempt.unwrap_or(1)
    }
}
