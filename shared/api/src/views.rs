//! The JSON shapes of the contract, built from domain records.

use chrono::{DateTime, Utc};
use serde::Serialize;

use gantry_domain::consultation::{Consultation, ConsultationStatus};
use gantry_domain::{Mission, MissionStatus, Stack, StepRecord};

#[derive(Debug, Serialize)]
pub struct ConsultationView {
    pub status: ConsultationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_stack: Option<Stack>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design_target: Option<String>,
    pub features: Vec<String>,
    pub confidence: f32,
}

impl From<&Consultation> for ConsultationView {
    fn from(c: &Consultation) -> Self {
        Self {
            status: c.status,
            question: c.question.clone(),
            proposed_stack: c.proposed_stack,
            design_target: c.design_target.clone(),
            features: c.features.clone(),
            confidence: c.confidence,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StepView {
    pub name: String,
    pub status: String,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&StepRecord> for StepView {
    fn from(s: &StepRecord) -> Self {
        Self {
            name: s.name.as_str().to_owned(),
            status: serde_json::to_value(s.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            attempt: s.attempt,
            started_at: s.started_at,
            ended_at: s.ended_at,
            detail: s.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub mission_id: String,
    pub status: MissionStatus,
    pub title: String,
    pub speech: String,
    pub attempts: u32,
    pub heals: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<gantry_domain::mission::DeploymentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub deploy: bool,
    pub publish: bool,
    pub steps: Vec<StepView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StatusView {
    pub fn new(mission: &Mission, steps: &[StepRecord]) -> Self {
        Self {
            mission_id: mission.id.to_string(),
            status: mission.status,
            title: mission.title.clone(),
            speech: status_speech(mission),
            attempts: mission.attempts,
            heals: mission.heals,
            url: mission.url.clone(),
            deployment: mission.deployment.clone(),
            pr_url: mission.pr_url.clone(),
            branch: mission.branch.clone(),
            trace_url: mission.trace_url.clone(),
            evidence_url: mission.evidence_url.clone(),
            error: mission.error.clone(),
            deploy: mission.deploy,
            publish: mission.publish,
            steps: steps.iter().map(StepView::from).collect(),
            created_at: mission.created_at,
            updated_at: mission.updated_at,
        }
    }
}

/// A sentence about a mission's state, short and plain enough to be spoken.
pub fn status_speech(mission: &Mission) -> String {
    use MissionStatus::*;
    let title = short(&mission.title, 60);
    let text = match mission.status {
        AwaitingInput => format!("{title} is waiting for your answer."),
        Queued => format!("{title} is queued and will start in a moment."),
        Drafting => format!("I'm drafting the code for {title}."),
        Validating => format!("I'm checking {title} against the policy."),
        Building => format!("I'm building and testing {title}, attempt {}.", mission.attempts.max(1)),
        Healing => format!("A test failed, so I'm repairing {title}."),
        Deploying => format!("{title} passed its tests and is being deployed."),
        Publishing => format!("I'm opening the pull request for {title}."),
        Deployed => format!("{title} is live."),
        PrOpened => format!("The pull request for {title} is open."),
        Success => format!("{title} is done: built, tested and delivered."),
        Blocked => format!("{title} was blocked by the policy check."),
        Failed => {
            format!("{title} failed. {}", mission.error.as_deref().map(|e| short(e, 120)).unwrap_or_default())
        }
        Timeout => format!("{title} ran out of time."),
        Cancelled => format!("{title} was cancelled."),
        Expired => format!("The conversation about {title} expired."),
    };
    speakable(&text)
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

/// Speech for Siri: plain words, at most 250 characters, cut at a word boundary.
pub fn speakable(text: &str) -> String {
    const MAX: usize = 250;
    let plain: String = text
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '#' | '<' | '>' | '[' | ']'))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    // Links are for screens; Siri would spell them out.
    let collapsed = plain
        .split_whitespace()
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            !(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."))
        })
        .collect::<Vec<_>>()
        .join(" ");
    if collapsed.chars().count() <= MAX {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(MAX - 1).collect();
    let end = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_bounded_and_plain() {
        let long = "**Bold** `code` word ".repeat(40);
        let speech = speakable(&long);
        assert!(speech.chars().count() <= 250, "{}", speech.chars().count());
        assert!(!speech.contains('*') && !speech.contains('`'));
    }

    #[test]
    fn speech_never_reads_out_links() {
        let speech =
            speakable("Your app is live at https://example.test/preview/1 and www.example.test too.");
        assert_eq!(speech, "Your app is live at and too.");
    }

    #[test]
    fn every_status_has_speech() {
        for status in MissionStatus::ALL {
            let mut m = Mission::new(gantry_domain::Subject::new("o"), "A todo app", status, Utc::now());
            m.error = Some("x".repeat(500));
            let speech = status_speech(&m);
            assert!(!speech.is_empty() && speech.chars().count() <= 250, "{status}: {speech}");
        }
    }
}
