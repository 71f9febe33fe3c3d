//! The JSON shapes of the contract, built from domain records.

use chrono::{DateTime, Utc};
use serde::Serialize;

use gantry_domain::consultation::{Consultation, ConsultationStatus};
use gantry_domain::{Mission, MissionStatus, Stack, StepRecord};

use crate::preview::PreviewOrigins;

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
    pub pr_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Where `branch` lives: a local bare repository's path, or the hosted repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Ready commands to get the delivery: clone its branch, push it to a remote of your own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitHint>,
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
            pr_url: mission.pr_url.clone(),
            branch: mission.branch.clone(),
            repo: mission.repo.clone(),
            git: GitHint::new(mission.repo.as_deref(), mission.branch.as_deref()),
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

impl StatusView {
    /// A local preview's address is `…/preview/{id}/` (or that path alone when it was built
    /// without a server); where previews have origins of their own, the answer names that.
    pub fn with_preview_origin(mut self, origins: Option<&PreviewOrigins>) -> Self {
        let (Some(origins), Some(url), Ok(id)) =
            (origins, self.url.as_deref(), self.mission_id.parse::<gantry_domain::MissionId>())
        else {
            return self;
        };
        if url.ends_with(&format!("/preview/{id}/")) {
            self.url = Some(origins.url(&id));
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitHint {
    pub clone: String,
    pub push: String,
}

/// `text` as one shell word: left alone when plain, else single-quoted.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-:@+=".contains(&b)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

impl GitHint {
    /// Commands for a repository given as a path or a URL; none for anything else.
    pub fn new(repo: Option<&str>, branch: Option<&str>) -> Option<Self> {
        let (repo, branch) = (repo?, branch?);
        if !(repo.starts_with('/') || repo.contains("://")) {
            return None;
        }
        let name = repo.trim_end_matches('/').rsplit('/').next().unwrap_or(repo);
        let dir = name.strip_suffix(".git").unwrap_or(name);
        let dir = if dir.is_empty() { "app" } else { dir };
        Some(Self {
            clone: format!(
                "git clone --branch {} {} {}",
                shell_word(branch),
                shell_word(repo),
                shell_word(dir)
            ),
            push: format!("git -C {} push <your-remote-url> HEAD:main", shell_word(dir)),
        })
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
    fn git_hints_quote_what_the_shell_would_split() {
        let hint = GitHint::new(Some("/data/repos/todo-0191a2b3.git"), Some("gantry/0191")).unwrap();
        assert_eq!(hint.clone, "git clone --branch gantry/0191 /data/repos/todo-0191a2b3.git todo-0191a2b3");
        assert_eq!(hint.push, "git -C todo-0191a2b3 push <your-remote-url> HEAD:main");
        let spaced = GitHint::new(Some("/my data/it's.git"), Some("gantry/1")).unwrap();
        assert_eq!(spaced.clone, "git clone --branch gantry/1 '/my data/it'\\''s.git' 'it'\\''s'");
        assert_eq!(GitHint::new(Some("owner/name"), Some("gantry/1")), None);
        assert_eq!(GitHint::new(None, Some("gantry/1")), None);
    }

    #[test]
    fn a_local_preview_is_announced_on_its_own_origin() {
        let mut m =
            Mission::new(gantry_domain::Subject::new("o"), "Todo", MissionStatus::Success, Utc::now());
        let origins = PreviewOrigins::localhost(9000);
        for stored in [format!("http://127.0.0.1:8080/preview/{}/", m.id), format!("/preview/{}/", m.id)] {
            m.url = Some(stored);
            let view = StatusView::new(&m, &[]).with_preview_origin(Some(&origins));
            assert_eq!(view.url, Some(format!("http://{}.localhost:9000/", m.id)));
        }
        m.url = Some("https://todo-abc.vercel.app".into());
        let view = StatusView::new(&m, &[]).with_preview_origin(Some(&origins));
        assert_eq!(view.url.as_deref(), Some("https://todo-abc.vercel.app"));
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
