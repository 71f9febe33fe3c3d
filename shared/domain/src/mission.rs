//! The mission record, its conversation turns and its pipeline steps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::consultation::Consultation;
use crate::ids::{MissionId, Subject};
use crate::status::{MissionStatus, TransitionError};

/// Token usage reported by a brain, summed over a mission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
}

impl TokenUsage {
    pub fn add(&mut self, other: TokenUsage) {
        self.input += other.input;
        self.output += other.output;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    pub id: MissionId,
    pub owner: Subject,
    pub status: MissionStatus,
    pub title: String,
    /// Absent for direct builds (`/gantry/architect`, `gantry build`).
    pub consultation: Option<Consultation>,
    pub deploy: bool,
    pub publish: bool,
    /// Object key of a manifest given up front (`gantry build --manifest`): drafting is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_key: Option<String>,
    pub attempts: u32,
    pub heals: u32,
    /// How many times the mission was handed to the orchestrator (names the execution).
    #[serde(default)]
    pub dispatches: u32,
    #[serde(default)]
    pub tokens: TokenUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where a retry picks up, set when a delivery step fails after a passing build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumePoint>,
    /// Where the build went live (`url` is its address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Optimistic-concurrency version: every write must name the version it read.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A deployment of a mission's build, as the status answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRef {
    /// `vercel` or `local`.
    pub provider: String,
    pub id: String,
    pub url: String,
}

/// A delivery step: what a retry can resume at without drafting and building again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStep {
    Deploy,
    Publish,
}

impl DeliveryStep {
    /// The step's name in `status.steps` and the state machine's `resume_at`.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryStep::Deploy => "deploy",
            DeliveryStep::Publish => "publish",
        }
    }
}

/// Build `attempt` passed, then `step` failed: a retry resumes there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumePoint {
    pub step: DeliveryStep,
    pub attempt: u32,
}

impl Mission {
    /// Whether a retry may dispatch it again: it ended in a retryable status and its build was
    /// consented to (a direct build has no consultation; a consultation must have reached
    /// READY_TO_BUILD, so cancelling one that awaited input can never turn into a build).
    pub fn can_retry(&self) -> bool {
        let approved = self
            .consultation
            .as_ref()
            .is_none_or(|c| c.status == crate::consultation::ConsultationStatus::ReadyToBuild);
        self.status.is_retryable() && approved
    }

    pub fn new(owner: Subject, title: impl Into<String>, status: MissionStatus, now: DateTime<Utc>) -> Self {
        Self {
            id: MissionId::generate(),
            owner,
            status,
            title: title.into(),
            consultation: None,
            deploy: true,
            publish: true,
            manifest_key: None,
            attempts: 0,
            heals: 0,
            dispatches: 0,
            tokens: TokenUsage::default(),
            url: None,
            deployment: None,
            resume: None,
            pr_url: None,
            branch: None,
            trace_url: None,
            evidence_url: None,
            error: None,
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// Moves the mission to `to` if the transition table allows it.
    pub fn advance(&mut self, to: MissionStatus, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.status = self.status.transition(to)?;
        self.updated_at = now;
        Ok(())
    }
}

/// A short title from the first message: its first words, without trailing punctuation.
pub fn title_from(message: &str) -> String {
    const MAX: usize = 60;
    let words: Vec<&str> = message.split_whitespace().collect();
    let mut title = String::new();
    for word in words {
        if title.len() + word.len() + 1 > MAX {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    if title.is_empty() {
        title = message.chars().take(MAX).collect();
    }
    title.trim_end_matches(['.', ',', '!', '?', ';', ':']).to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub content: String,
    pub at: DateTime<Utc>,
}

/// The step names of `status.steps`, as in `statemachine/mission.asl.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepName {
    Draft,
    Policy,
    Build,
    Heal,
    Deploy,
    Publish,
    Evidence,
    Finalize,
}

impl StepName {
    pub const ALL: [StepName; 8] = [
        StepName::Draft,
        StepName::Policy,
        StepName::Build,
        StepName::Heal,
        StepName::Deploy,
        StepName::Publish,
        StepName::Evidence,
        StepName::Finalize,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Draft => "draft",
            StepName::Policy => "policy",
            StepName::Build => "build",
            StepName::Heal => "heal",
            StepName::Deploy => "deploy",
            StepName::Publish => "publish",
            StepName::Evidence => "evidence",
            StepName::Finalize => "finalize",
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|n| n.as_str() == s).ok_or_else(|| format!("unknown step {s:?}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: StepName,
    pub status: StepStatus,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_short_and_whole_worded() {
        assert_eq!(title_from("A todo app with categories."), "A todo app with categories");
        let long = "word ".repeat(40);
        let title = title_from(&long);
        assert!(title.len() <= 60 && title.ends_with("word"));
    }

    #[test]
    fn advancing_checks_the_table() {
        let now = Utc::now();
        let mut m = Mission::new(Subject::new("owner"), "t", MissionStatus::AwaitingInput, now);
        assert!(m.advance(MissionStatus::Building, now).is_err());
        assert_eq!(m.status, MissionStatus::AwaitingInput);
        m.advance(MissionStatus::Queued, now).unwrap();
        assert_eq!(m.status, MissionStatus::Queued);
    }
}
