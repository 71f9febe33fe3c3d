//! The mission record, its conversation turns and its pipeline steps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::consultation::{Consultation, ConsultationStatus};
use crate::ids::{MissionId, Subject};
use crate::status::{MissionStatus, TransitionError};

/// Token usage reported by a brain, summed over a mission (or one call).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
    /// Input tokens served from the provider's prompt cache.
    #[serde(default)]
    pub cache_read: u64,
    /// Input tokens written to the provider's prompt cache.
    #[serde(default)]
    pub cache_write: u64,
    /// Estimated from the configured price table; 0 for local models and the offline brain.
    #[serde(default)]
    pub cost_usd: f64,
    /// Model calls counted in this usage.
    #[serde(default)]
    pub calls: u32,
}

impl TokenUsage {
    pub fn add(&mut self, other: TokenUsage) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.cost_usd += other.cost_usd;
        self.calls += other.calls;
    }

    /// Every token processed, as the mission's budget counts them.
    pub fn total_tokens(&self) -> u64 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

/// One model call, as recorded in the evidence: which model, why it stopped, what it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCall {
    pub model_id: String,
    /// The provider's stop reason as it said it (`end_turn`, `tool_use`, `max_tokens`, `stop`, …).
    pub stop_reason: String,
    pub usage: TokenUsage,
}

/// A mission's token budget (`brain.max_tokens_per_mission`) is spent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the mission used {used} tokens of its budget of {limit} (brain.max_tokens_per_mission)")]
pub struct BudgetExceeded {
    pub used: u64,
    pub limit: u64,
}

/// Whether a mission that has used `used` may make another model call: not once it has reached
/// its budget, since any call would exceed it.
pub fn check_budget(used: &TokenUsage, limit: u64) -> Result<(), BudgetExceeded> {
    let used = used.total_tokens();
    if used >= limit {
        Err(BudgetExceeded { used, limit })
    } else {
        Ok(())
    }
}

/// Whether a call's usage took the mission past its budget (checked after every call).
pub fn within_budget(used: &TokenUsage, limit: u64) -> Result<(), BudgetExceeded> {
    let total = used.total_tokens();
    if total > limit {
        Err(BudgetExceeded { used: total, limit })
    } else {
        Ok(())
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
    /// Where `branch` was committed: a local bare repository's path, or the hosted repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the last build's audit said about each feature (empty before a build).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<crate::report::FeatureResult>,
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
            repo: None,
            trace_url: None,
            evidence_url: None,
            error: None,
            features: Vec::new(),
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The features the person consented to; empty for a direct build.
    pub fn approved_features(&self) -> &[String] {
        self.consultation.as_ref().map_or(&[], |c| c.features.as_slice())
    }

    /// Each approved feature as the last build left it (see [`crate::report::feature_outcomes`]).
    pub fn feature_outcomes(&self) -> Vec<crate::report::FeatureOutcome> {
        crate::report::feature_outcomes(self.approved_features(), &self.features)
    }

    /// Moves the mission to `to` if the transition table allows it.
    pub fn advance(&mut self, to: MissionStatus, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.status = self.status.transition(to)?;
        self.updated_at = now;
        Ok(())
    }

    /// The person's own choices for the run, when a message names them.
    pub fn choose_delivery(&mut self, deploy: Option<bool>, publish: Option<bool>) {
        if let Some(deploy) = deploy {
            self.deploy = deploy;
        }
        if let Some(publish) = publish {
            self.publish = publish;
        }
    }

    /// Takes a brain's reply to a consultation turn: its consultation becomes the mission's, except
    /// that only consent (decided by [`Mission::consent`], never by a brain) makes it ready; a newly
    /// attached design image replaces the old one, else the old one stays; the plan names the title
    /// once it settles; and the reply's tokens count against the mission.
    pub fn absorb_reply(
        &mut self,
        mut consultation: Consultation,
        attached_image: Option<String>,
        usage: TokenUsage,
        now: DateTime<Utc>,
    ) {
        if consultation.status == ConsultationStatus::ReadyToBuild {
            consultation.status = ConsultationStatus::NeedsConfirmation;
        }
        let previous_image = self.consultation.as_ref().and_then(|c| c.brief.design_image.clone());
        match attached_image {
            Some(image) => consultation.brief.design_image = Some(image),
            None if consultation.brief.design_image.is_none() => {
                consultation.brief.design_image = previous_image
            }
            None => {}
        }
        if let Some(title) = plan_title(&consultation) {
            self.title = title;
        }
        self.consultation = Some(consultation);
        self.tokens.add(usage);
        self.updated_at = now;
    }

    /// Consent to the proposal: the consultation is ready to build and the mission is QUEUED. Only
    /// a consultation awaiting input can consent, so a second "proceed" changes nothing.
    pub fn consent(
        &mut self,
        attached_image: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if self.status != MissionStatus::AwaitingInput {
            return Err(TransitionError { from: self.status, to: MissionStatus::Queued });
        }
        let mut consultation = self.consultation.clone().unwrap_or_default();
        consultation.status = ConsultationStatus::ReadyToBuild;
        consultation.question = None;
        if attached_image.is_some() {
            consultation.brief.design_image = attached_image;
        }
        self.consultation = Some(consultation);
        self.advance(MissionStatus::Queued, now)
    }

    /// A retry: the mission is dispatched once more, from the start or from the delivery step that
    /// failed (its resume point is kept), with a fresh count of attempts and heals.
    pub fn retry(&mut self, now: DateTime<Utc>) -> Result<(), RetryRefused> {
        if !self.can_retry() {
            return Err(if self.status.is_retryable() {
                RetryRefused::NeverApproved
            } else {
                RetryRefused::Status(self.status)
            });
        }
        self.advance(MissionStatus::Queued, now).map_err(|_| RetryRefused::Status(self.status))?;
        self.dispatches += 1;
        self.error = None;
        self.attempts = 0;
        self.heals = 0;
        Ok(())
    }

    /// The owner cancels the mission, in flight or still consulting.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if !self.status.is_cancellable() {
            return Err(TransitionError { from: self.status, to: MissionStatus::Cancelled });
        }
        self.advance(MissionStatus::Cancelled, now)?;
        self.error = Some("cancelled by the owner".into());
        Ok(())
    }

    /// The mission's tokens went past its budget: it ends FAILED, saying so. Refused (and nothing
    /// changes) when the mission has already ended.
    pub fn exhaust_budget(
        &mut self,
        spent: &BudgetExceeded,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.advance(MissionStatus::Failed, now)?;
        self.error = Some(spent.to_string());
        Ok(())
    }
}

/// Why a mission cannot be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RetryRefused {
    #[error("This consultation was never approved: continue it instead of retrying.")]
    NeverApproved,
    #[error("A {0} mission cannot be retried.")]
    Status(MissionStatus),
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

/// The plan's name for the app: the name the person gave it, else its kind's name; `None` while
/// the plan names neither. Titles come from here once there is a plan, not from the prompt.
/// Only words survive (letters, digits, spaces and `'-&.,:!?`): a title is also spoken.
pub fn plan_title(consultation: &Consultation) -> Option<String> {
    let words = |title: &str| -> String {
        let kept: String = title
            .chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace() || "'-&.,:!?".contains(*c))
            .collect();
        title_from(kept.trim())
    };
    let named = consultation.brief.title.as_deref().map(words).filter(|t| !t.is_empty());
    named.or_else(|| consultation.brief.kind.map(|kind| kind.title().to_owned()))
}

/// A new mission's title: the plan's, else the first words of the request.
pub fn title_for(consultation: Option<&Consultation>, message: &str) -> String {
    consultation.and_then(plan_title).unwrap_or_else(|| title_from(message))
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

    fn consulting() -> Mission {
        let mut mission =
            Mission::new(Subject::new("ada"), "a todo app", MissionStatus::AwaitingInput, Utc::now());
        let mut consultation = Consultation::new();
        consultation.status = ConsultationStatus::NeedsConfirmation;
        consultation.brief.design_image = Some("uploads/old.png".into());
        mission.consultation = Some(consultation);
        mission
    }

    #[test]
    fn a_brain_reply_never_makes_a_consultation_ready_and_keeps_the_image() {
        let mut mission = consulting();
        let mut reply = Consultation::new();
        reply.status = ConsultationStatus::ReadyToBuild;
        mission.absorb_reply(reply.clone(), None, TokenUsage { input: 3, ..Default::default() }, Utc::now());
        let absorbed = mission.consultation.clone().unwrap();
        assert_eq!(absorbed.status, ConsultationStatus::NeedsConfirmation);
        assert_eq!(absorbed.brief.design_image.as_deref(), Some("uploads/old.png"));
        assert_eq!(mission.tokens.input, 3);
        mission.absorb_reply(reply, Some("uploads/new.png".into()), TokenUsage::default(), Utc::now());
        assert_eq!(mission.consultation.unwrap().brief.design_image.as_deref(), Some("uploads/new.png"));
    }

    #[test]
    fn consent_queues_once_and_only_from_a_consultation_awaiting_input() {
        let mut mission = consulting();
        mission.consent(None, Utc::now()).unwrap();
        assert_eq!(mission.status, MissionStatus::Queued);
        assert_eq!(mission.consultation.as_ref().unwrap().status, ConsultationStatus::ReadyToBuild);
        assert!(mission.consent(None, Utc::now()).is_err(), "a second proceed changes nothing");
    }

    #[test]
    fn retry_needs_an_approved_plan_and_a_retryable_status() {
        let mut never_approved = consulting();
        never_approved.advance(MissionStatus::Cancelled, Utc::now()).unwrap();
        assert_eq!(never_approved.retry(Utc::now()), Err(RetryRefused::NeverApproved));

        let mut mission = consulting();
        mission.consent(None, Utc::now()).unwrap();
        assert_eq!(mission.retry(Utc::now()), Err(RetryRefused::Status(MissionStatus::Queued)));
        mission.status = MissionStatus::Failed;
        (mission.attempts, mission.heals, mission.error) = (3, 2, Some("boom".into()));
        mission.retry(Utc::now()).unwrap();
        assert_eq!(
            (mission.status, mission.dispatches, mission.attempts, mission.heals),
            (MissionStatus::Queued, 1, 0, 0)
        );
        assert!(mission.error.is_none());
    }

    #[test]
    fn cancel_and_an_exhausted_budget_end_the_mission_with_their_reason() {
        let mut mission = consulting();
        mission.cancel(Utc::now()).unwrap();
        assert_eq!(mission.status, MissionStatus::Cancelled);
        assert!(mission.cancel(Utc::now()).is_err(), "an ended mission cannot be cancelled again");

        let mut spent = consulting();
        spent.exhaust_budget(&BudgetExceeded { used: 11, limit: 10 }, Utc::now()).unwrap();
        assert_eq!(spent.status, MissionStatus::Failed);
        assert!(spent.error.unwrap().contains("10"));
    }

    #[test]
    fn titles_are_short_and_whole_worded() {
        assert_eq!(title_from("A todo app with categories."), "A todo app with categories");
        let long = "word ".repeat(40);
        let title = title_from(&long);
        assert!(title.len() <= 60 && title.ends_with("word"));
    }

    #[test]
    fn titles_come_from_the_plan_once_there_is_one() {
        let prompt = "I would like you to build me a small app where I can keep my tasks for the week";
        let mut consultation = Consultation::new();
        assert_eq!(title_for(Some(&consultation), prompt), title_from(prompt));
        consultation.brief.kind = Some(crate::consultation::AppKind::Todo);
        assert_eq!(title_for(Some(&consultation), prompt), "To-Do List");
        consultation.brief.title = Some("  Week Planner ".into());
        assert_eq!(title_for(Some(&consultation), prompt), "Week Planner");
        consultation.brief.title = Some("🚀 Rocket Notes *beta*".into());
        assert_eq!(title_for(Some(&consultation), prompt), "Rocket Notes beta");
        consultation.brief.title = Some("🚀".into());
        assert_eq!(title_for(Some(&consultation), prompt), "To-Do List");
        assert_eq!(title_for(None, prompt), title_from(prompt));
    }

    #[test]
    fn the_budget_counts_every_token_and_stops_at_its_limit() {
        let mut used =
            TokenUsage { input: 600, output: 300, cache_read: 50, cache_write: 50, ..Default::default() };
        assert_eq!(used.total_tokens(), 1000);
        assert!(check_budget(&used, 1001).is_ok());
        assert!(within_budget(&used, 1000).is_ok());
        assert_eq!(check_budget(&used, 1000), Err(BudgetExceeded { used: 1000, limit: 1000 }));
        used.add(TokenUsage { output: 1, calls: 1, cost_usd: 0.5, ..Default::default() });
        assert_eq!(within_budget(&used, 1000), Err(BudgetExceeded { used: 1001, limit: 1000 }));
        assert_eq!(used.calls, 1);
        assert!((used.cost_usd - 0.5).abs() < f64::EPSILON);
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
